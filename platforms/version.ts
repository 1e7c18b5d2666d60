/**
 * Uptycs agent versions: four dotted numbers such as `5.14.2.21`.
 *
 * The Uptycs API (`GET /osqueryPackages`) lists versions like `5.14.2.21-Uptycs`; the original
 * tool took the first item's part before `-`. We take the highest by numeric comparison instead.
 */

/** A concrete agent version: dotted numbers, 2 to 6 parts (Uptycs uses 4). */
export const AGENT_VERSION_PATTERN = /^[0-9]+(\.[0-9]+){1,5}$/;

/** The `agentVersion` config value that asks for the highest version the tenant offers. */
export const LATEST = "latest";

/** True when `v` is a concrete agent version, e.g. `5.14.2.21`. */
export function isAgentVersion(v: string): boolean {
    return AGENT_VERSION_PATTERN.test(v);
}

/** The agent version of an `/osqueryPackages` item's `version` (`5.14.2.21-Uptycs` → `5.14.2.21`), or undefined. */
export function agentVersionOf(apiVersion: unknown): string | undefined {
    if (typeof apiVersion !== "string") {
        return undefined;
    }
    const v = apiVersion.split("-")[0].trim();
    return isAgentVersion(v) ? v : undefined;
}

/** Numeric comparison of dotted versions; missing parts count as 0. Negative when a < b. */
export function compareAgentVersions(a: string, b: string): number {
    const pa = a.split(".").map(Number);
    const pb = b.split(".").map(Number);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
        const d = (pa[i] ?? 0) - (pb[i] ?? 0);
        if (d !== 0) {
            return d;
        }
    }
    return 0;
}

/**
 * Distinct agent versions offered by an `/osqueryPackages` response, highest first.
 * Items whose version does not parse are skipped.
 */
export function offeredAgentVersions(items: readonly { version?: unknown }[]): string[] {
    const versions = new Set<string>();
    for (const item of items) {
        const v = agentVersionOf(item?.version);
        if (v !== undefined) {
            versions.add(v);
        }
    }
    return [...versions].sort((a, b) => compareAgentVersions(b, a));
}
