// Issue: one `pulumi up` for every region and a whole AWS Organization. Under mocks: the package
// built once and published per region through an explicit provider with the stack's settings;
// sharing with every account of the OUs; the StackSet, its instances and its template; and each
// bad value rejected at preview, naming its key.
import * as assert from "assert";
import { CloudFormationTemplate } from "../../platforms/organization";
import { ARTIFACT_TYPE, mockArtifacts as artifacts, mockKeyFile, ProgramFailure, ProgramRun, runProgram, TEST_ACCOUNT, unsecret } from "../support/program";

const base = { apiKeyFile: mockKeyFile() };
const DOC = "aws:ssm/document:Document";
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
const PROVIDER = "pulumi:providers:aws";
const STACK_SET = "aws:cloudformation/stackSet:StackSet";
const INSTANCE = "aws:cloudformation/stackSetInstance:StackSetInstance";
const THREE = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const OU_A = "ou-ab12-cdef3456";
const OU_B = "ou-ab12-99998888";

/** `n` active member accounts numbered from `from`. */
const members = (from: number, n: number): { id: string; status: string }[] => Array.from({ length: n }, (_, i) => ({ id: String(200000000000 + from + i), status: "ACTIVE" }));

/** A resource as the engine identifies it under one parent: type and name. */
interface Identity {
    readonly type: string;
    readonly name: string;
}

/** The zip objects of a stack from before zips were shared: one per mapping entry, `<component>-<dir>-zip` (`-<region>` with `regions`). */
function perEntryZipObjects(run: ProgramRun, regions: readonly string[], component = "uptycs-"): Identity[] {
    const dirs = run.byType(ARTIFACT_TYPE).map((a) => (a.inputs.entry as { dir: string }).dir);
    return dirs.flatMap((d) => (regions.length === 0 ? [`${component}${d}-zip`] : regions.map((r) => `${component}${d}-zip-${r}`)).map((name) => ({ type: OBJECT, name })));
}

/**
 * The (type, name) of every resource a stack of this program had before names carried the
 * component's name: artifacts were named after the mapping `dir`, zip objects one per entry,
 * `<dir>-zip` (`-<region>` with `regions`); the rest kept their names.
 */
function namesBeforeRename(run: ProgramRun, regions: readonly string[]): Identity[] {
    const dirs = run.byType(ARTIFACT_TYPE).map((a) => (a.inputs.entry as { dir: string }).dir);
    const shared = new Set(run.byType(OBJECT).filter((o) => o.name.includes("-zip")).map((o) => o.name));
    return [
        ...run.resources.filter((r) => !r.name.startsWith("uptycs-UPT_") && !shared.has(r.name)).map((r) => ({ type: r.type, name: r.name })),
        ...dirs.map((d) => ({ type: ARTIFACT_TYPE, name: d })),
        ...perEntryZipObjects(run, regions, ""),
    ];
}

/**
 * Every identity in `before` is registered again or is an alias of a resource of its type (so
 * `pulumi up` updates in place: no replace, no delete), but for `replaced` (which are deleted
 * once their successors exist), and no two resources share one.
 */
function assertKeptOrAliased(run: ProgramRun, before: Identity[], replaced: Identity[] = []): void {
    const key = (i: Identity): string => `${i.type}::${i.name}`;
    const now = new Set(run.resources.map(key));
    assert.strictEqual(now.size, run.resources.length, "no two resources share a type and name");
    const aliased = new Set(run.resources.flatMap((r) => r.aliases.map((name) => key({ type: r.type, name }))));
    assert.deepStrictEqual(before.filter((i) => !now.has(key(i)) && !aliased.has(key(i))).map(key).sort(), replaced.map(key).sort(), "lost: would be deleted, their replacements created");
}

/**
 * The shared zip objects' keys: none is a key a per-entry object had (`uptycs/<dir>-...`), so
 * deleting those at the end of the update never removes a shared object's file.
 */
function assertNewZipKeys(run: ProgramRun): void {
    const dirs = run.byType(ARTIFACT_TYPE).map((a) => (a.inputs.entry as { dir: string }).dir);
    const keys = run.byType(OBJECT).filter((o) => o.name.includes("-zip")).map((o) => o.inputs.key as string);
    assert.ok(keys.length > 0);
    assert.deepStrictEqual(keys.filter((k) => dirs.some((d) => k.startsWith(`uptycs/${d}-`))), []);
}

describe("regions and organization (under mocks)", function () {
    it("without regions: the default provider, and every resource the stack had keeps its identity (renamed ones through aliases)", async () => {
        const run = await runProgram({ config: base, artifacts });
        assert.deepStrictEqual(run.byType(PROVIDER), []);
        const names = run.resources.filter((r) => r.type.startsWith("aws:") || r.type.includes("dynamic/uptycs:")).map((r) => r.name).filter((n) => !n.startsWith("uptycs-UPT_")).sort();
        assert.deepStrictEqual(names, [
            "uptycs-bucket", "uptycs-bucket", "uptycs-bucket", "uptycs-bucket", "uptycs-bucket",
            "uptycs-centos-arm64-zip", "uptycs-centos-x86_64-zip", "uptycs-debian-arm64-zip", "uptycs-debian-x86_64-zip",
            "uptycs-document", "uptycs-manifest", "uptycs-prune", "uptycs-version", "uptycs-windows-x86_64-zip",
        ]);
        assertKeptOrAliased(run, namesBeforeRename(run, []), perEntryZipObjects(run, [], ""));
        // A stack from after the rename and before zips were shared.
        assertKeptOrAliased(run, [...run.resources.filter((r) => !r.name.endsWith("-zip")), ...perEntryZipObjects(run, [])], perEntryZipObjects(run, []));
        assertNewZipKeys(run);
        const out = run.outputs.regions as Record<string, { documentVersion: string; bucketName: string }>;
        assert.deepStrictEqual(Object.keys(out), ["us-east-1"]);
        assert.deepStrictEqual([out["us-east-1"].documentVersion, out["us-east-1"].bucketName], [run.outputs.documentVersion, run.outputs.bucketName]);
    });

    it("with regions: every resource the stack had keeps its identity (renamed ones through aliases)", async () => {
        const run = await runProgram({ config: { ...base, regions: JSON.stringify(THREE) }, artifacts });
        assertKeptOrAliased(run, namesBeforeRename(run, THREE), perEntryZipObjects(run, THREE, ""));
        assertNewZipKeys(run);
        // A stack that had no regions adds them in the same update: the home region (aws:region,
        // us-east-1) keeps every resource of its single-region names, the legacy component's too.
        const single = await runProgram({ config: base, artifacts });
        assertKeptOrAliased(run, [...single.resources.map((r) => ({ type: r.type, name: r.name })), ...namesBeforeRename(single, [])], perEntryZipObjects(single, [], ""));
    });

    it("three regions: one artifact per mapping entry, three documents with the same VersionName and content, each on its own bucket", async () => {
        const run = await runProgram({ config: { ...base, regions: JSON.stringify(THREE), "aws:profile": "secops" }, artifacts });
        assert.strictEqual(run.byType(ARTIFACT_TYPE).length, 17, "built once, not per region");
        const providers = run.byType(PROVIDER);
        assert.deepStrictEqual(providers.map((p) => p.inputs.region).sort(), [...THREE].sort());
        assert.ok(providers.every((p) => p.inputs.profile === "secops"), "each region's provider has the stack's credentials");
        const docs = run.byType(DOC);
        assert.deepStrictEqual(docs.map((d) => d.name).sort(), THREE.map((r) => `uptycs-document-${r}`).sort());
        assert.strictEqual(new Set(docs.map((d) => d.inputs.versionName)).size, 1);
        assert.strictEqual(new Set(docs.map((d) => d.inputs.content)).size, 1);
        const buckets = run.byType("aws:s3/bucket:Bucket");
        assert.strictEqual(buckets.length, 3);
        for (const region of THREE) {
            const doc = run.one(DOC, `uptycs-document-${region}`);
            const bucket = run.one("aws:s3/bucket:Bucket", `uptycs-bucket-${region}`).state.bucket;
            assert.deepStrictEqual(doc.inputs.attachmentsSources, [{ key: "SourceUrl", values: [`s3://${bucket}/uptycs`] }]);
            const objects = run.byType(OBJECT).filter((o) => o.name.endsWith(`-${region}`));
            assert.strictEqual(objects.length, 6, "one object per distinct zip, and the manifest");
            assert.ok(objects.every((o) => o.inputs.bucket === bucket));
            run.one("aws:s3/bucketPolicy:BucketPolicy", `uptycs-bucket-${region}`);
            assert.strictEqual(run.one("pulumi-nodejs:dynamic/uptycs:DistributorVersionPruner", `uptycs-prune-${region}`).inputs.region, region);
            assert.strictEqual(run.one("pulumi-nodejs:dynamic/uptycs:PackageVersionName", `uptycs-version-${region}`).inputs.region, region);
        }
        const out = run.outputs.regions as Record<string, { documentVersion: string; bucketName: string }>;
        assert.deepStrictEqual(Object.keys(out), THREE);
        for (const r of THREE) {
            assert.deepStrictEqual(out[r], {
                documentArn: run.one(DOC, `uptycs-document-${r}`).state.arn, documentVersion: docs[0].inputs.versionName,
                bucketName: run.one("aws:s3/bucket:Bucket", `uptycs-bucket-${r}`).state.bucket,
            });
        }
        const identities = run.invokes.filter((i) => i.token === "aws:index/getCallerIdentity:getCallerIdentity");
        assert.ok(identities.filter((i) => i.provider !== undefined).length >= 3, "each region checks its own provider's account");
    });

    it("each region's AWS calls are bound to the account of that region's own provider", async () => {
        // eu-west-1's provider reaches another account (other credentials for that region): the
        // resources that call AWS themselves must refuse anything outside it, not the component's.
        const run = await runProgram({
            config: { ...base, regions: JSON.stringify(THREE), association: JSON.stringify({ targets: { tagKey: "ring", tagValues: ["broad"] }, stages: [{ name: "canary", targets: { tagKey: "ring", tagValues: ["canary"] } }] }) },
            artifacts, providerAccounts: { "uptycs-eu-west-1": "222222222222" },
        });
        for (const type of ["PackageVersionName", "DistributorVersionPruner", "RolloutGate"]) {
            const accounts = Object.fromEntries(run.byType(`pulumi-nodejs:dynamic/uptycs:${type}`).map((r) => [r.inputs.region, r.inputs.accountId]));
            assert.deepStrictEqual(accounts, { "us-east-1": TEST_ACCOUNT, "eu-west-1": "222222222222", "ap-southeast-2": TEST_ACCOUNT }, type);
        }
    });

    it("secret aws: settings reach each region's provider as secrets", async () => {
        const run = await runProgram({
            config: { ...base, regions: JSON.stringify(["us-east-1", "eu-west-1"]), "aws:accessKey": "AKIAX", "aws:secretKey": "very-secret", "aws:defaultTags": JSON.stringify({ tags: { team: "secops" } }), "aws:maxRetries": "5" },
            secretKeys: ["aws:secretKey"],
            artifacts,
        });
        for (const p of run.byType(PROVIDER)) {
            assert.deepStrictEqual([unsecret(p.inputs.accessKey), unsecret(p.inputs.secretKey)], ["AKIAX", "very-secret"]);
            assert.ok(p.secretInputs.includes("secretKey"), p.secretInputs.join(","));
            assert.strictEqual(p.inputs.defaultTags, JSON.stringify({ tags: { team: "secops" } }), "other aws: settings too (providers take objects as JSON)");
            assert.strictEqual(p.inputs.maxRetries, "5", "a number, not the text \"5\"");
        }
    });

    it("bucketName with {region}: one existing bucket per region", async () => {
        const run = await runProgram({ config: { ...base, regions: JSON.stringify(["us-east-1", "eu-west-1"]), bucketName: "acme-distributor-{region}" }, artifacts });
        assert.deepStrictEqual(run.byType("aws:s3/bucket:Bucket"), []);
        assert.deepStrictEqual(run.byType(DOC).map((d) => (d.inputs.attachmentsSources as { values: string[] }[])[0].values[0]).sort(),
            ["s3://acme-distributor-eu-west-1/uptycs", "s3://acme-distributor-us-east-1/uptycs"]);
    });

    describe("organization", () => {
        const org = { organizationalUnitIds: [OU_A, OU_B], installationType: "In-place update", targets: { tagKey: "uptycs", tagValues: ["on"] }, maxConcurrentPercentage: 50 };
        const orgAccounts = {
            [OU_A]: [...members(0, 20), { id: TEST_ACCOUNT, status: "ACTIVE" }, { id: "299999999999", status: "SUSPENDED" }],
            [OU_B]: members(20, 25),
        };
        const orgRun = (versionName?: (v: string, region: string) => string): Promise<ProgramRun> => runProgram({
            config: { ...base, regions: JSON.stringify(THREE), organization: JSON.stringify(org), shareWithAccounts: JSON.stringify(["200000000003"]) },
            artifacts, orgAccounts, versionName,
        });

        it("shares the package in every region with all 45 active accounts of the OUs (never its own account)", async () => {
            const run = await orgRun();
            const expected = [...members(0, 45)].map((a) => a.id).sort().join(",");
            for (const doc of run.byType(DOC)) {
                assert.deepStrictEqual(doc.inputs.permissions, { type: "Share", accountIds: expected }, doc.name);
            }
            const lookups = run.invokes.filter((i) => i.token.startsWith("aws:organizations/getOrganizationalUnitDescendantAccounts"));
            assert.deepStrictEqual(lookups.map((l) => l.inputs.parentId).sort(), [OU_A, OU_B].sort());
        });

        it("with rings, the StackSet moves only once every region's rings passed: a failed ring in one region holds it for all", async () => {
            const association = JSON.stringify({ targets: { tagKey: "ring", tagValues: ["broad"] }, stages: [{ name: "canary", targets: { tagKey: "ring", tagValues: ["canary"] } }] });
            const run = (failIn?: string): Promise<ProgramRun> => runProgram({
                config: { ...base, regions: JSON.stringify(THREE), organization: JSON.stringify(org), association },
                orgAccounts,
                // Gates stand-in: passes the version on, except in `failIn`, as a failed ring does.
                dynamic: async (args) => {
                    if (args.type === "pulumi-nodejs:dynamic/uptycs:RolloutGate") {
                        if (args.inputs.region === failIn) {
                            throw new Error(`stage canary in ${failIn} failed`);
                        }
                        return { id: String(args.inputs.region), state: { ...args.inputs, approvedVersion: args.inputs.version, succeeded: 1, failed: 0, total: 1 } };
                    }
                    if (args.type === "pulumi-nodejs:dynamic/uptycs:PackageVersionName") {
                        return { id: "v", state: { ...args.inputs, versionName: args.inputs.contentVersion } };
                    }
                    return args.type === ARTIFACT_TYPE ? artifacts(args) : { id: args.name, state: args.inputs };
                },
            });
            const passed = await run();
            assert.deepStrictEqual(passed.one(STACK_SET).inputs.parameters, { PackageVersion: passed.one(DOC, "uptycs-document-us-east-1").inputs.versionName });
            assert.strictEqual(passed.byType("aws:cloudformation/stackSetInstance:StackSetInstance").length, 3);
            // The ring fails in the last region; the first region's rings passed.
            await assert.rejects(run("ap-southeast-2"), (e: ProgramFailure) => {
                assert.match(e.message, /stage canary in ap-southeast-2 failed/);
                assert.ok(e.resources.some((r) => r.name === "uptycs-association-us-east-1"), "the first region's fleet moved");
                assert.deepStrictEqual(e.resources.filter((r) => r.type === STACK_SET || r.type === "aws:cloudformation/stackSetInstance:StackSetInstance"), [], "the StackSet and its instances are held");
                return true;
            });
        });

        it("one service-managed StackSet with auto-deployment; one instance per region over both OUs", async () => {
            const run = await orgRun();
            const ss = run.one(STACK_SET);
            assert.strictEqual(ss.inputs.permissionModel, "SERVICE_MANAGED");
            assert.deepStrictEqual(ss.inputs.autoDeployment, { enabled: true, retainStacksOnAccountRemoval: false });
            assert.deepStrictEqual(ss.inputs.managedExecution, { active: true });
            assert.strictEqual(ss.inputs.callAs, "SELF");
            assert.deepStrictEqual(ss.inputs.operationPreferences, { maxConcurrentPercentage: 50, failureTolerancePercentage: 10, regionConcurrencyType: "SEQUENTIAL" });
            const version = run.one(DOC, "uptycs-document-us-east-1").inputs.versionName;
            assert.deepStrictEqual(ss.inputs.parameters, { PackageVersion: version });
            const instances = run.byType(INSTANCE);
            assert.deepStrictEqual(instances.map((i) => i.inputs.stackSetInstanceRegion).sort(), [...THREE].sort());
            for (const i of instances) {
                assert.deepStrictEqual(i.inputs.deploymentTargets, { organizationalUnitIds: [OU_A, OU_B] });
                assert.strictEqual(i.inputs.stackSetName, ss.inputs.name);
                assert.strictEqual(i.inputs.parameterOverrides, undefined, "the same VersionName everywhere: no override");
            }
        });

        it("the template parses as JSON and holds exactly one AWS::SSM::Association installing the package by ARN at the version parameter", async () => {
            const run = await orgRun();
            const t = JSON.parse(run.one(STACK_SET).inputs.templateBody as string) as CloudFormationTemplate;
            const resources = Object.values(t.Resources);
            assert.strictEqual(resources.length, 1);
            assert.strictEqual(resources[0].Type, "AWS::SSM::Association");
            const p = resources[0].Properties;
            assert.strictEqual(p.Name, "AWS-ConfigureAWSPackage");
            assert.deepStrictEqual(p.Parameters, {
                action: ["Install"],
                installationType: ["In-place update"],
                name: [{ "Fn::Sub": `arn:\${AWS::Partition}:ssm:\${AWS::Region}:${TEST_ACCOUNT}:document/UptycsAgent` }],
                version: [{ Ref: "PackageVersion" }],
            });
            assert.deepStrictEqual(p.Targets, [{ Key: "tag:uptycs", Values: ["on"] }]);
            assert.deepStrictEqual(Object.keys(t.Parameters), ["PackageVersion"]);
        });

        it("a region whose VersionName differs (its own history) gets it as the instance's parameter override; the others take the StackSet's", async () => {
            const run = await orgRun((v, region) => (region === "eu-west-1" ? `${v}-r3` : v));
            const common = run.one(DOC, "uptycs-document-us-east-1").inputs.versionName as string;
            const own = run.one(DOC, "uptycs-document-eu-west-1").inputs.versionName as string;
            assert.strictEqual(own, `${common}-r3`);
            assert.deepStrictEqual(run.one(STACK_SET).inputs.parameters, { PackageVersion: common });
            const overrides = Object.fromEntries(run.byType(INSTANCE).map((i) => [i.inputs.stackSetInstanceRegion, i.inputs.parameterOverrides]));
            assert.deepStrictEqual(overrides, { "us-east-1": undefined, "eu-west-1": { PackageVersion: own }, "ap-southeast-2": undefined });
        });

        it("a republish changes only the StackSet's version parameter", async () => {
            const first = (await orgRun()).one(STACK_SET).inputs;
            const second = (await orgRun((v) => `${v}-r7`)).one(STACK_SET).inputs;
            const changed = Object.keys({ ...first, ...second }).filter((k) => JSON.stringify(first[k]) !== JSON.stringify(second[k]));
            assert.deepStrictEqual(changed, ["parameters"]);
            assert.match((second.parameters as Record<string, string>).PackageVersion, /-r7$/);
        });

        it("more than 1000 accounts fail at preview with the limit named", async () => {
            await assert.rejects(runProgram({
                config: { ...base, organization: JSON.stringify({ organizationalUnitIds: [OU_A] }) },
                artifacts, preview: true, orgAccounts: { [OU_A]: members(0, 1001) },
            }), /come to 1001 accounts; a document can be shared with at most 1000 per region/);
        });
    });

    const bad: [string, Record<string, string>, RegExp][] = [
        ["unknown region", { regions: JSON.stringify(["us-east-1", "mars-north-1"]) }, /config uptycs-distributor:regions has values that are not AWS regions: "mars-north-1"/],
        ["region listed twice", { regions: JSON.stringify(["us-east-1", "eu-west-1", "us-east-1"]) }, /config uptycs-distributor:regions lists us-east-1 more than once/],
        ["empty regions", { regions: "[]" }, /config uptycs-distributor:regions must be a non-empty list/],
        ["one bucket name for two regions", { regions: JSON.stringify(["us-east-1", "eu-west-1"]), bucketName: "acme-distributor" }, /config uptycs-distributor:bucketName 'acme-distributor' has no \{region\}/],
        ["bad OU id", { organization: JSON.stringify({ organizationalUnitIds: ["ou-1", OU_A] }) }, /config uptycs-distributor:organization organizationalUnitIds has values that are not OU ids \(ou-xxxx-xxxxxxxx\): "ou-1"/],
        ["no OUs", { organization: JSON.stringify({}) }, /organization organizationalUnitIds must be a non-empty list/],
        ["OU twice", { organization: JSON.stringify({ organizationalUnitIds: [OU_A, OU_A] }) }, /organizationalUnitIds lists an OU more than once/],
        ["organization region not published", { organization: JSON.stringify({ organizationalUnitIds: [OU_A], regions: ["eu-west-1"] }) }, /organization regions eu-west-1 must also be in regions/],
        ["organization region listed twice", { regions: JSON.stringify(["us-east-1", "eu-west-1"]), organization: JSON.stringify({ organizationalUnitIds: [OU_A], regions: ["eu-west-1", "eu-west-1"] }) }, /organization regions lists eu-west-1 more than once/],
        ["percentage over 100", { organization: JSON.stringify({ organizationalUnitIds: [OU_A], maxConcurrentPercentage: 150 }) }, /organization maxConcurrentPercentage must be a whole number from 1 to 100, got 150/],
        ["negative tolerance", { organization: JSON.stringify({ organizationalUnitIds: [OU_A], failureTolerancePercentage: -1 }) }, /failureTolerancePercentage must be a whole number from 0 to 100/],
        ["bad region concurrency", { organization: JSON.stringify({ organizationalUnitIds: [OU_A], regionConcurrencyType: "ALL" }) }, /regionConcurrencyType must be 'SEQUENTIAL' or 'PARALLEL'/],
        ["bad callAs", { organization: JSON.stringify({ organizationalUnitIds: [OU_A], callAs: "ADMIN" }) }, /callAs must be 'SELF' or 'DELEGATED_ADMIN'/],
    ];
    for (const [what, config, message] of bad) {
        it(`rejects ${what} at preview, naming the key`, async () => {
            await assert.rejects(runProgram({ config: { ...base, ...config }, artifacts, preview: true }), message);
        });
    }
});
