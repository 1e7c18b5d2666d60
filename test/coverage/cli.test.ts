// Issue: know the fleet's coverage. `npm run coverage` end to end: the real AWS SDK against the
// local SSM stand-in (managed nodes, the fleet association's run per node, inventory), the Uptycs
// client against the local Uptycs API (`/assets`, paged), the stack outputs from a file or from a
// stand-in `pulumi` on PATH. Each node is set up to be one status; the report must find it.
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CoverageReport } from "../../platforms/coverage";
import { EXIT, main } from "../../coverage/cli";
import { FakeAws, FakeInstance } from "../support/fakeAws";
import { FakeAsset, FakeUptycsApi } from "../support/fakeUptycsApi";

const ACCOUNT = "123456789012";
const EAST = "us-east-1";
const WEST = "eu-west-1";
const FLEET = "5.14.2.21";
const VERSION_NAME = `${FLEET}-0badc0de`;
const ASSOCIATION = "UptycsAgent-install";
const NOW = Date.parse("2026-12-06T12:00:00Z");
const ago = (minutes: number): string => new Date(NOW - minutes * 60_000).toISOString();
const ROOT = path.join(__dirname, "..", "..");

/** The stack outputs as `pulumi stack output --json` prints them (only what the report reads, and some it does not). */
const OUTPUTS = {
    packageName: "UptycsAgent", agentVersion: FLEET, build: "protect", documentVersion: VERSION_NAME, bucketName: "b", zips: {},
    regions: {
        [EAST]: { documentArn: "arn:aws:ssm:us-east-1:123456789012:document/UptycsAgent", documentVersion: VERSION_NAME, bucketName: "b", fleetAssociation: ASSOCIATION },
        [WEST]: { documentArn: "arn:aws:ssm:eu-west-1:123456789012:document/UptycsAgent", documentVersion: VERSION_NAME, bucketName: "b2" },
    },
    rollout: { [EAST]: { stages: [], fleetVersion: VERSION_NAME } },
};

describe("coverage report (npm run coverage): SSM and Uptycs stand-ins, real AWS SDK and Uptycs client", function () {
    this.timeout(60_000);
    let aws: FakeAws;
    let uptycs: FakeUptycsApi;
    let dir: string;
    let savedEnv: NodeJS.ProcessEnv;

    const fleetTag = { "uptycs-fleet": "yes" };
    /** A node of the fleet, which the region's inventory association also targets (tag inventory=on). */
    const node = (id: string, computerName: string, extra: Partial<FakeInstance> = {}): Partial<FakeInstance> & { id: string } => ({ id, computerName, tags: { ...fleetTag, inventory: "on" }, ...extra });
    const asset = (id: string, hostName: string, extra: Partial<FakeAsset> = {}): FakeAsset => ({ id, hostName, agentVersion: FLEET, protect: true, lastActivityAt: ago(5), ...extra });

    /** Runs the command in this process; returns its exit code and what it wrote. */
    async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
        let stdout = "";
        let stderr = "";
        const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, env: process.env, now: () => NOW });
        return { code, stdout, stderr };
    }
    const outputsFile = (outputs: unknown = OUTPUTS): string => {
        const file = path.join(dir, `outputs-${Math.random().toString(16).slice(2)}.json`);
        fs.writeFileSync(file, JSON.stringify(outputs));
        return file;
    };
    const keyFile = (): string => {
        const file = path.join(dir, "key.json");
        fs.writeFileSync(file, JSON.stringify(uptycs.apiKey()));
        return file;
    };
    const json = async (...argv: string[]): Promise<CoverageReport> => {
        const r = await run("--outputs", outputsFile(), "--api-key-file", keyFile(), "--json", ...argv);
        assert.strictEqual(r.code, EXIT.ok, r.stderr);
        return JSON.parse(r.stdout) as CoverageReport;
    };
    const statusOf = (report: CoverageReport, region: string, id: string): { status: string; detail?: string } => {
        const n = report.regions[region].nodes.find((x) => x.instanceId === id);
        assert.ok(n, `${id} is not among ${region}'s nodes`);
        return n;
    };

    beforeEach(async () => {
        aws = await FakeAws.start();
        aws.addUser("AKIACOVERAGE", ACCOUNT);
        uptycs = await FakeUptycsApi.start();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-coverage-"));
        savedEnv = { ...process.env };
        Object.assign(process.env, aws.env(), { AWS_ACCESS_KEY_ID: "AKIACOVERAGE", AWS_SECRET_ACCESS_KEY: "coverage-secret", AWS_MAX_ATTEMPTS: "3" });
        delete process.env.UPTYCS_API_KEY;
        delete process.env.AWS_PROFILE;

        // us-east-1: a fleet association over tag uptycs-fleet=yes, inventory gathered everywhere.
        aws.addNodes(ACCOUNT, EAST, [
            node("i-00000000000000001", "web-1.ec2.internal"),
            node("i-00000000000000002", "ip-10-0-0-2.ec2.internal"),
            node("i-00000000000000003", "EC2AMAZ-ABC123", { platformType: "Windows" }),
            node("i-00000000000000004", "old-1.ec2.internal"),
            node("i-00000000000000005", "sensor-1.ec2.internal"),
            node("i-00000000000000006", "quiet-1.ec2.internal"),
            node("i-00000000000000007", "broken-1.ec2.internal", { outcome: () => ({ status: "Failed", detailedStatus: "Failed" }) }),
            node("i-00000000000000008", "blocked-1.ec2.internal", { applications: [{ Name: "bash", Version: "5.2" }, { Name: "uptycs-protect", Version: FLEET }] }),
            node("i-00000000000000009", "gone-1.ec2.internal", { pingStatus: "ConnectionLost" }),
            node("i-0000000000000000a", "db.a.example.com"),
            node("i-0000000000000000b", "EC2AMAZ-WIN2", { platformType: "Windows", applications: [{ Name: "Notepad++", Version: "8" }] }),
            // In the fleet, outside the inventory association's targets: inventory knows nothing of it, even of its agent.
            node("i-0000000000000000c", "EC2AMAZ-WIN3", { platformType: "Windows", tags: fleetTag, applications: [{ Name: "Uptycs Protect", Version: FLEET }] }),
            // Outside the fleet association's targets: not in scope, yet it accounts for its asset.
            { id: "i-000000000000000ff", computerName: "outside-1.ec2.internal", tags: { team: "x" } },
        ]);
        aws.applyAssociation(ACCOUNT, EAST, { name: "AWS-GatherSoftwareInventory", associationName: "inventory", parameters: {}, targets: [{ key: "tag:inventory", values: ["on"] }], applyOnlyAtCronInterval: true });
        aws.applyAssociation(ACCOUNT, EAST, {
            name: "AWS-ConfigureAWSPackage", associationName: ASSOCIATION, parameters: { action: "Install", name: "UptycsAgent", version: VERSION_NAME },
            targets: [{ key: "tag:uptycs-fleet", values: ["yes"] }],
        });
        // eu-west-1: no association (every node in scope), no inventory.
        aws.addNodes(ACCOUNT, WEST, [
            { id: "i-0000000000000e001", computerName: "eu-1.eu-west-1.compute.internal" },
            { id: "i-0000000000000e002", computerName: "eu-2.eu-west-1.compute.internal", applications: [{ Name: "uptycs-protect", Version: FLEET }] },
        ]);
        uptycs.assets = [
            asset("a-01", "web-1.ec2.internal"),
            asset("a-02", "ip-10-0-0-2"), // short on the Uptycs side
            asset("a-03", "EC2AMAZ-ABC123.corp.example.com"), // fully qualified on the Uptycs side
            asset("a-04", "old-1.ec2.internal", { agentVersion: "5.13.1.4" }),
            asset("a-05", "sensor-1.ec2.internal", { protect: false }),
            asset("a-06", "quiet-1.ec2.internal", { lastActivityAt: ago(180) }),
            asset("a-07", "db.b.example.com"), // same first label as db.a.example.com: another host
            asset("a-08", "outside-1.ec2.internal"),
            asset("a-09", "laptop-7.corp.example.com", { agentVersion: "5.9.0.2" }),
            asset("a-10", "other-group-host", { objectGroupId: "g-other" }),
            asset("a-11", "eu-1.eu-west-1.compute.internal"),
        ];
    });
    afterEach(async () => {
        process.env = savedEnv;
        await aws.stop();
        await uptycs.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("gives every node in scope one status, matching short and fully qualified host names, and lists the assets no node accounts for", async () => {
        const report = await json();
        assert.deepStrictEqual(Object.keys(report).slice(0, 5), ["generatedAt", "package", "fleetVersion", "build", "staleAfterMinutes"]);
        assert.strictEqual(report.generatedAt, new Date(NOW).toISOString());
        assert.strictEqual(report.package, "UptycsAgent");
        assert.strictEqual(report.fleetVersion, FLEET);
        assert.strictEqual(report.build, "protect");
        const east = report.regions[EAST];
        const expected: Record<string, string> = {
            "i-00000000000000001": "current", "i-00000000000000002": "current", "i-00000000000000003": "current",
            "i-00000000000000004": "other-version", "i-00000000000000005": "other-version", "i-00000000000000006": "silent",
            "i-00000000000000007": "failed", "i-00000000000000008": "no-agent", "i-00000000000000009": "offline",
            "i-0000000000000000a": "no-agent", "i-0000000000000000b": "no-agent", "i-0000000000000000c": "no-agent",
        };
        assert.deepStrictEqual(Object.fromEntries(east.nodes.map((n) => [n.instanceId, n.status])), expected);
        assert.deepStrictEqual(east.counts, { inScope: 12, current: 3, otherVersion: 2, silent: 1, failed: 1, noAgent: 4, offline: 1 });
        assert.strictEqual(east.coveragePercent, 25);
        assert.strictEqual(east.inventory, true);
        assert.deepStrictEqual(east.platforms.Windows.counts, { inScope: 3, current: 1, otherVersion: 0, silent: 0, failed: 0, noAgent: 2, offline: 0 });
        // Each node's JSON has the fields; a current node carries what its asset reports.
        const current = east.nodes.find((n) => n.instanceId === "i-00000000000000001")!;
        assert.deepStrictEqual(current, { instanceId: "i-00000000000000001", computerName: "web-1.ec2.internal", platform: "Linux", status: "current", agentVersion: FLEET, build: "protect", lastActivityAt: ago(5) });
        // The details say which version or build, since when, what the run did and what inventory saw.
        assert.match(statusOf(report, EAST, "i-00000000000000004").detail!, /runs 5\.13\.1\.4 protect; the fleet runs 5\.14\.2\.21 protect/);
        assert.match(statusOf(report, EAST, "i-00000000000000005").detail!, /runs 5\.14\.2\.21 sensor-only/);
        assert.match(statusOf(report, EAST, "i-00000000000000006").detail!, /last reported .* \(180 min ago\), silent for more than 60 min/);
        assert.match(statusOf(report, EAST, "i-00000000000000007").detail!, /latest run: Failed/);
        assert.match(statusOf(report, EAST, "i-00000000000000008").detail!, /inventory \(captured .*\) lists uptycs-protect 5\.14\.2\.21: installed but not enrolled/);
        assert.doesNotMatch(statusOf(report, EAST, "i-00000000000000008").detail!, /bash/);
        assert.match(statusOf(report, EAST, "i-0000000000000000b").detail!, /inventory lists no Uptycs package/);
        assert.match(statusOf(report, EAST, "i-0000000000000000c").detail!, /no Uptycs asset; inventory not gathered on this node;/);
        assert.match(statusOf(report, EAST, "i-00000000000000009").detail!, /PingStatus ConnectionLost since/);
        // eu-west-1: no association, so every managed node; no inventory, said so.
        const west = report.regions[WEST];
        assert.strictEqual(west.inventory, false);
        assert.strictEqual(west.association, undefined);
        assert.deepStrictEqual(west.nodes.map((n) => [n.instanceId, n.status]), [["i-0000000000000e002", "no-agent"], ["i-0000000000000e001", "current"]]);
        assert.match(west.nodes[0].detail!, /inventory not gathered in this region; the fleet association's latest run did not reach it/);
        // The reverse list: the other-FQDN host and the laptop; not the outside node's asset, not another group's.
        assert.deepStrictEqual(report.unmatchedAssets.map((a) => [a.hostName, a.agentVersion, a.lastActivityAt]),
            [["db.b.example.com", FLEET, ago(5)], ["laptop-7.corp.example.com", "5.9.0.2", ago(5)]]);
        // Paged list calls only: no per-node SSM call.
        const actions = new Set(aws.calls.map((c) => c.action));
        assert.ok(!actions.has("DescribeInstanceAssociationsStatus") && !actions.has("ListInventoryEntries"), [...actions].join(", "));
    });

    it("prints a table per region and platform and the nodes behind each count; exits 2 below --min-coverage, 0 at or above it", async () => {
        const below = await run("--outputs", outputsFile(), "--api-key-file", keyFile(), "--min-coverage", "90");
        assert.strictEqual(below.code, EXIT.belowMinimum, below.stderr);
        assert.match(below.stderr, /below 90% in us-east-1 \(25\.0%\), eu-west-1 \(50\.0%\)\n$/);
        assert.match(below.stdout, /^us-east-1: targets of association UptycsAgent-install, fleet at 5\.14\.2\.21, inventory gathered$/m);
        assert.match(below.stdout, /^ {2}Linux +9 +2 +2 +1 +1 +2 +1 +22\.2%$/m);
        assert.match(below.stdout, /^ {2}Windows +3 +1 +0 +0 +0 +2 +0 +33\.3%$/m);
        assert.match(below.stdout, /^ {2}all +12 +3 +2 +1 +1 +4 +1 +25\.0%$/m);
        assert.match(below.stdout, /^ {2}failed \(1\):\n {4}i-00000000000000007 {2}broken-1\.ec2\.internal {2}Linux {2}the fleet association's latest run: Failed$/m);
        assert.match(below.stdout, /no managed node accounts for: 2\n {2}db\.b\.example\.com/);
        // Progress goes to stderr, never into the report.
        assert.match(below.stderr, /us-east-1: 12 managed nodes in scope of 13/);
        assert.doesNotMatch(below.stdout, /managed nodes in scope/);
        const enough = await run("--outputs", outputsFile(), "--api-key-file", keyFile(), "--min-coverage", "25", "--region", EAST, "--region", EAST);
        assert.strictEqual(enough.code, EXIT.ok, enough.stderr);
        assert.doesNotMatch(enough.stdout, /^eu-west-1:/m);
    });

    it("pages both sides: SSM lists in pages of 50 (nodes) and 100 (inventory), Uptycs /assets by limit and offset", async () => {
        const many = Array.from({ length: 130 }, (_, i) => `i-1${String(i).padStart(16, "0")}`);
        aws.addNodes(ACCOUNT, EAST, many.map((id, i) => node(id, `bulk-${i}.ec2.internal`, { applications: [{ Name: "osquery", Version: "5.13.1.4" }] })));
        uptycs.assets.push(...many.slice(0, 65).map((_, i) => asset(`b-${i}`, `bulk-${i}`)));
        uptycs.assetPageCap = 7;
        const report = await json("--region", EAST);
        assert.strictEqual(report.regions[EAST].counts.inScope, 142);
        assert.strictEqual(report.regions[EAST].counts.current, 3 + 65);
        assert.strictEqual(report.regions[EAST].counts.noAgent, 4 + 65);
        assert.match(statusOf(report, EAST, many[100]).detail!, /lists osquery 5\.13\.1\.4/);
        const pages = (action: string): number => aws.calls.filter((c) => c.action === action).length;
        // 142 in scope, 143 in all, 141 the inventory targets: three pages each; the inventory's 132 entities: two pages.
        assert.strictEqual(pages("DescribeInstanceInformation"), 9);
        assert.strictEqual(pages("GetInventory"), 2);
        assert.ok(aws.calls.filter((c) => ["DescribeInstanceInformation", "DescribeAssociationExecutionTargets"].includes(c.action)).every((c) => c.input.MaxResults === 50));
        // 76 assets, at most 7 a page: 11 pages, each from the offset after the last.
        const offsets = uptycs.requests.filter((r) => r.path.startsWith("/assets")).map((r) => Number(new URLSearchParams(r.path.split("?")[1]).get("offset")));
        assert.deepStrictEqual(offsets, Array.from({ length: 11 }, (_, i) => i * 7));
        // eu-west-1 not read: its host's asset is one no node read accounts for.
        assert.deepStrictEqual(report.unmatchedAssets.map((a) => a.hostName), ["db.b.example.com", "eu-1.eu-west-1.compute.internal", "laptop-7.corp.example.com"]);
    });

    /** The command in its own process, as `npm run coverage --` starts it (async: the stand-ins serve from this process). */
    function runProcess(argv: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
        const child = spawn(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "coverage/cli.ts", ...argv], { cwd: ROOT, env });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
        child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
        return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
    }

    it("reads the outputs with `pulumi stack output --json --stack`, and the key from UPTYCS_API_KEY, run as npm runs it", async function () {
        this.timeout(120_000);
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        const outputs = outputsFile();
        // A stand-in Pulumi CLI: prints the outputs for exactly the command the report must run.
        fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\n[ "$*" = "stack output --json --stack prod" ] || { echo "unexpected: $*" >&2; exit 3; }\ncat '${outputs}'\n`, { mode: 0o755 });
        const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, UPTYCS_API_KEY: JSON.stringify(uptycs.apiKey()) };
        const result = await runProcess(["--stack", "prod", "--markdown", "--min-coverage", "50"], env);
        assert.strictEqual(result.status, EXIT.belowMinimum, result.stderr);
        assert.match(result.stdout, /^## Uptycs agent coverage: UptycsAgent 5\.14\.2\.21 \(protect\)$/m);
        assert.match(result.stdout, /^### us-east-1: \d+\.\d% \(below the minimum\)$/m);
        assert.match(result.stdout, /^\| platform \| in scope \| current \|/m);
        assert.match(result.stdout, /<details><summary>no-agent: 4<\/summary>/);
        const wrongStack = await runProcess(["--stack", "dev"], env);
        assert.strictEqual(wrongStack.status, EXIT.error);
        assert.match(wrongStack.stderr, /coverage: pulumi stack output --json --stack dev failed: unexpected: stack output --json --stack dev/);
    });

    it("fails with exit 1 naming the region and SSM action, the Uptycs endpoint, or the stack output at fault", async () => {
        const missing = await run("--outputs", outputsFile({ ...OUTPUTS, build: undefined }), "--api-key-file", keyFile());
        assert.strictEqual(missing.code, EXIT.error);
        assert.match(missing.stderr, /output 'build' is missing \(a stack last updated before its outputs had it: run pulumi up once\)/);
        const unknownRegion = await run("--outputs", outputsFile(), "--api-key-file", keyFile(), "--region", "ap-south-1");
        assert.match(unknownRegion.stderr, /--region ap-south-1: not a region of the stack \(its regions output: us-east-1, eu-west-1\)/);
        process.env.AWS_ACCESS_KEY_ID = "AKIAUNKNOWN";
        const refused = await run("--outputs", outputsFile(), "--api-key-file", keyFile(), "--region", EAST);
        assert.strictEqual(refused.code, EXIT.error);
        assert.match(refused.stderr, /coverage: region us-east-1: ssm:ListAssociations failed: UnrecognizedClientException: The security token included in the request is invalid/);
        process.env.AWS_ACCESS_KEY_ID = "AKIACOVERAGE";
        uptycs.faults.push({ path: /^\/assets/, times: 1, kind: "status", status: 403 });
        const rejected = await run("--outputs", outputsFile(), "--api-key-file", keyFile());
        assert.strictEqual(rejected.code, EXIT.error);
        assert.match(rejected.stderr, /coverage: Uptycs API: the Uptycs API at localhost:\d+ rejected the credentials \(HTTP 403\) for GET \/assets\?limit=1000&offset=0/);
        const noKey = await run("--outputs", outputsFile());
        assert.match(noKey.stderr, /no Uptycs key: pass --api-key-file <file> or put the key file's JSON in UPTYCS_API_KEY/);
        const bad = await run("--outputs", outputsFile(), "--stale-after", "soon");
        assert.strictEqual(bad.code, EXIT.error);
        assert.match(bad.stderr, /--stale-after must be a number from 1 to 525600, got 'soon'\nusage: npm run coverage/);
        const unknownOption = await run("--min-coverge", "90");
        assert.strictEqual(unknownOption.code, EXIT.error);
        assert.match(unknownOption.stderr, /coverage: Unknown option '--min-coverge'/);
        const help = await run("--help");
        assert.strictEqual(help.code, EXIT.ok);
        assert.match(help.stdout, /^usage: npm run coverage -- \[options\]\n(.*\n)*  --min-coverage <percent>/);
    });

    it("waits out throttling (SSM's through the SDK's retries, Uptycs' Retry-After) and reads on", async () => {
        aws.throttle.set("DescribeInstanceInformation", 2);
        // Three seconds: longer than the client's own first backoff (1-2 s), so only Retry-After explains the wait.
        uptycs.faults.push({ path: /^\/assets/, times: 1, kind: "status", status: 429, retryAfter: "3" });
        const started = Date.now();
        const report = await json("--region", EAST);
        assert.strictEqual(report.regions[EAST].counts.inScope, 12);
        assert.strictEqual(report.regions[EAST].counts.current, 3);
        assert.ok(Date.now() - started >= 3000, "the Retry-After seconds were waited out");
        assert.strictEqual(uptycs.requests.filter((r) => r.path.startsWith("/assets") && r.status === 429).length, 1);
    });

    it("judges by the region's fleet version mid-rollout (rollout.<region>.fleetVersion), and an asset silent past --stale-after", async () => {
        const midRollout = { ...OUTPUTS, agentVersion: "5.15.0.3", rollout: { [EAST]: { stages: [], fleetVersion: VERSION_NAME } } };
        const r = await run("--outputs", outputsFile(midRollout), "--api-key-file", keyFile(), "--json", "--region", EAST, "--stale-after", "200");
        const report = JSON.parse(r.stdout) as CoverageReport;
        assert.strictEqual(report.fleetVersion, "5.15.0.3");
        assert.strictEqual(report.regions[EAST].fleetVersion, FLEET);
        // Within 200 minutes the quiet host (180 min) is current.
        assert.strictEqual(statusOf(report, EAST, "i-00000000000000006").status, "current");
        assert.strictEqual(report.regions[EAST].counts.current, 4);
    });
});
