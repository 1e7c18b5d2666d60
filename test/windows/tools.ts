// The Windows suite's tools, which npm does not install: PowerShell 7 (a .NET global tool) and
// Pester (a NuGet package carrying the module), each pinned here. `npm run setup:windows` installs
// them (.ci/run does); without them `npm test` reports the suite as skipped with these commands.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** PowerShell, as the .NET tool `PowerShell` (7.7.0 is served but fails to install). */
export const PWSH_VERSION = "7.6.10";
/** Pester, the PowerShell test framework, from NuGet. */
export const PESTER_VERSION = "5.7.1";

const DOTNET_TOOLS = path.join(os.homedir(), ".dotnet", "tools");
const NUGET_PACKAGES = path.join(os.homedir(), ".nuget", "packages");

/** The commands that install both, as a person types them. */
export const INSTALL_COMMANDS: readonly string[] = [
    `dotnet tool update --global PowerShell --version ${PWSH_VERSION}`,
    `dotnet package download Pester@${PESTER_VERSION} --output ~/.nuget/packages`,
];

/** The pwsh to run: on PATH, else where `dotnet tool` puts it; undefined when neither runs. */
export function pwshPath(): string | undefined {
    for (const candidate of ["pwsh", path.join(DOTNET_TOOLS, "pwsh")]) {
        if (spawnSync(candidate, ["-NoProfile", "-Version"], { stdio: "ignore" }).status === 0) {
            return candidate;
        }
    }
    return undefined;
}

/** Pester's module manifest of the pinned version, when installed. */
export function pesterModule(): string | undefined {
    const psd1 = path.join(NUGET_PACKAGES, "pester", PESTER_VERSION, "tools", "Pester.psd1");
    return fs.existsSync(psd1) ? psd1 : undefined;
}

/** What is missing for the Windows suite, with how to install it; undefined when nothing is. */
export function windowsToolsProblem(): string | undefined {
    const missing = [pwshPath() === undefined ? `PowerShell ${PWSH_VERSION}` : undefined, pesterModule() === undefined ? `Pester ${PESTER_VERSION}` : undefined].filter((m) => m !== undefined);
    return missing.length === 0 ? undefined : `${missing.join(" and ")} not installed (npm run setup:windows, or: ${INSTALL_COMMANDS.join(" && ")})`;
}

/** Installs what is missing (`npm run setup:windows`). */
function install(): void {
    const commands = [pwshPath() === undefined ? INSTALL_COMMANDS[0] : undefined, pesterModule() === undefined ? INSTALL_COMMANDS[1] : undefined];
    for (const command of commands.filter((c) => c !== undefined)) {
        console.log(`$ ${command}`);
        const r = spawnSync("sh", ["-c", command], { stdio: "inherit" });
        if (r.status !== 0) {
            throw new Error(`${command} exited ${r.status ?? r.signal}`);
        }
    }
    const problem = windowsToolsProblem();
    if (problem !== undefined) {
        throw new Error(problem);
    }
    console.log(`PowerShell and Pester ${PESTER_VERSION} are installed (pwsh: ${pwshPath()})`);
}

if (require.main === module) {
    install();
}
