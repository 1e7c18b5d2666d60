// Matching a managed node to its Uptycs asset and choosing its one status: the rules of
// ../shared/reference/fleet-coverage.md, case by case, without I/O.
import * as assert from "assert";
import {
    AssetIndex, assetFromApi, classifyNode, classifyRegion, coveragePercent, FleetExpectation, ManagedNode, targetFilters, unmatchedAssets, UptycsAsset,
} from "../../platforms/coverage";

const NOW = Date.parse("2026-12-06T12:00:00Z");
const FLEET: FleetExpectation = { agentVersion: "5.14.2.21", build: "protect", staleAfterMinutes: 60, now: NOW };
const ago = (minutes: number): string => new Date(NOW - minutes * 60_000).toISOString();
const asset = (id: string, hostName: string, extra: Partial<UptycsAsset> = {}): UptycsAsset => ({ id, hostName, agentVersion: "5.14.2.21", build: "protect", lastActivityAt: ago(1), ...extra });
const node = (computerName: string, extra: Partial<ManagedNode> = {}): ManagedNode => ({ instanceId: "i-0123456789abcdef0", computerName, platform: "Linux", pingStatus: "Online", ...extra });

describe("platforms/coverage: matching and status", () => {
    it("matches by host name case-insensitively, short against fully qualified either way, never two different fully qualified names", () => {
        const index = new AssetIndex([asset("a", "WEB-1.ec2.internal"), asset("b", "ip-10-0-0-2"), asset("c", "db.b.example.com")]);
        const ids = (n: ManagedNode): string[] => index.matches(n).map((a) => a.id);
        assert.deepStrictEqual(ids(node("web-1.EC2.internal")), ["a"]);
        assert.deepStrictEqual(ids(node("web-1")), ["a"], "a short ComputerName matches a fully qualified asset");
        assert.deepStrictEqual(ids(node("ip-10-0-0-2.ec2.internal")), ["b"], "a fully qualified ComputerName matches a short asset");
        assert.deepStrictEqual(ids(node("db.a.example.com")), [], "same first label, other domain: another host");
        assert.deepStrictEqual(ids(node("")), []);
    });

    it("an asset carrying an instance id matches that node only, whatever its host name", () => {
        const index = new AssetIndex([asset("a", "web-1", { instanceId: "i-0aaaaaaaaaaaaaaaa" }), asset("b", "web-1")]);
        assert.deepStrictEqual(index.matches(node("web-1", { instanceId: "i-0aaaaaaaaaaaaaaaa" })).map((a) => a.id), ["a"]);
        assert.deepStrictEqual(index.matches(node("web-1", { instanceId: "i-0bbbbbbbbbbbbbbbb" })).map((a) => a.id), ["b"]);
    });

    it("reads an asset of GET /assets: the version without -Uptycs, protect: true as the Protect build, an instance id only where assetCloudInfo has one", () => {
        assert.deepStrictEqual(assetFromApi({ id: "x", hostName: "h", agentVersion: "5.0.1.16-Uptycs", protect: false, lastActivityAt: "2022-07-01T17:21:44.056Z", assetCloudInfo: null, objectGroupId: "g" }),
            { id: "x", hostName: "h", agentVersion: "5.0.1.16", build: "sensor-only", lastActivityAt: "2022-07-01T17:21:44.056Z", instanceId: undefined, objectGroupId: "g" });
        assert.strictEqual(assetFromApi({ id: "x", hostName: "h", osqueryVersion: "5.1.0.1-Uptycs", protect: true })?.agentVersion, "5.1.0.1");
        assert.strictEqual(assetFromApi({ id: "x", hostName: "h", assetCloudInfo: { instanceId: "i-0abc" } })?.instanceId, "i-0abc");
        assert.strictEqual(assetFromApi({ id: "x" }), undefined);
    });

    it("chooses the newest of several assets of one host (a re-enrolled agent)", () => {
        const v = classifyNode({ node: node("web-1"), assets: [asset("old", "web-1", { agentVersion: "5.9.0.2", lastActivityAt: ago(600) }), asset("new", "web-1", { lastActivityAt: ago(2) })], inventory: [] }, FLEET);
        assert.strictEqual(v.status, "current");
    });

    it("takes the statuses in order: current, other-version, offline, silent, failed, no-agent", () => {
        const offline = node("web-1", { pingStatus: "ConnectionLost", lastPingAt: ago(90) });
        const failedRun = { status: "Failed", detailedStatus: "Failed" };
        const status = (n: ManagedNode, assets: UptycsAsset[], run?: { status: string; detailedStatus?: string }): string => classifyNode({ node: n, assets, run, inventory: [] }, FLEET).status;
        assert.strictEqual(status(offline, [asset("a", "web-1")]), "current", "an asset reporting the fleet's version is current even when SSM lost the node");
        assert.strictEqual(status(offline, [asset("a", "web-1", { build: "sensor-only" })]), "other-version");
        assert.strictEqual(status(offline, [asset("a", "web-1", { lastActivityAt: ago(120) })], failedRun), "offline");
        assert.strictEqual(status(node("web-1"), [asset("a", "web-1", { lastActivityAt: ago(120) })], failedRun), "silent");
        assert.strictEqual(status(node("web-1"), [asset("a", "web-1", { lastActivityAt: undefined })]), "silent", "an asset that never reported");
        assert.strictEqual(status(node("web-1"), [], failedRun), "failed");
        assert.strictEqual(status(node("web-1"), [], { status: "TimedOut" }), "failed");
        assert.strictEqual(status(node("web-1"), [], { status: "InProgress" }), "no-agent", "a run still going has not failed");
        assert.strictEqual(status(node("web-1"), []), "no-agent");
        // The edge of --stale-after: exactly 60 minutes still counts.
        assert.strictEqual(status(node("web-1"), [asset("a", "web-1", { lastActivityAt: ago(60) })]), "current");
    });

    it("coverage is current ÷ in scope, rounded down to a tenth (a fleet of one missing host is never 100%)", () => {
        const counts = { inScope: 1001, current: 1000, otherVersion: 0, silent: 0, failed: 0, noAgent: 1, offline: 0 };
        assert.strictEqual(coveragePercent(counts), 99.9);
        assert.strictEqual(coveragePercent({ ...counts, inScope: 0, current: 0, noAgent: 0 }), 100);
    });

    it("lists an association's targets as DescribeInstanceInformation filters, and refuses targets it cannot list", () => {
        assert.deepStrictEqual(targetFilters([{ Key: "tag:uptycs", Values: ["fleet"] }, { Key: "InstanceIds", Values: ["*"] }], "a"), [{ Key: "tag:uptycs", Values: ["fleet"] }]);
        assert.deepStrictEqual(targetFilters([{ Key: "InstanceIds", Values: ["i-1", "i-2"] }], "a"), [{ Key: "InstanceIds", Values: ["i-1", "i-2"] }]);
        assert.throws(() => targetFilters([{ Key: "resource-groups:Name", Values: ["web"] }], "UptycsAgent-install"),
            /association UptycsAgent-install targets resource-groups:Name=web: only tag:<key> and InstanceIds targets can be listed/);
    });

    it("a region: nodes out of scope account for their assets; a node in scope that joined after all nodes were listed does too", () => {
        const assets = [asset("in", "web-1"), asset("out", "batch-1"), asset("late", "new-1"), asset("stray", "laptop-1")];
        const index = new AssetIndex(assets);
        const accounted = new Set<string>();
        const web = node("web-1", { instanceId: "i-1" });
        const late = node("new-1", { instanceId: "i-3" });
        const region = classifyRegion({ nodes: [web, late], allNodes: [web, node("batch-1", { instanceId: "i-2" })], runs: new Map() }, index, FLEET, accounted);
        assert.deepStrictEqual(region.nodes.map((n) => [n.instanceId, n.status]), [["i-1", "current"], ["i-3", "current"]]);
        assert.deepStrictEqual(unmatchedAssets(assets, accounted).map((a) => a.id), ["stray"]);
        assert.strictEqual(region.inventory, false);
        assert.match(classifyNode({ node: node("x"), assets: [], inventory: "not gathered in this region" }, FLEET).detail!, /inventory not gathered in this region/);
    });
});
