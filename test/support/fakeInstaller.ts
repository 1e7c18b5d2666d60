// Generated installers: a first line the fake package managers read (name, version), then filler.
// Deterministic for a given request, so two downloads of the same installer are byte-equal.
import * as crypto from "crypto";

/** What the local API serves for one download request. */
export interface InstallerSpec {
    readonly uptPackage: string;
    readonly arch: "x86_64" | "arm64";
    readonly version: string;
    readonly protect: boolean;
}

/** The package name the installer installs (Protect and sensor differ, as with Uptycs). */
export function installedPackageName(spec: InstallerSpec): string {
    return spec.protect ? "uptycs-protect" : "osquery";
}

/** The file name the API sends in Content-Disposition, after the names the contract observed. */
export function installerFileName(spec: InstallerSpec): string {
    const base = spec.protect ? "assets-uptycs-protect" : "assets-osquery";
    switch (spec.uptPackage) {
        case "centos":
            return `${base}-${spec.version}-Uptycs.${spec.arch === "arm64" ? "aarch64" : "x86_64"}.rpm`;
        case "debian":
            return `${base}-${spec.version}-Uptycs${spec.arch === "arm64" ? "-arm64" : ""}.deb`;
        default:
            return `${base}-${spec.version}-Uptycs-windows.msi`;
    }
}

/**
 * The files both builds install, as Uptycs' Protect and sensor-only packages share the agent's
 * files: the fake package managers refuse one build beside the other, as the real ones do.
 */
export const AGENT_FILES = ["/usr/bin/osqueryd", "/etc/osquery/osquery.flags"];

/** A GUID in the registry's form, `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`, derived from `seed`. */
function guidOf(seed: string): string {
    const h = crypto.createHash("sha256").update(seed).digest("hex").toUpperCase();
    return `{${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}}`;
}

/**
 * The Property table of a fake MSI (test/windows/MsiStandIn.cs reads it). As with real MSIs
 * authored for major upgrades, each build keeps one UpgradeCode and every version has its own
 * ProductCode; the two builds differ in both, and both install the agent's service (`Agent`).
 */
export function msiProperties(spec: InstallerSpec): Readonly<Record<string, string>> {
    const name = installedPackageName(spec);
    return {
        ProductName: spec.protect ? "Uptycs Protect" : "osquery",
        ProductVersion: spec.version,
        ProductCode: guidOf(`product:${name}:${spec.version}`),
        UpgradeCode: guidOf(`upgrade:${name}`),
        Manufacturer: "Uptycs",
        Agent: "true",
    };
}

/**
 * The installer's first line: an MSI's Property table as JSON after `FAKE-MSI ` (read by the
 * Windows stand-ins), else the name and version test/fixtures/fakebin reads (rpm -qp, dpkg-deb -f;
 * `files` for conflicts).
 */
export function installerHeader(spec: InstallerSpec): string {
    if (installerFileName(spec).endsWith(".msi")) {
        return `FAKE-MSI ${JSON.stringify(msiProperties(spec))}\n`;
    }
    return `FAKE-UPTYCS-INSTALLER name=${installedPackageName(spec)} version=${spec.version} release=1 arch=${spec.arch} files=${AGENT_FILES.join(",")}\n`;
}

/**
 * Yields `size` bytes of the installer in chunks of `chunkSize` bytes (header first, then filler).
 * `tenant` goes into the filler: as with Uptycs, whose installers embed the tenant's enrollment
 * secret, two tenants' installers of one version differ.
 */
export function* installerChunks(spec: InstallerSpec, size: number, chunkSize = 64 * 1024, tenant = ""): Generator<Buffer> {
    const header = Buffer.from(installerHeader(spec));
    const fill = Buffer.alloc(chunkSize, `${tenant}${spec.uptPackage}/${spec.arch}/${spec.version}/${spec.protect};`);
    let sent = 0;
    if (size > 0) {
        const first = header.subarray(0, Math.min(header.length, size));
        sent += first.length;
        yield first;
    }
    while (sent < size) {
        const n = Math.min(chunkSize, size - sent);
        sent += n;
        yield fill.subarray(0, n);
    }
}
