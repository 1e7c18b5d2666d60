/**
 * Fleet coverage: which managed node runs which Uptycs agent, which runs none, and which never
 * reported to the tenant. Pure data and functions: the facts are read elsewhere (`coverage/`),
 * here they are matched, classified and counted (`../shared/reference/fleet-coverage.md`).
 *
 * Two views of the same hosts: AWS Systems Manager's managed nodes (DescribeInstanceInformation),
 * what the fleet association's latest run did on each (DescribeAssociationExecutionTargets) and
 * what inventory found installed (GetInventory, `AWS:Application`); and the Uptycs tenant's
 * assets (`GET /assets`). A node and an asset are the same host when the asset carries the
 * node's instance id, or else by host name (see {@link AssetIndex}).
 */
import { agentVersionOf } from "./version";

/** The agent build a stack publishes, as its `build` output names it. */
export type Build = "protect" | "sensor-only";

/** The build of `sensorOnly` (the stack config `sensorOnly`). */
export const buildOf = (sensorOnly: boolean): Build => (sensorOnly ? "sensor-only" : "protect");

/** A node's coverage status; see {@link classifyNode} for how one is chosen. */
export type CoverageStatus = "current" | "other-version" | "silent" | "failed" | "no-agent" | "offline";

/** The statuses, in the order the report lists them. */
export const STATUSES: readonly CoverageStatus[] = Object.freeze(["current", "other-version", "silent", "failed", "no-agent", "offline"]);

/** A managed node as `DescribeInstanceInformation` reports it. */
export interface ManagedNode {
    /** `i-…` (EC2) or `mi-…` (hybrid). */
    readonly instanceId: string;
    /** The host name SSM reports (`ComputerName`): short or fully qualified. */
    readonly computerName: string;
    /** `PlatformType`: `Linux`, `Windows` or `MacOS`. */
    readonly platform: string;
    /** `PingStatus`: `Online`, `ConnectionLost` or `Inactive`. */
    readonly pingStatus: string;
    /** `LastPingDateTime`, ISO 8601. */
    readonly lastPingAt?: string;
}

/** The fleet association's latest run on one node (`DescribeAssociationExecutionTargets`). */
export interface NodeRun {
    /** `Success`, `Failed`, `TimedOut`, `Pending`, `InProgress`, … */
    readonly status: string;
    readonly detailedStatus?: string;
}

/** An application inventory found on a node (`AWS:Application`: rpm/deb name, or the Windows `DisplayName`). */
export interface InstalledApplication {
    readonly name: string;
    readonly version?: string;
    /** When inventory captured it, ISO 8601. */
    readonly capturedAt?: string;
}

/** An Uptycs asset, as much of `GET /assets` as coverage needs. */
export interface UptycsAsset {
    readonly id: string;
    readonly hostName: string;
    /** The agent version (`5.14.2.21`), from `agentVersion` (`5.14.2.21-Uptycs`) or `osqueryVersion`. */
    readonly agentVersion?: string;
    /** `protect: true` is the Protect build, anything else sensor-only. */
    readonly build: Build;
    /** `lastActivityAt`, ISO 8601. */
    readonly lastActivityAt?: string;
    /** The EC2 instance id, when `assetCloudInfo.instanceId` carries one (a field the reference does not document: used only when present). */
    readonly instanceId?: string;
    /** `objectGroupId`: the asset group. */
    readonly objectGroupId?: string;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);

/** `obj` without its undefined fields: the JSON report writes optional fields only when known. */
function compact<T extends object>(obj: T): T {
    return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/**
 * An item of `GET /assets` as an {@link UptycsAsset}; undefined for an item without `id` or
 * `hostName`. The version comes from `agentVersion`, else `osqueryVersion` (the Go client's
 * fixture carries both, equal).
 */
export function assetFromApi(item: Record<string, unknown>): UptycsAsset | undefined {
    const id = str(item.id);
    const hostName = str(item.hostName);
    if (id === undefined || hostName === undefined) {
        return undefined;
    }
    const cloud = item.assetCloudInfo;
    const instanceId = typeof cloud === "object" && cloud !== null ? str((cloud as Record<string, unknown>).instanceId) : undefined;
    return {
        id, hostName,
        agentVersion: agentVersionOf(item.agentVersion) ?? agentVersionOf(item.osqueryVersion),
        build: item.protect === true ? "protect" : "sensor-only",
        lastActivityAt: str(item.lastActivityAt),
        instanceId: instanceId !== undefined && /^(i|mi)-[0-9a-f]+$/.test(instanceId) ? instanceId : undefined,
        objectGroupId: str(item.objectGroupId),
    };
}

const firstLabel = (name: string): string => name.split(".")[0];

/**
 * The assets indexed for matching, built once per report: by instance id, by whole host name and
 * by first label (lower case). A node matches the assets carrying its instance id; else those
 * whose host name equals its `ComputerName` (case-insensitive); else, when either name is short
 * (no dot), those whose first label equals the node's: an EC2 host name may be short on one side
 * and fully qualified on the other. Two different fully qualified names never match.
 */
export class AssetIndex {
    private readonly byInstance = new Map<string, UptycsAsset[]>();
    private readonly byName = new Map<string, UptycsAsset[]>();
    private readonly byLabel = new Map<string, UptycsAsset[]>();

    constructor(assets: readonly UptycsAsset[]) {
        const add = (map: Map<string, UptycsAsset[]>, key: string, a: UptycsAsset): void => {
            const list = map.get(key);
            if (list === undefined) {
                map.set(key, [a]);
            } else {
                list.push(a);
            }
        };
        for (const a of assets) {
            const name = a.hostName.toLowerCase();
            if (a.instanceId !== undefined) {
                add(this.byInstance, a.instanceId, a);
            }
            add(this.byName, name, a);
            add(this.byLabel, firstLabel(name), a);
        }
    }

    /** The assets that are this node's host (several when it enrolled more than once). */
    matches(node: Pick<ManagedNode, "instanceId" | "computerName">): UptycsAsset[] {
        const byId = this.byInstance.get(node.instanceId);
        if (byId !== undefined) {
            return byId;
        }
        const name = node.computerName.toLowerCase();
        if (name === "") {
            return [];
        }
        const exact = (this.byName.get(name) ?? []).filter((a) => a.instanceId === undefined);
        if (exact.length > 0) {
            return exact;
        }
        const nodeShort = !name.includes(".");
        return (this.byLabel.get(firstLabel(name)) ?? [])
            .filter((a) => a.instanceId === undefined && (nodeShort || !a.hostName.includes(".")));
    }
}

/** Epoch milliseconds of an ISO 8601 time; undefined when absent or not a time. */
function timeOf(iso: string | undefined): number | undefined {
    const t = iso === undefined ? NaN : Date.parse(iso);
    return Number.isNaN(t) ? undefined : t;
}

/** The asset that reported last (one without `lastActivityAt` counts as never). */
export function newestAsset(assets: readonly UptycsAsset[]): UptycsAsset | undefined {
    let best: UptycsAsset | undefined;
    for (const a of assets) {
        if (best === undefined || (timeOf(a.lastActivityAt) ?? -Infinity) > (timeOf(best.lastActivityAt) ?? -Infinity)) {
            best = a;
        }
    }
    return best;
}

/**
 * Name prefixes of the agent's applications in inventory (`GetInventory` filter `BeginWith`):
 * on Linux the package names `uptycs-protect` and `osquery`, on Windows the uninstall key's
 * `DisplayName`, `Uptycs…` or `osquery…` (see `AGENT_BUILD_PACKAGES`, `AGENT_BUILD_DISPLAY_NAMES`).
 */
export const AGENT_APPLICATION_PREFIXES: readonly string[] = Object.freeze(["uptycs", "Uptycs", "osquery", "Osquery"]);

/** True for an inventory application that is an Uptycs agent build. */
export function isAgentApplication(name: string): boolean {
    const lower = name.toLowerCase();
    return lower.startsWith("uptycs") || lower.startsWith("osquery");
}

/** An association target as State Manager returns it. */
export interface AssociationTarget {
    readonly Key?: string;
    readonly Values?: readonly string[];
}

/** A `DescribeInstanceInformation` filter. */
export interface NodeFilter {
    readonly Key: string;
    readonly Values: string[];
}

/** True when every target is `tag:<key>` or `InstanceIds`: what DescribeInstanceInformation can list. */
export function listableTargets(targets: readonly AssociationTarget[]): boolean {
    return targets.every((t) => t.Key === "InstanceIds" || /^tag:.+/.test(t.Key ?? ""));
}

/**
 * The `DescribeInstanceInformation` filters that list an association's targets: `tag:<key>`
 * as is, `InstanceIds` as is, and none for `InstanceIds=*` (every node).
 * @throws Error naming a target key that cannot be listed so (`resource-groups:Name`, `tag-key`, …).
 */
export function targetFilters(targets: readonly AssociationTarget[], association: string): NodeFilter[] {
    const unlisted = targets.find((t) => !listableTargets([t]));
    if (unlisted !== undefined) {
        throw new Error(`association ${association} targets ${unlisted.Key ?? ""}=${(unlisted.Values ?? []).join(",")}: only tag:<key> and InstanceIds targets can be listed as managed nodes`);
    }
    return targets.filter((t) => !(t.Key === "InstanceIds" && (t.Values ?? []).includes("*"))).map((t) => ({ Key: t.Key ?? "", Values: [...(t.Values ?? [])] }));
}

/** What the fleet runs, and when an asset counts as silent. */
export interface FleetExpectation {
    /** The agent version the region's fleet association installs, e.g. `5.14.2.21`. */
    readonly agentVersion: string;
    readonly build: Build;
    /** An asset whose `lastActivityAt` is older than this many minutes is silent. */
    readonly staleAfterMinutes: number;
    /** The report's time, epoch milliseconds. */
    readonly now: number;
}

/**
 * What inventory knows of a node: the Uptycs applications it found there (none: an empty list),
 * or why it knows nothing: the region gathers no inventory, or its inventory associations do not
 * target the node.
 */
export type InventoryView = readonly InstalledApplication[] | "not gathered in this region" | "not gathered on this node";

/** What is known of one node besides its SSM record. */
export interface NodeFacts {
    readonly node: ManagedNode;
    /** Its Uptycs assets (matched). */
    readonly assets: readonly UptycsAsset[];
    /** The fleet association's latest run on it; undefined when that run did not reach it, or there is no association. */
    readonly run?: NodeRun;
    readonly inventory: InventoryView;
}

/** One node's verdict, as the report's `nodes` lists it. */
export interface NodeCoverage {
    readonly instanceId: string;
    readonly computerName: string;
    readonly platform: string;
    readonly status: CoverageStatus;
    /** The version its newest asset reports. */
    readonly agentVersion?: string;
    /** The build its newest asset reports. */
    readonly build?: Build;
    /** When its newest asset last reported, ISO 8601. */
    readonly lastActivityAt?: string;
    /** Why, in words: the other version, since when silent, the failed run, what inventory saw. */
    readonly detail?: string;
}

/** True for a run that ended and did not succeed. */
const runFailed = (run: NodeRun | undefined): run is NodeRun => run !== undefined && !["Success", "Pending", "InProgress"].includes(run.status);

function runWords(run: NodeRun | undefined): string {
    if (run === undefined) {
        return "the fleet association's latest run did not reach it";
    }
    return `the fleet association's latest run: ${run.status}${run.detailedStatus !== undefined && run.detailedStatus !== run.status ? ` (${run.detailedStatus})` : ""}`;
}

function inventoryWords(installed: InventoryView): string {
    if (typeof installed === "string") {
        return `inventory ${installed}`;
    }
    if (installed.length === 0) {
        return "inventory lists no Uptycs package";
    }
    const captured = installed.find((a) => a.capturedAt !== undefined)?.capturedAt;
    return `inventory${captured === undefined ? "" : ` (captured ${captured})`} lists ${installed.map((a) => `${a.name} ${a.version ?? "?"}`).join(", ")}: `
        + "installed but not enrolled (egress to the tenant blocked, or another tenant's secret?)";
}

/**
 * One node's status, the first that holds of:
 * - `current`: its newest asset runs the fleet's version and build and reported within
 *   `staleAfterMinutes`;
 * - `other-version`: that asset reports in time, at another version or build;
 * - `offline`: SSM cannot reach it (`PingStatus` not `Online`);
 * - `silent`: it has an asset, which has not reported within `staleAfterMinutes`;
 * - `failed`: the fleet association's latest run on it ended other than Success;
 * - `no-agent`: none of these; the detail says what inventory saw and what the run did.
 */
export function classifyNode(facts: NodeFacts, fleet: FleetExpectation): NodeCoverage {
    const { node, run, inventory } = facts;
    const asset = newestAsset(facts.assets);
    const base = {
        instanceId: node.instanceId, computerName: node.computerName, platform: node.platform,
        agentVersion: asset?.agentVersion, build: asset?.build, lastActivityAt: asset?.lastActivityAt,
    };
    const verdict = (status: CoverageStatus, detail?: string): NodeCoverage => compact({ ...base, status, detail });
    const reported = timeOf(asset?.lastActivityAt);
    const fresh = reported !== undefined && fleet.now - reported <= fleet.staleAfterMinutes * 60_000;
    const seen = asset === undefined ? "" : `asset ${asset.hostName} last reported ${asset.lastActivityAt ?? "never"}`;
    if (asset !== undefined && fresh) {
        if (asset.agentVersion === fleet.agentVersion && asset.build === fleet.build) {
            return verdict("current");
        }
        return verdict("other-version", `runs ${asset.agentVersion ?? "an unknown version"} ${asset.build}; the fleet runs ${fleet.agentVersion} ${fleet.build}`);
    }
    if (node.pingStatus !== "Online") {
        return verdict("offline", `PingStatus ${node.pingStatus}${node.lastPingAt === undefined ? "" : ` since ${node.lastPingAt}`}${seen === "" ? "" : `; ${seen}`}`);
    }
    if (asset !== undefined) {
        const minutes = reported === undefined ? undefined : Math.floor((fleet.now - reported) / 60_000);
        return verdict("silent", `${seen}${minutes === undefined ? "" : ` (${minutes} min ago)`}, silent for more than ${fleet.staleAfterMinutes} min`);
    }
    if (runFailed(run)) {
        return verdict("failed", runWords(run));
    }
    return verdict("no-agent", `no Uptycs asset; ${inventoryWords(inventory)}; ${runWords(run)}`);
}

/** A host of a ring whose run succeeded but which has not checked in to Uptycs as it should. */
export interface MissingCheckIn {
    readonly instanceId: string;
    readonly computerName: string;
    /** What the tenant shows of it instead. */
    readonly why: string;
}

/**
 * The hosts with no asset that reports `expected`'s version and build later than `sinceMs` (the
 * run's start, epoch milliseconds): what a ring with `requireCheckIn` still waits for.
 */
export function missingCheckIns(nodes: readonly Pick<ManagedNode, "instanceId" | "computerName">[], index: AssetIndex,
    expected: Pick<FleetExpectation, "agentVersion" | "build">, sinceMs: number): MissingCheckIn[] {
    const missing: MissingCheckIn[] = [];
    for (const node of nodes) {
        const assets = index.matches(node);
        const checkedIn = assets.some((a) => a.agentVersion === expected.agentVersion && a.build === expected.build && (timeOf(a.lastActivityAt) ?? -Infinity) > sinceMs);
        if (checkedIn) {
            continue;
        }
        const newest = newestAsset(assets);
        const why = node.computerName === "" ? "no host name in SSM (not a managed node any more?)"
            : newest === undefined ? `no Uptycs asset named ${node.computerName}`
                : `asset ${newest.hostName} reports ${newest.agentVersion ?? "an unknown version"} ${newest.build}, last at ${newest.lastActivityAt ?? "never"}`;
        missing.push({ instanceId: node.instanceId, computerName: node.computerName, why });
    }
    return missing;
}

/**
 * A ring's failed check-in, `where` naming the stage: each host still missing and what the
 * tenant shows of it.
 */
export function checkInProblem(where: string, expected: Pick<FleetExpectation, "agentVersion" | "build"> & { readonly runStartedMs: number; readonly timeoutMinutes: number },
    missing: readonly MissingCheckIn[], total: number): string {
    return `${where}: ${missing.length} of ${total} hosts whose run succeeded did not report to Uptycs at ${expected.agentVersion} ${expected.build} `
        + `after the run began (${new Date(expected.runStartedMs).toISOString()}) within timeoutMinutes ${expected.timeoutMinutes} (requireCheckIn):\n`
        + missing.map((m) => `  ${m.instanceId} (${m.computerName || "?"}): ${m.why}`).join("\n");
}

/** The counts of one region (or one platform of it), as the report's `counts` writes them. */
export interface CoverageCounts {
    inScope: number;
    current: number;
    otherVersion: number;
    silent: number;
    failed: number;
    noAgent: number;
    offline: number;
}

const COUNT_KEY: Readonly<Record<CoverageStatus, keyof CoverageCounts>> = Object.freeze({
    current: "current", "other-version": "otherVersion", silent: "silent", failed: "failed", "no-agent": "noAgent", offline: "offline",
});

/** `current` ÷ `inScope`, percent, one decimal; 100 when nothing is in scope (nothing is unprotected). */
export function coveragePercent(counts: CoverageCounts): number {
    return counts.inScope === 0 ? 100 : Math.floor((counts.current * 1000) / counts.inScope) / 10;
}

/** The counts of `nodes`. */
export function countStatuses(nodes: readonly NodeCoverage[]): CoverageCounts {
    const counts: CoverageCounts = { inScope: nodes.length, current: 0, otherVersion: 0, silent: 0, failed: 0, noAgent: 0, offline: 0 };
    for (const n of nodes) {
        counts[COUNT_KEY[n.status]] += 1;
    }
    return counts;
}

/** One region's coverage, as the report's `regions.<region>` writes it. */
export interface RegionCoverage {
    /** Whether the region gathers software inventory (an `AWS-GatherSoftwareInventory` association). */
    readonly inventory: boolean;
    readonly counts: CoverageCounts;
    readonly coveragePercent: number;
    /** Every node in scope, non-current first (by status, then instance id). */
    readonly nodes: NodeCoverage[];
    /** The agent version the region's fleet association installs. */
    readonly fleetVersion: string;
    /** The fleet association whose targets are the scope; absent: every managed node of the region. */
    readonly association?: string;
    /** The same counts per platform (`Linux`, `Windows`, `MacOS`). */
    readonly platforms: Record<string, { readonly counts: CoverageCounts; readonly coveragePercent: number }>;
}

/** What is known of one region. */
export interface RegionFacts {
    /** The nodes in scope: the fleet association's targets, or every managed node. */
    readonly nodes: readonly ManagedNode[];
    /** Every managed node of the region, in scope or not: what accounts for an asset. */
    readonly allNodes: readonly ManagedNode[];
    /** Instance id → the fleet association's latest run on it. */
    readonly runs: ReadonlyMap<string, NodeRun>;
    /**
     * Where the region gathers inventory: the ids of the nodes its `AWS-GatherSoftwareInventory`
     * associations target, `all`, or undefined (it gathers none); and instance id → the Uptycs
     * applications it found.
     */
    readonly inventory?: { readonly gatheredOn: ReadonlySet<string> | "all"; readonly installed: ReadonlyMap<string, readonly InstalledApplication[]> };
    readonly association?: string;
}

/** What inventory knows of `instanceId` in a region of `facts`. */
function inventoryOf(facts: RegionFacts, instanceId: string): InventoryView {
    const inventory = facts.inventory;
    if (inventory === undefined) {
        return "not gathered in this region";
    }
    if (inventory.gatheredOn !== "all" && !inventory.gatheredOn.has(instanceId)) {
        return "not gathered on this node";
    }
    return inventory.installed.get(instanceId) ?? [];
}

const statusRank = (s: CoverageStatus): number => (s === "current" ? STATUSES.length : STATUSES.indexOf(s));

/**
 * Classifies every node of a region, and marks in `accounted` the ids of the assets any managed
 * node of the region (in scope or not) matches.
 */
export function classifyRegion(facts: RegionFacts, index: AssetIndex, fleet: FleetExpectation, accounted: Set<string>): RegionCoverage {
    // Each node matched once; the nodes in scope too, should one have joined between the two listings.
    const matched = new Map<string, UptycsAsset[]>();
    for (const node of [...facts.allNodes, ...facts.nodes]) {
        if (!matched.has(node.instanceId)) {
            const assets = index.matches(node);
            matched.set(node.instanceId, assets);
            assets.forEach((a) => accounted.add(a.id));
        }
    }
    const nodes = facts.nodes.map((node) => classifyNode({
        node,
        assets: matched.get(node.instanceId) ?? [],
        run: facts.runs.get(node.instanceId),
        inventory: inventoryOf(facts, node.instanceId),
    }, fleet));
    nodes.sort((a, b) => statusRank(a.status) - statusRank(b.status) || (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
    const counts = countStatuses(nodes);
    const platforms: RegionCoverage["platforms"] = {};
    for (const platform of [...new Set(nodes.map((n) => n.platform))].sort()) {
        const c = countStatuses(nodes.filter((n) => n.platform === platform));
        platforms[platform] = { counts: c, coveragePercent: coveragePercent(c) };
    }
    return {
        inventory: facts.inventory !== undefined, counts, coveragePercent: coveragePercent(counts), nodes,
        fleetVersion: fleet.agentVersion, ...(facts.association === undefined ? {} : { association: facts.association }), platforms,
    };
}

/** An asset no managed node accounts for, as the report's `unmatchedAssets` lists it. */
export interface UnmatchedAsset {
    readonly hostName: string;
    readonly agentVersion?: string;
    readonly lastActivityAt?: string;
    readonly id: string;
    readonly build: Build;
}

/** The assets whose id is not in `accounted`, by host name. */
export function unmatchedAssets(assets: readonly UptycsAsset[], accounted: ReadonlySet<string>): UnmatchedAsset[] {
    return assets.filter((a) => !accounted.has(a.id))
        .map((a) => compact({ hostName: a.hostName, agentVersion: a.agentVersion, lastActivityAt: a.lastActivityAt, id: a.id, build: a.build }))
        .sort((a, b) => (a.hostName < b.hostName ? -1 : a.hostName > b.hostName ? 1 : 0));
}

/** The whole report: what `--json` writes (fields may be added, never renamed). */
export interface CoverageReport {
    /** ISO 8601. */
    readonly generatedAt: string;
    /** The Distributor package name. */
    readonly package: string;
    /** The agent version the stack published (`agentVersion` output); each region's fleet may still be on an older one mid-rollout. */
    readonly fleetVersion: string;
    readonly build: Build;
    /** Minutes after which an asset counts as silent. */
    readonly staleAfterMinutes: number;
    readonly regions: Record<string, RegionCoverage>;
    /** Assets of the package's asset group that no managed node of the regions read accounts for. */
    readonly unmatchedAssets: UnmatchedAsset[];
}

/** The regions whose coverage is below `minPercent`. */
export function regionsBelow(report: CoverageReport, minPercent: number): string[] {
    return Object.entries(report.regions).filter(([, r]) => r.coveragePercent < minPercent).map(([region]) => region);
}
