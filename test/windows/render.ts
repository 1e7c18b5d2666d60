// Writes the Windows package folders the Windows suite runs: for each build (Protect, sensor-only),
// agent version and health check setting, the PowerShell scripts exactly as the program renders
// them (platforms/scripts.ts) beside a fake MSI, as Distributor unpacks a zip. Also packages.json:
// folder → the MSI's file name and Property table, for the cases to name products by.
//
// Usage: ts-node test/windows/render.ts <output folder>
import * as fs from "fs";
import * as path from "path";
import { HealthCheckSettings, renderScripts } from "../../platforms/scripts";
import { InstallerSpec, installerChunks, installerFileName, msiProperties } from "../support/fakeInstaller";

/** The Distributor package name the scripts are rendered for. */
export const PACKAGE_NAME = "UptycsAgent";
/** The health check's timeout in the suite, seconds: the smallest the config accepts. */
export const HEALTH_TIMEOUT_SECONDS = 5;
/** Agent versions: an upgrade of the first three fields, and one of the fourth only. */
const VERSIONS = ["5.7.0.25", "5.7.0.26", "5.8.0.3"];

/** One package folder: its name (`<build>-<version>`, `-nohealth` with the health check off) and what built it. */
export interface WindowsPackage {
    readonly folder: string;
    readonly msi: string;
    readonly properties: Readonly<Record<string, string>>;
    readonly healthCheck: boolean;
}

/** Writes every package folder under `out` and returns what packages.json lists. */
export function renderWindowsPackages(out: string): WindowsPackage[] {
    const packages: WindowsPackage[] = [];
    for (const protect of [true, false]) {
        for (const version of VERSIONS) {
            for (const health of [true, false]) {
                const spec: InstallerSpec = { uptPackage: "windows", arch: "x86_64", version, protect };
                const settings: HealthCheckSettings = { enabled: health, timeoutSeconds: HEALTH_TIMEOUT_SECONDS };
                const folder = `${protect ? "protect" : "sensor"}-${version}${health ? "" : "-nohealth"}`;
                const dir = path.join(out, folder);
                fs.mkdirSync(dir, { recursive: true });
                const msi = installerFileName(spec);
                fs.writeFileSync(path.join(dir, msi), Buffer.concat([...installerChunks(spec, 4096)]));
                for (const [name, text] of Object.entries(renderScripts("msi", PACKAGE_NAME, msi, settings))) {
                    fs.writeFileSync(path.join(dir, name), text);
                }
                packages.push({ folder, msi, properties: msiProperties(spec), healthCheck: health });
            }
        }
    }
    fs.writeFileSync(path.join(out, "packages.json"), JSON.stringify(packages, null, 2));
    return packages;
}

if (require.main === module) {
    const out = process.argv[2];
    if (out === undefined) {
        throw new Error("usage: ts-node test/windows/render.ts <output folder>");
    }
    renderWindowsPackages(path.resolve(out));
}
