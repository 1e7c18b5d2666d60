// Issue: roll a new agent version out in rings. Whole `pulumi up` runs: the program under mocks,
// every dynamic resource (version name, pruner, gates) through @pulumi/pulumi's dynamic-provider
// host with the real AWS SDK, against the local SSM/STS and its State Manager stand-in, which
// this test also drives as the AWS provider would (documents and associations). Instances end
// their runs as each case sets, per instance and package version.
import * as assert from "assert";
import { SSMClient, StartAssociationsOnceCommand } from "@aws-sdk/client-ssm";
import * as pulumi from "@pulumi/pulumi";
import { FakeAws, FakeOutcome } from "../support/fakeAws";
import { FakeUptycsApi } from "../support/fakeUptycsApi";
import { ARTIFACT_TYPE, mockArtifacts, mockKeyFile, ProgramFailure, ProgramRun, runProgram, TEST_ACCOUNT } from "../support/program";
import { Props, ProviderHost } from "../support/providerHost";
import { ROOT } from "../support/e2e";

const ASSOCIATION = "aws:ssm/association:Association";
const GATE = "pulumi-nodejs:dynamic/uptycs:RolloutGate";
const STACK_SET = "aws:cloudformation/stackSet:StackSet";
const A = "5.14.2.21";
const B = "5.15.0.3";
const ring = (value: string): { tagKey: string; tagValues: string[] } => ({ tagKey: "uptycs-ring", tagValues: [value] });
/** State Manager actions that read a run: none may happen on a no-op or a preview. */
const RUN_READS = ["DescribeAssociation", "DescribeAssociationExecutions", "DescribeAssociationExecutionTargets"];

/** Artifacts of agent `version`: zips (and so the content version) differ per version. */
const artifactsAt = (version: string) => async (args: pulumi.runtime.MockResourceArgs): Promise<{ id: string; state: Record<string, unknown> }> => {
    const { id, state } = await mockArtifacts(args);
    const sha = Buffer.from(`${version}/${String(state.zipSha256)}`).toString("hex").padEnd(64, "0").slice(-64);
    return { id, state: { ...state, version, zipSha256: sha, zipFileName: String(state.zipFileName).replace(A, version).replace(/[0-9a-f]{12}\.zip$/, `${sha.slice(0, 12)}.zip`) } };
};

/** The region of an AWS resource: its explicit provider's (`<component>-<region>`), else the stack's. */
const regionOf = (args: pulumi.runtime.MockResourceArgs): string => /-([a-z]{2}-[a-z]+-[0-9])-id$/.exec(args.provider ?? "")?.[1] ?? "us-east-1";

describe("staged rollout: rings before the fleet (gates through the dynamic-provider host, State Manager stand-in)", function () {
    this.timeout(120_000);
    let aws: FakeAws;
    const keyFile = mockKeyFile();

    /** One stack: the dynamic resources' state between runs, as the engine keeps it. */
    class Stack {
        readonly state = new Map<string, { id: string; outs: Props }>();
        hostLog = "";
        /** The dynamic resources the last run changed (or, in preview, would change). */
        changed: string[] = [];

        /** `pulumi up` (or `preview`) at agent `version` with `config`; a failed run is returned, not thrown. */
        async up(version: string, config: Record<string, string>, preview = false): Promise<ProgramRun | ProgramFailure> {
            const host = await ProviderHost.start(ROOT, aws.env());
            const inFlight: Promise<unknown>[] = [];
            this.changed = [];
            try {
                await host.configure({ "aws:accessKey": "AKIAPROD", "aws:secretKey": "prod-secret", "uptycs:apiKeyFile": config["uptycs:apiKeyFile"] ?? keyFile });
                return await runProgram({
                    config: { "uptycs:apiKeyFile": keyFile, "aws:accessKey": "AKIAPROD", "aws:secretKey": "prod-secret", ...config },
                    preview,
                    orgAccounts: { "ou-ab12-cdef3456": [{ id: "210987654321", status: "ACTIVE" }] },
                    dynamic: async (args) => {
                        if (args.type === ARTIFACT_TYPE) {
                            return artifactsAt(version)(args);
                        }
                        const op = host.step(args.type, args.name, args.inputs as Props, this.state, preview);
                        inFlight.push(op);
                        const { id, outs, changed } = await op;
                        if (changed) {
                            this.changed.push(args.name);
                        }
                        return { id, state: outs };
                    },
                    awsResource: async (args) => playAws(args, preview),
                }).catch((e: unknown) => {
                    if (e instanceof ProgramFailure) {
                        return e;
                    }
                    throw e;
                });
            } finally {
                await Promise.allSettled(inFlight);
                await host.stop();
                this.hostLog += host.stderr;
            }
        }
    }

    /** The AWS provider's part: documents get versions, associations are created or updated (and so run). */
    async function playAws(args: pulumi.runtime.MockResourceArgs, preview: boolean): Promise<Record<string, unknown> | undefined> {
        const region = regionOf(args);
        if (args.type === "aws:ssm/document:Document" && !preview) {
            aws.publishVersion(TEST_ACCOUNT, region, String(args.inputs.name), String(args.inputs.versionName));
        }
        if (args.type === ASSOCIATION) {
            const input = args.inputs as { associationName: string; name: string; parameters: Record<string, string>; targets: { key: string; values: string[] }[] };
            if (preview) {
                // Preview: an existing association keeps its id; a new one has none yet.
                return { associationId: aws.association(TEST_ACCOUNT, region, input.associationName)?.id };
            }
            return { associationId: aws.applyAssociation(TEST_ACCOUNT, region, input) };
        }
        return undefined;
    }

    const failed = (r: ProgramRun | ProgramFailure): ProgramFailure => {
        assert.ok(r instanceof ProgramFailure, "the run should have failed");
        return r;
    };
    const passed = (r: ProgramRun | ProgramFailure): ProgramRun => {
        assert.ok(!(r instanceof ProgramFailure), `the run failed: ${(r as ProgramFailure).message}`);
        return r;
    };
    const runReads = (): string[] => aws.calls.filter((c) => RUN_READS.includes(c.action)).map((c) => c.action);
    const pinned = (name: string, region = "us-east-1"): string | undefined => aws.association(TEST_ACCOUNT, region, name)?.input.parameters.version;
    /** The published VersionName for agent `version` (the document's, from a run). */
    const documentVersionOf = (run: ProgramRun): string => String(run.outputs.documentVersion);

    beforeEach(async () => {
        aws = await FakeAws.start();
        aws.addUser("AKIAPROD", TEST_ACCOUNT);
    });
    afterEach(async () => {
        await aws.stop();
    });

    const canaryConfig = (stage: Record<string, unknown> = {}): Record<string, string> => ({
        association: JSON.stringify({ targets: ring("fleet"), stages: [{ name: "canary", targets: ring("canary"), ...stage }] }),
    });

    it("a healthy canary lets the fleet move; its progress is logged; a no-op and a preview read no run", async () => {
        // The run shows up half a second after the update, and one canary host takes 2 s:
        // the gate waits for both, polling.
        aws.runStartSeconds = 0.5;
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0c1"], { "uptycs-ring": "canary" });
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0c2"], { "uptycs-ring": "canary" }, () => ({ status: "Success", seconds: 2 }));
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0f1", "i-0f2", "i-0f3"], { "uptycs-ring": "fleet" });
        const stack = new Stack();
        const first = passed(await stack.up(A, canaryConfig()));
        const a = documentVersionOf(first);
        assert.strictEqual(pinned("UptycsAgent-install-canary"), a);
        assert.strictEqual(pinned("UptycsAgent-install"), a, "the fleet follows the passed canary");
        assert.deepStrictEqual(first.outputs.rollout, { "us-east-1": { stages: [{ name: "canary", version: a, succeeded: 2, failed: 0, total: 2 }], fleetVersion: a } });
        assert.match(stack.hostLog, /canary \(us-east-1\): waiting: no run of association a[0-9]+-[-0-9]+ version 1 started\n(.*\n)*canary \(us-east-1\): 1\/2 hosts done \(1 Success, 1 InProgress\)/);
        assert.match(stack.hostLog, /canary \(us-east-1\): passed, 2\/2 Success/);
        const gateReads = aws.calls.filter((c) => RUN_READS.includes(c.action));
        assert.ok(gateReads.length >= 3 && gateReads.every((c) => c.accessKeyId === "AKIAPROD" && c.region === "us-east-1"));
        const registered = first.resources.map((r) => r.name);
        assert.ok(registered.indexOf("uptycs-gate-canary") < registered.indexOf("uptycs-association"), "the fleet association waits for the gate");
        // (A new version moving the fleet from the last approved one: the next case.)

        aws.calls.length = 0;
        const runsBefore = aws.association(TEST_ACCOUNT, "us-east-1", "UptycsAgent-install")!.runs;
        passed(await stack.up(A, canaryConfig()));
        assert.deepStrictEqual(runReads(), [], "a no-op reads no run");
        assert.strictEqual(aws.association(TEST_ACCOUNT, "us-east-1", "UptycsAgent-install")!.runs, runsBefore);

        const preview = passed(await stack.up(B, canaryConfig(), true));
        assert.deepStrictEqual(runReads(), [], "a preview reads no run and waits for none");
        // The new VersionName is chosen from the package's history at update time: unknown here,
        // so the ring's association changes to a version not known yet, and the gate would judge it.
        assert.ok(stack.changed.includes("uptycs-version") && stack.changed.includes("uptycs-gate-canary"), stack.changed.join(" "));
        const stage = preview.one(ASSOCIATION, "uptycs-association-canary");
        assert.strictEqual((stage.inputs.parameters as Record<string, string> | undefined)?.version, undefined, "the ring's association changes (to a version unknown in preview)");
        const fleet = preview.one(ASSOCIATION, "uptycs-association");
        assert.strictEqual((fleet.inputs.parameters as Record<string, string> | undefined)?.version, undefined, "the fleet's version is unknown in preview");
        assert.strictEqual(pinned("UptycsAgent-install"), a, "nothing changed");

        // A version known in preview (only the ring's threshold changes): the ring stays on it,
        // and the fleet's version is still unknown, as the gate will judge again.
        const known = passed(await stack.up(A, canaryConfig({ minTargets: 2 }), true));
        assert.deepStrictEqual(runReads(), []);
        assert.deepStrictEqual(stack.changed, ["uptycs-gate-canary"]);
        assert.strictEqual((known.one(ASSOCIATION, "uptycs-association-canary").inputs.parameters as Record<string, string>).version, a);
        assert.strictEqual((known.one(ASSOCIATION, "uptycs-association").inputs.parameters as Record<string, string> | undefined)?.version, undefined, "unknown until the gate passed");
    });

    it("one failing canary host fails pulumi up, naming host and stage; the fleet and the organization's StackSet stay; a healthy re-run started by hand lets the next up pass", async () => {
        let fixed = false;
        const breaksOnB = (version: string): FakeOutcome => (version.startsWith(B) && !fixed ? { status: "Failed", detailedStatus: "Failed" } : { status: "Success" });
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0c1"], { "uptycs-ring": "canary" });
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0c2"], { "uptycs-ring": "canary" }, breaksOnB);
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0f1"], { "uptycs-ring": "fleet" });
        const config = { ...canaryConfig(), organization: JSON.stringify({ organizationalUnitIds: ["ou-ab12-cdef3456"] }) };
        const stack = new Stack();
        const first = passed(await stack.up(A, config));
        const a = documentVersionOf(first);
        assert.deepStrictEqual(first.one(STACK_SET).inputs.parameters, { PackageVersion: a });

        const second = failed(await stack.up(B, config));
        assert.match(second.message, /stage canary of UptycsAgent 5\.15\.0\.3-[0-9a-f]{8} in us-east-1 failed: 1 of 2 instances succeeded \(50 %\), under minSuccessPercent 100/);
        assert.match(second.message, /i-0c2: Failed \(Failed\), Run Command c[0-9]{7}-/);
        assert.doesNotMatch(second.message, /i-0c1/, "only the failed host is listed");
        const b = pinned("UptycsAgent-install-canary")!;
        assert.ok(b.startsWith(B), "the canary got the new version");
        assert.strictEqual(pinned("UptycsAgent-install"), a, "the fleet keeps the last approved agent");
        assert.ok(!second.resources.some((r) => r.type === STACK_SET), "the StackSet's version parameter is held (not even registered)");
        assert.ok(!second.resources.some((r) => r.name === "uptycs-association"));

        // The host is fixed and the association re-run by hand; no new version, no config change.
        fixed = true;
        const versionsBefore = aws.association(TEST_ACCOUNT, "us-east-1", "UptycsAgent-install-canary")!.version;
        const ssm = new SSMClient({ region: "us-east-1", endpoint: aws.endpoint, credentials: { accessKeyId: "AKIAPROD", secretAccessKey: "prod-secret" } });
        await ssm.send(new StartAssociationsOnceCommand({ AssociationIds: [aws.association(TEST_ACCOUNT, "us-east-1", "UptycsAgent-install-canary")!.id] }));
        ssm.destroy();
        aws.calls.length = 0;
        const third = passed(await stack.up(B, config));
        // Each look reads only the runs since the association's current version was made, never its whole history.
        const lastUpdate = aws.association(TEST_ACCOUNT, "us-east-1", "UptycsAgent-install-canary")!.updatedMs;
        const reads = aws.calls.filter((c) => c.action === "DescribeAssociationExecutions");
        assert.ok(reads.length > 0 && reads.every((c) => (c.input.Filters as { Key: string; Value: string; Type: string }[] | undefined)
            ?.some((f) => f.Key === "CreatedTime" && f.Type === "GREATER_THAN" && Date.parse(f.Value) >= lastUpdate - 2000 && Date.parse(f.Value) < lastUpdate)), JSON.stringify(reads.map((c) => c.input)));
        assert.strictEqual(aws.association(TEST_ACCOUNT, "us-east-1", "UptycsAgent-install-canary")!.version, versionsBefore, "the gate started nothing");
        assert.strictEqual(pinned("UptycsAgent-install"), b);
        assert.deepStrictEqual(third.one(STACK_SET).inputs.parameters, { PackageVersion: b });
        assert.deepStrictEqual((third.outputs.rollout as Record<string, { stages: unknown[] }>)["us-east-1"].stages, [{ name: "canary", version: b, succeeded: 2, failed: 0, total: 2 }]);
    });

    it("a run that never ends fails after timeoutMinutes, listing the hosts still running", async () => {
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0c1"], { "uptycs-ring": "canary" });
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0hang"], { "uptycs-ring": "canary" }, () => ({ status: "Success", seconds: "never" }));
        const started = Date.now();
        const run = failed(await new Stack().up(A, canaryConfig({ timeoutMinutes: 0.02 })));
        const seconds = (Date.now() - started) / 1000;
        assert.match(run.message, /stage canary of UptycsAgent .* in us-east-1 did not finish within timeoutMinutes 0\.02: 1\/2 hosts done \(1 Success, 1 InProgress\); still running:\n {2}i-0hang: InProgress/);
        assert.ok(seconds >= 1.2 && seconds < 30, `gave up after ${seconds} s`);
        assert.strictEqual(pinned("UptycsAgent-install"), undefined, "no fleet association");
    });

    it("a ring of more hosts than a page, the slowest past timeoutMinutes read as seconds, is judged whole: every host counted, a failure on the last page named", async () => {
        // Five hosts at two a page: the last page holds i-0c5. timeoutMinutes 0.2 is 12 s; the slow
        // host takes 3 s, past 0.2 "seconds" but well within the minutes.
        let failing = false;
        for (const id of ["i-0c1", "i-0c2", "i-0c3", "i-0c4"]) {
            aws.addInstances(TEST_ACCOUNT, "us-east-1", [id], { "uptycs-ring": "canary" });
        }
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0c5"], { "uptycs-ring": "canary" }, () => (failing ? { status: "Failed", detailedStatus: "Failed", seconds: 3 } : { status: "Success", seconds: 3 }));
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0f1"], { "uptycs-ring": "fleet" });
        assert.strictEqual(aws.pageSize, 2);
        const stack = new Stack();
        const config = canaryConfig({ timeoutMinutes: 0.2 });
        const first = passed(await stack.up(A, config));
        const a = documentVersionOf(first);
        assert.deepStrictEqual((first.outputs.rollout as Record<string, { stages: unknown[] }>)["us-east-1"].stages, [{ name: "canary", version: a, succeeded: 5, failed: 0, total: 5 }]);
        const pages = aws.calls.filter((c) => c.action === "DescribeAssociationExecutionTargets" && c.input.NextToken !== undefined);
        assert.ok(pages.length >= 2, "the gate read the later pages");

        failing = true;
        const second = failed(await stack.up(B, config));
        assert.match(second.message, /stage canary .* failed: 4 of 5 instances succeeded \(80 %\), under minSuccessPercent 100[^]*i-0c5: Failed \(Failed\)/);
        assert.strictEqual(pinned("UptycsAgent-install"), a);
    });

    it("a run still InProgress is not judged from the hosts listed so far", async () => {
        // One host at a time, with State Manager's rate control taking 3 s to dispatch the next,
        // and only dispatched hosts listed: for those seconds every listed host has finished while
        // the run is still InProgress. The second host then fails.
        aws.listsQueuedTargets = false;
        aws.dispatchGapSeconds = 3;
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0c1"], { "uptycs-ring": "canary" }, () => ({ status: "Success", seconds: 0.5 }));
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0c2"], { "uptycs-ring": "canary" }, () => ({ status: "Failed", detailedStatus: "Failed", seconds: 0.5 }));
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0f1"], { "uptycs-ring": "fleet" });
        const stack = new Stack();
        const run = failed(await stack.up(A, canaryConfig({ maxConcurrency: "1" })));
        assert.match(stack.hostLog, /canary \(us-east-1\): 1\/1 hosts done \(1 Success\)/, "the gate saw the moment only finished hosts were listed");
        assert.match(run.message, /stage canary .* failed: 1 of 2 instances succeeded \(50 %\)[^]*i-0c2: Failed \(Failed\)/);
        assert.strictEqual(pinned("UptycsAgent-install"), undefined, "the fleet was never pinned");
    });

    it("a ring whose targets or maxConcurrency change is judged again: its association has a new version, so a new run", async () => {
        let broken = false;
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0c1"], { "uptycs-ring": "canary" });
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0c2"], { "uptycs-ring": "canary2" }, () => (broken ? { status: "Failed", detailedStatus: "Failed" } : { status: "Success" }));
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0f1"], { "uptycs-ring": "fleet" });
        const stack = new Stack();
        const a = documentVersionOf(passed(await stack.up(A, canaryConfig())));
        broken = true;
        // Same agent version: only the ring's rate control changes.
        aws.calls.length = 0;
        passed(await stack.up(A, canaryConfig({ maxConcurrency: "1" })));
        assert.ok(stack.changed.includes("uptycs-gate-canary") && runReads().length > 0, "the gate judged the new association version's run");
        // The ring now also takes the broken host: its run fails, and says so.
        const widened = failed(await stack.up(A, canaryConfig({ maxConcurrency: "1", targets: { tagKey: "uptycs-ring", tagValues: ["canary", "canary2"] } })));
        assert.match(widened.message, /stage canary .* failed: 1 of 2 instances succeeded[^]*i-0c2: Failed/);
        assert.strictEqual(pinned("UptycsAgent-install"), a);
    });

    it("targets that match no instance fail: the run reached no instance", async () => {
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0f1"], { "uptycs-ring": "fleet" });
        const run = failed(await new Stack().up(A, { association: JSON.stringify({ targets: ring("fleet"), stages: [{ name: "canary", targets: ring("nobody") }] }) }));
        assert.match(run.message, /stage canary of UptycsAgent .* in us-east-1: the run reached no instance/);
    });

    it("two stages run in order: the second ring moves only after the first passed, the fleet after both", async () => {
        let broken = false;
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0c1"], { "uptycs-ring": "canary" }, () => (broken ? { status: "TimedOut", detailedStatus: "DeliveryTimedOut" } : { status: "Success" }));
        // The early ring runs one host at a time (maxConcurrency 1), a second each: the other waits, Pending.
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0e1", "i-0e2"], { "uptycs-ring": "early" }, () => ({ status: "Success", seconds: 1 }));
        aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0f1"], { "uptycs-ring": "fleet" });
        const early = { name: "early", targets: ring("early"), minTargets: 2, maxConcurrency: "1" };
        const config = { association: JSON.stringify({ targets: ring("fleet"), stages: [{ name: "canary", targets: ring("canary") }, early] }) };
        const stack = new Stack();
        const first = passed(await stack.up(A, config));
        const a = documentVersionOf(first);
        const order = first.resources.map((r) => r.name);
        const at = (n: string): number => order.indexOf(n);
        assert.ok(at("uptycs-association-canary") < at("uptycs-gate-canary") && at("uptycs-gate-canary") < at("uptycs-association-early")
            && at("uptycs-association-early") < at("uptycs-gate-early") && at("uptycs-gate-early") < at("uptycs-association"), order.join(" "));
        assert.deepStrictEqual(first.one(GATE, "uptycs-gate-early").inputs.minTargets, 2);
        assert.match(stack.hostLog, /early \(us-east-1\): 0\/2 hosts done \(1 InProgress, 1 Pending\)/);
        assert.match(stack.hostLog, /early \(us-east-1\): passed, 2\/2 Success/);
        assert.deepStrictEqual(["UptycsAgent-install-canary", "UptycsAgent-install-early", "UptycsAgent-install"].map((n) => pinned(n)), [a, a, a]);

        broken = true;
        const second = failed(await stack.up(B, config));
        assert.match(second.message, /stage canary .* failed: 0 of 1 instances succeeded \(0 %\)[^]*i-0c1: TimedOut \(DeliveryTimedOut\)/);
        assert.ok(pinned("UptycsAgent-install-canary")!.startsWith(B));
        assert.deepStrictEqual(["UptycsAgent-install-early", "UptycsAgent-install"].map((n) => pinned(n)), [a, a], "the second ring and the fleet stay");
    });

    it("with regions, each region's run is read in that region with the stack's credentials", async () => {
        for (const region of ["us-east-1", "eu-west-1"]) {
            aws.addInstances(TEST_ACCOUNT, region, [`i-0c-${region}`], { "uptycs-ring": "canary" });
        }
        const run = passed(await new Stack().up(A, { ...canaryConfig(), regions: JSON.stringify(["us-east-1", "eu-west-1"]) }));
        for (const region of ["us-east-1", "eu-west-1"]) {
            const reads = aws.calls.filter((c) => RUN_READS.includes(c.action) && c.input.AssociationId === aws.association(TEST_ACCOUNT, region, "UptycsAgent-install-canary")!.id);
            assert.ok(reads.length >= 3 && reads.every((c) => c.region === region && c.accessKeyId === "AKIAPROD"), region);
            assert.strictEqual(pinned("UptycsAgent-install", region), String(run.outputs.documentVersion));
        }
        assert.deepStrictEqual(Object.keys(run.outputs.rollout as object).sort(), ["eu-west-1", "us-east-1"]);
    });

    describe("requireCheckIn: a ring passes once its hosts report to the Uptycs tenant (local Uptycs API)", () => {
        let uptycs: FakeUptycsApi;
        let tenantKey: string;
        const OLD = "5.13.1.4";
        const now = (): string => new Date().toISOString();
        beforeEach(async () => {
            uptycs = await FakeUptycsApi.start();
            tenantKey = mockKeyFile(uptycs.apiKey());
            aws.addNodes(TEST_ACCOUNT, "us-east-1", [
                { id: "i-0c1", computerName: "canary-1.ec2.internal", tags: { "uptycs-ring": "canary" } },
                { id: "i-0c2", computerName: "canary-2", tags: { "uptycs-ring": "canary" } },
            ]);
            aws.addInstances(TEST_ACCOUNT, "us-east-1", ["i-0f1"], { "uptycs-ring": "fleet" });
            // Both canary hosts enrolled long ago, at the old version.
            uptycs.assets = [
                { id: "a-1", hostName: "canary-1", agentVersion: OLD, protect: true, lastActivityAt: now() },
                { id: "a-2", hostName: "canary-2.ec2.internal", agentVersion: OLD, protect: true, lastActivityAt: now() },
            ];
        });
        afterEach(async () => {
            await uptycs.stop();
        });
        const config = (stage: Record<string, unknown> = {}): Record<string, string> => ({ ...canaryConfig({ requireCheckIn: true, ...stage }), "uptycs:apiKeyFile": tenantKey });
        const assetReads = (): number => uptycs.count("/assets");

        it("waits until each host whose run succeeded reports at the new version and build after the run began; a no-op and a preview read no asset", async () => {
            // The install restarts each agent into the new version, which then reports: canary-1 a
            // second after its run began, canary-2 three seconds after.
            const timers: NodeJS.Timeout[] = [];
            const installs = (i: number, seconds: number) => (version: string): FakeOutcome => {
                timers.push(setTimeout(() => Object.assign(uptycs.assets[i], { agentVersion: version.split("-")[0], lastActivityAt: now() }), seconds * 1000));
                return { status: "Success" };
            };
            aws.instances(TEST_ACCOUNT, "us-east-1").get("i-0c1")!.outcome = installs(0, 1);
            aws.instances(TEST_ACCOUNT, "us-east-1").get("i-0c2")!.outcome = installs(1, 3);
            const stack = new Stack();
            try {
                passed(await stack.up(A, config()));
            } finally {
                timers.forEach(clearTimeout);
            }
            assert.match(stack.hostLog, /canary \(us-east-1\): 0\/2 hosts reported to Uptycs at 5\.14\.2\.21 protect\n(.*\n)*canary \(us-east-1\): 1\/2 hosts (.*\n)*canary \(us-east-1\): 2\/2 hosts/);
            assert.match(stack.hostLog, /canary \(us-east-1\): passed, 2\/2 Success, 2 reporting to Uptycs/);
            assert.ok(assetReads() >= 3, `the tenant was polled: ${assetReads()} reads`);
            assert.ok(aws.calls.some((c) => c.action === "DescribeInstanceInformation" && JSON.stringify(c.input.Filters) === JSON.stringify([{ Key: "InstanceIds", Values: ["i-0c1", "i-0c2"] }])));
            assert.strictEqual(pinned("UptycsAgent-install"), pinned("UptycsAgent-install-canary"), "the fleet moved");
            const reads = assetReads();
            passed(await stack.up(A, config()));
            passed(await stack.up(B, config(), true));
            assert.strictEqual(assetReads(), reads, "no-op and preview read no asset");
        });

        it("fails at the ring's timeout naming each host that did not report (another version, another build, no asset); the fleet stays", async () => {
            aws.addNodes(TEST_ACCOUNT, "us-east-1", [{ id: "i-0c3", computerName: "canary-3.ec2.internal", tags: { "uptycs-ring": "canary" } }]);
            uptycs.assets[0] = { ...uptycs.assets[0], agentVersion: A, protect: false, lastActivityAt: new Date(Date.now() + 60_000).toISOString() };
            const started = Date.now();
            const run = failed(await new Stack().up(A, config({ timeoutMinutes: 0.05 })));
            const seconds = (Date.now() - started) / 1000;
            assert.match(run.message, /stage canary of UptycsAgent .* in us-east-1: 3 of 3 hosts whose run succeeded did not report to Uptycs at 5\.14\.2\.21 protect after the run began \(.*\) within timeoutMinutes 0\.05 \(requireCheckIn\):/);
            assert.match(run.message, /\n {2}i-0c1 \(canary-1\.ec2\.internal\): asset canary-1 reports 5\.14\.2\.21 sensor-only, last at /);
            assert.match(run.message, /\n {2}i-0c2 \(canary-2\): asset canary-2\.ec2\.internal reports 5\.13\.1\.4 protect, last at /);
            assert.match(run.message, /\n {2}i-0c3 \(canary-3\.ec2\.internal\): no Uptycs asset named canary-3\.ec2\.internal/);
            assert.ok(seconds >= 2.5 && seconds < 30, `gave up after ${seconds} s`);
            assert.strictEqual(pinned("UptycsAgent-install"), undefined, "no fleet association");
        });

        it("an asset that reported before the run began does not count: at the new version already, it must report again", async () => {
            uptycs.assets.forEach((a) => Object.assign(a, { agentVersion: A, lastActivityAt: new Date(Date.now() - 60_000).toISOString() }));
            const run = failed(await new Stack().up(A, config({ timeoutMinutes: 0.03 })));
            assert.match(run.message, /2 of 2 hosts whose run succeeded did not report/);
            assert.match(run.message, /i-0c1 \(canary-1\.ec2\.internal\): asset canary-1 reports 5\.14\.2\.21 protect, last at /);
        });

        it("fails at once when the tenant refuses the key, naming the stage and the Uptycs endpoint", async () => {
            uptycs.faults.push({ path: /^\/assets/, times: 10, kind: "status", status: 401 });
            const started = Date.now();
            const run = failed(await new Stack().up(A, config({ timeoutMinutes: 5 })));
            assert.match(run.message, /stage canary of UptycsAgent .* in us-east-1: reading the Uptycs assets of localhost:\d+ \(requireCheckIn\): the Uptycs API at localhost:\d+ rejected the credentials \(HTTP 401\) for GET \/assets/);
            assert.ok(Date.now() - started < 60_000, "no wait for the 5 minute timeout");
            assert.strictEqual(pinned("UptycsAgent-install"), undefined);
        });
    });
});
