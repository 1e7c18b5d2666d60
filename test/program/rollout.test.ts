// Issue: deploy, share and keep the package within AWS limits. Each option present and absent
// under mocks, and each bad value rejected at preview naming its key.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { runProgram } from "../support/program";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-rollout-"));
const keyFile = path.join(tmp, "key.json");
fs.writeFileSync(keyFile, JSON.stringify({ customerId: "c", key: "k", secret: "s", domain: "t", domainSuffix: ".uptycs.io" }));
const base = { apiKeyFile: keyFile };

const artifacts = async (args: pulumi.runtime.MockResourceArgs): Promise<{ id: string; state: Record<string, unknown> }> => {
    const dir = (args.inputs.entry as { dir: string }).dir;
    return { id: dir, state: { ...args.inputs, version: "5.14.2.21", zipFileName: `${dir}.zip`, zipPath: path.join(tmp, "z.zip"), zipSha256: "a".repeat(64) } };
};

const DOC = "aws:ssm/document:Document";
const PRUNER = "pulumi-nodejs:dynamic/uptycs:DistributorVersionPruner";
const VERSION_NAME = "pulumi-nodejs:dynamic/uptycs:PackageVersionName";

describe("rollout, sharing, tags and version pruning (under mocks)", function () {
    it("defaults: no sharing, no association, no install command, no tags; a pruner keeping 20 versions in the stack's region", async () => {
        const run = await runProgram({ config: { ...base, "aws:region": "eu-west-1" }, artifacts });
        const doc = run.one(DOC);
        assert.strictEqual(doc.inputs.permissions, undefined);
        assert.deepStrictEqual(doc.inputs.tags, {});
        assert.strictEqual(run.byType("aws:ssm/association:Association").length, 0);
        assert.strictEqual(run.byType("command:local:Command").length, 0);
        const pruner = run.one(PRUNER);
        assert.strictEqual(pruner.inputs.keepVersions, 20);
        assert.strictEqual(pruner.inputs.region, "eu-west-1");
        assert.strictEqual(pruner.inputs.packageName, "UptycsAgent");
        assert.strictEqual(pruner.inputs.documentVersion, doc.inputs.versionName);
        assert.match(pruner.inputs.__provider as string, /require\("@aws-sdk\/client-ssm"\)/);
    });

    it("the document's VersionName comes from the package's history, and the manifest carries it", async () => {
        // History says this content was published before: the resolver renames it.
        const run = await runProgram({ config: base, artifacts, versionName: (v) => `${v}-r7` });
        const resolver = run.one(VERSION_NAME);
        assert.match(resolver.inputs.contentVersion as string, /^5\.14\.2\.21-[0-9a-f]{8}$/);
        assert.strictEqual(resolver.inputs.packageName, "UptycsAgent");
        const doc = run.one(DOC);
        assert.strictEqual(doc.inputs.versionName, `${resolver.inputs.contentVersion}-r7`);
        assert.strictEqual(JSON.parse(doc.inputs.content as string).version, `${resolver.inputs.contentVersion}-r7`);
        assert.strictEqual(run.one("aws:s3/bucketObjectv2:BucketObjectv2", "uptycs-manifest").inputs.content, doc.inputs.content);
        assert.strictEqual(run.outputs.documentVersion, `${resolver.inputs.contentVersion}-r7`);
    });

    it("tags every taggable resource", async () => {
        const tags = { team: "secops", env: "dev" };
        const run = await runProgram({ config: { ...base, tags: JSON.stringify(tags), association: JSON.stringify({ targets: "all" }) }, artifacts });
        for (const type of ["aws:s3/bucket:Bucket", "aws:s3/bucketObjectv2:BucketObjectv2", DOC, "aws:ssm/association:Association"]) {
            const rs = run.byType(type);
            assert.ok(rs.length > 0, type);
            for (const r of rs) {
                assert.deepStrictEqual(r.inputs.tags, tags, `${type} ${r.name}`);
            }
        }
    });

    it("shares the document with the listed accounts", async () => {
        const run = await runProgram({ config: { ...base, shareWithAccounts: JSON.stringify(["111122223333", "444455556666", "111122223333"]) }, artifacts });
        assert.deepStrictEqual(run.one(DOC).inputs.permissions, { type: "Share", accountIds: "111122223333,444455556666" });
    });

    it("a State Manager association of AWS-ConfigureAWSPackage that follows each published version", async () => {
        const association = { targets: { tagKey: "uptycs", tagValues: ["yes"] }, scheduleExpression: "rate(12 hours)", installationType: "In-place update", maxConcurrency: "20%", maxErrors: "2", complianceSeverity: "CRITICAL" };
        const run = await runProgram({ config: { ...base, association: JSON.stringify(association) }, artifacts });
        const a = run.one("aws:ssm/association:Association");
        const doc = run.one(DOC);
        assert.strictEqual(a.inputs.name, "AWS-ConfigureAWSPackage");
        assert.deepStrictEqual(a.inputs.parameters, { action: "Install", installationType: "In-place update", name: "UptycsAgent", version: doc.inputs.versionName });
        assert.deepStrictEqual(a.inputs.targets, [{ key: "tag:uptycs", values: ["yes"] }]);
        assert.strictEqual(a.inputs.scheduleExpression, "rate(12 hours)");
        assert.strictEqual(a.inputs.applyOnlyAtCronInterval, false);
        assert.deepStrictEqual([a.inputs.maxConcurrency, a.inputs.maxErrors, a.inputs.complianceSeverity], ["20%", "2", "CRITICAL"]);
    });

    it("association defaults: all instances, daily, uninstall and reinstall", async () => {
        const run = await runProgram({ config: { ...base, association: JSON.stringify({ targets: "all" }) }, artifacts });
        const a = run.one("aws:ssm/association:Association");
        assert.deepStrictEqual(a.inputs.targets, [{ key: "InstanceIds", values: ["*"] }]);
        assert.strictEqual(a.inputs.scheduleExpression, "rate(1 day)");
        assert.strictEqual((a.inputs.parameters as Record<string, string>).installationType, "Uninstall and reinstall");
    });

    it("install on publish: one AWS CLI send-command, values through the environment, re-run on a new document version", async () => {
        const hostile = "x'; touch /tmp/pwned; echo '";
        const run = await runProgram({ config: { ...base, "aws:region": "ap-southeast-2", installOnPublish: JSON.stringify({ targets: { tagKey: "Name", tagValues: [hostile] } }) }, artifacts });
        const cmd = run.one("command:local:Command");
        const doc = run.one(DOC);
        assert.strictEqual(cmd.inputs.create, 'aws ssm send-command --region "$UPTYCS_REGION" --cli-input-json "$UPTYCS_SEND_COMMAND" --output text --query Command.CommandId');
        assert.ok(!(cmd.inputs.create as string).includes(hostile));
        const env = cmd.inputs.environment as Record<string, string>;
        assert.strictEqual(env.UPTYCS_REGION, "ap-southeast-2");
        const input = JSON.parse(env.UPTYCS_SEND_COMMAND);
        assert.strictEqual(input.DocumentName, "AWS-ConfigureAWSPackage");
        assert.deepStrictEqual(input.Targets, [{ Key: "tag:Name", Values: [hostile] }]);
        assert.deepStrictEqual(input.Parameters, { action: ["Install"], installationType: ["Uninstall and reinstall"], name: ["UptycsAgent"], version: [doc.inputs.versionName] });
        assert.deepStrictEqual(cmd.inputs.triggers, [doc.inputs.versionName]);
    });

    const bad: [string, Record<string, string>, RegExp][] = [
        ["tags not a map", { tags: '["a"]' }, /config uptycs-distributor:tags must be a map/],
        ["too many tags", { tags: JSON.stringify(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"]))) }, /has 11 tags; S3 objects take at most 10/],
        ["aws: tag", { tags: JSON.stringify({ "aws:x": "v" }) }, /tag 'aws:x'/],
        ["non-string tag value", { tags: JSON.stringify({ a: 1 }) }, /tag 'a': the value must be a string/],
        ["share account not 12 digits", { shareWithAccounts: JSON.stringify(["12345"]) }, /shareWithAccounts has values that are not 12-digit AWS account ids: "12345"/],
        ["share not a list", { shareWithAccounts: "111122223333" }, /shareWithAccounts must be a list/],
        ["share with 21 accounts", { shareWithAccounts: JSON.stringify(Array.from({ length: 21 }, (_, i) => String(100000000000 + i))) }, /lists 21 accounts; .* at most 20/],
        ["association without targets", { association: JSON.stringify({}) }, /config uptycs-distributor:association targets must be "all" or/],
        ["association bad schedule", { association: JSON.stringify({ targets: "all", scheduleExpression: "daily" }) }, /association scheduleExpression 'daily' is not valid/],
        ["association bad installationType", { association: JSON.stringify({ targets: "all", installationType: "reinstall" }) }, /installationType must be 'Uninstall and reinstall' or 'In-place update'/],
        ["association bad severity", { association: JSON.stringify({ targets: "all", complianceSeverity: "SEVERE" }) }, /complianceSeverity 'SEVERE' is not valid/],
        ["association bad concurrency", { association: JSON.stringify({ targets: "all", maxConcurrency: "0" }) }, /maxConcurrency '0' is not valid/],
        ["association with empty tag values", { association: JSON.stringify({ targets: { tagKey: "k", tagValues: [] } }) }, /targets must be "all" or/],
        ["installOnPublish not an object", { installOnPublish: "yes" }, /installOnPublish must be an object with targets/],
        ["keepVersions 0", { keepVersions: "0" }, /keepVersions must be a whole number from 1 to 24/],
        ["keepVersions 25", { keepVersions: "25" }, /keepVersions must be a whole number from 1 to 24/],
        ["keepVersions not a number", { keepVersions: "many" }, /keepVersions must be a whole number/],
        ["no aws:region", { "aws:region": "" }, /config aws:region is not set/],
        ["bad aws:region", { "aws:region": "moon-1" }, /config aws:region 'moon-1' is not an AWS region/],
    ];
    for (const [what, config, message] of bad) {
        it(`rejects ${what} at preview, naming the key`, async () => {
            await assert.rejects(runProgram({ config: { ...base, ...config }, artifacts, preview: true }), message);
        });
    }
});
