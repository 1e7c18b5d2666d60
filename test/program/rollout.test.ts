// Issue: deploy, share and keep the package within AWS limits. Each option present and absent
// under mocks, and each bad value rejected at preview naming its key.
import * as assert from "assert";
import { FakeAws } from "../support/fakeAws";
import { mockArtifacts as artifacts, mockKeyFile, runProgram, unsecret } from "../support/program";

const base = { apiKeyFile: mockKeyFile() };
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

    it("shares with up to 1000 distinct accounts (the AWS provider sends them 20 per call)", async () => {
        const ids = Array.from({ length: 1000 }, (_, i) => String(100000000000 + i));
        const run = await runProgram({ config: { ...base, shareWithAccounts: JSON.stringify([...ids, ids[0]]) }, artifacts });
        assert.deepStrictEqual(run.one(DOC).inputs.permissions, { type: "Share", accountIds: ids.join(",") });
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

    it("association stages: one association per ring pinned to the new version, a gate after each, the fleet pinned to what the last gate approved", async () => {
        const association = {
            targets: { tagKey: "ring", tagValues: ["fleet"] }, scheduleExpression: "rate(12 hours)", installationType: "In-place update", maxConcurrency: "20%", complianceSeverity: "CRITICAL",
            stages: [{ name: "canary", targets: { tagKey: "ring", tagValues: ["canary"] }, minSuccessPercent: 90, timeoutMinutes: 5 }, { name: "early", targets: "all", maxConcurrency: "2", maxErrors: "1" }],
        };
        const approved: string[] = [];
        const run = await runProgram({
            config: { ...base, association: JSON.stringify(association), installOnPublish: JSON.stringify({ targets: "all" }) },
            // The gates' stand-in approves each version with a mark, so what follows a gate shows it.
            dynamic: async (args) => {
                if (args.type === "pulumi-nodejs:dynamic/uptycs:RolloutGate") {
                    approved.push(String(args.inputs.stage));
                    return { id: String(args.inputs.stage), state: { ...args.inputs, approvedVersion: `${String(args.inputs.version)}+${String(args.inputs.stage)}`, succeeded: 1, failed: 0, total: 1 } };
                }
                return args.type === VERSION_NAME ? { id: "v", state: { ...args.inputs, versionName: args.inputs.contentVersion } } : artifacts(args).catch(() => ({ id: args.name, state: args.inputs }));
            },
        });
        const version = String(run.one(DOC).inputs.versionName);
        const byName = (n: string): Record<string, unknown> => run.one("aws:ssm/association:Association", n).inputs;
        const canary = byName("uptycs-association-canary");
        assert.strictEqual(canary.associationName, "UptycsAgent-install-canary");
        assert.deepStrictEqual(canary.parameters, { action: "Install", installationType: "In-place update", name: "UptycsAgent", version });
        assert.deepStrictEqual(canary.targets, [{ key: "tag:ring", values: ["canary"] }]);
        assert.deepStrictEqual([canary.scheduleExpression, canary.maxConcurrency, canary.maxErrors, canary.complianceSeverity], ["rate(12 hours)", "20%", "100%", "CRITICAL"]);
        const early = byName("uptycs-association-early");
        assert.strictEqual((early.parameters as Record<string, string>).version, `${version}+canary`);
        assert.deepStrictEqual([early.targets, early.maxConcurrency, early.maxErrors], [[{ key: "InstanceIds", values: ["*"] }], "2", "1"]);
        const fleet = byName("uptycs-association");
        assert.strictEqual(fleet.associationName, "UptycsAgent-install");
        assert.strictEqual((fleet.parameters as Record<string, string>).version, `${version}+canary+early`);
        assert.deepStrictEqual(approved, ["canary", "early"]);
        // The one-time install goes out with what the rings proved, not at publish.
        const install = run.one("command:local:Command");
        assert.strictEqual(JSON.parse(unsecret<Record<string, string>>(install.inputs.environment).UPTYCS_SEND_COMMAND).Parameters.version[0], `${version}+canary+early`);
        assert.deepStrictEqual(install.inputs.triggers, [`${version}+canary+early`]);
        const gate = run.one("pulumi-nodejs:dynamic/uptycs:RolloutGate", "uptycs-gate-canary").inputs;
        assert.deepStrictEqual([gate.stage, gate.version, gate.minSuccessPercent, gate.minTargets, gate.timeoutMinutes, gate.region, gate.credentials], ["canary", version, 90, 1, 5, "us-east-1", undefined]);
        assert.deepStrictEqual(run.outputs.rollout, { "us-east-1": {
            stages: [{ name: "canary", version, succeeded: 1, failed: 0, total: 1 }, { name: "early", version: `${version}+canary`, succeeded: 1, failed: 0, total: 1 }],
            fleetVersion: `${version}+canary+early`,
        } });
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
        const env = unsecret<Record<string, string>>(cmd.inputs.environment);
        assert.strictEqual(env.UPTYCS_REGION, "ap-southeast-2");
        const input = JSON.parse(env.UPTYCS_SEND_COMMAND);
        assert.strictEqual(input.DocumentName, "AWS-ConfigureAWSPackage");
        assert.deepStrictEqual(input.Targets, [{ Key: "tag:Name", Values: [hostile] }]);
        assert.deepStrictEqual(input.Parameters, { action: ["Install"], installationType: ["Uninstall and reinstall"], name: ["UptycsAgent"], version: [doc.inputs.versionName] });
        assert.deepStrictEqual(cmd.inputs.triggers, [doc.inputs.versionName]);
        assert.strictEqual(cmd.inputs.update, "true", "fresh credentials alone never re-send the command");
        assert.deepStrictEqual(cmd.secretInputs, [], "nothing secret here: the default credential chain");
        assert.ok(!Object.keys(env).some((k) => k.startsWith("AWS_")), "the default chain needs no variables");
    });

    const installAll = JSON.stringify({ targets: "all" });

    it("install on publish: the AWS CLI gets the stack's aws:profile and shared files", async () => {
        const run = await runProgram({
            config: { ...base, installOnPublish: installAll, "aws:profile": "prod", "aws:sharedCredentialsFiles": '["/ci/aws/credentials"]', "aws:sharedConfigFiles": '["/ci/aws/config"]' },
            artifacts,
        });
        const cmd = run.one("command:local:Command");
        const env = unsecret<Record<string, string>>(cmd.inputs.environment);
        assert.deepStrictEqual([env.AWS_PROFILE, env.AWS_SHARED_CREDENTIALS_FILE, env.AWS_CONFIG_FILE], ["prod", "/ci/aws/credentials", "/ci/aws/config"]);
        assert.deepStrictEqual(cmd.secretInputs, []);
    });

    it("install on publish with static keys: the secret key and token reach the CLI only as a secret", async () => {
        const run = await runProgram({
            config: { ...base, installOnPublish: installAll, "aws:accessKey": "AKIASTATIC", "aws:secretKey": "static-secret-key", "aws:token": "static-token" },
            secretKeys: ["aws:secretKey", "aws:token"],
            artifacts,
        });
        const cmd = run.one("command:local:Command");
        const env = unsecret<Record<string, string>>(cmd.inputs.environment);
        assert.deepStrictEqual([env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN], ["AKIASTATIC", "static-secret-key", "static-token"]);
        assert.deepStrictEqual(cmd.secretInputs, ["environment"]);
        for (const r of run.resources.filter((x) => x !== cmd)) {
            assert.ok(!JSON.stringify(r.inputs).includes("static-secret-key"), `${r.type} ${r.name} holds the secret key`);
        }
    });

    it("install on publish with aws:assumeRoles: the role is assumed (STS) with the stack's credentials, at up only; its keys only as a secret", async () => {
        const aws = await FakeAws.start();
        aws.addUser("AKIABASE", "111111111111");
        const saved = { ...process.env };
        Object.assign(process.env, aws.env(), { AWS_ACCESS_KEY_ID: "AKIABASE", AWS_SECRET_ACCESS_KEY: "base-secret" });
        try {
            const config = { ...base, installOnPublish: installAll, "aws:assumeRoles": JSON.stringify([{ roleArn: "arn:aws:iam::123456789012:role/installer", externalId: "x-1" }]) };
            await runProgram({ config, artifacts, preview: true });
            assert.strictEqual(aws.calls.length, 0, "preview assumes no role");
            const run = await runProgram({ config, artifacts });
            const cmd = run.one("command:local:Command");
            const env = unsecret<Record<string, string>>(cmd.inputs.environment);
            assert.match(env.AWS_ACCESS_KEY_ID, /^ASIAROLE[0-9]+$/);
            assert.match(env.AWS_SECRET_ACCESS_KEY, /^role-secret-/);
            assert.match(env.AWS_SESSION_TOKEN, /^role-token-/);
            assert.deepStrictEqual(cmd.secretInputs, ["environment"]);
            const assumed = aws.calls.filter((c) => c.action === "AssumeRole");
            assert.strictEqual(assumed.length, 1);
            assert.deepStrictEqual([assumed[0].accessKeyId, assumed[0].input.RoleArn, assumed[0].input.ExternalId], ["AKIABASE", "arn:aws:iam::123456789012:role/installer", "x-1"]);
        } finally {
            process.env = saved;
            await aws.stop();
        }
    });

    it("the package-version resources get the account of the stack's aws provider, and no credential", async () => {
        const run = await runProgram({ config: { ...base, "aws:accessKey": "AKIASTATIC", "aws:secretKey": "static-secret-key" }, secretKeys: ["aws:secretKey"], artifacts, accountId: "444455556666" });
        for (const type of [PRUNER, VERSION_NAME]) {
            const r = run.one(type);
            assert.strictEqual(r.inputs.accountId, "444455556666");
            assert.ok(!/AKIASTATIC|static-secret-key/.test(JSON.stringify(r.inputs)), `${type} carries a credential`);
        }
    });

    const bad: [string, Record<string, string>, RegExp][] = [
        ["tags not a map", { tags: '["a"]' }, /config uptycs-distributor:tags must be a map/],
        ["too many tags", { tags: JSON.stringify(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"]))) }, /has 11 tags; S3 objects take at most 10/],
        ["aws: tag", { tags: JSON.stringify({ "aws:x": "v" }) }, /tag 'aws:x'/],
        ["non-string tag value", { tags: JSON.stringify({ a: 1 }) }, /tag 'a': the value must be a string/],
        ["share account not 12 digits", { shareWithAccounts: JSON.stringify(["12345"]) }, /shareWithAccounts has values that are not 12-digit AWS account ids: "12345"/],
        ["share not a list", { shareWithAccounts: "111122223333" }, /shareWithAccounts must be a list/],
        ["share with 1001 accounts", { shareWithAccounts: JSON.stringify(Array.from({ length: 1001 }, (_, i) => String(100000000000 + i))) }, /lists 1001 distinct accounts; .* at most 1000 accounts per region/],
        ["association without targets", { association: JSON.stringify({}) }, /config uptycs-distributor:association targets must be "all" or/],
        ["association bad schedule", { association: JSON.stringify({ targets: "all", scheduleExpression: "daily" }) }, /association scheduleExpression 'daily' is not valid/],
        ["association bad installationType", { association: JSON.stringify({ targets: "all", installationType: "reinstall" }) }, /installationType must be 'Uninstall and reinstall' or 'In-place update'/],
        ["association bad severity", { association: JSON.stringify({ targets: "all", complianceSeverity: "SEVERE" }) }, /complianceSeverity 'SEVERE' is not valid/],
        ["association bad concurrency", { association: JSON.stringify({ targets: "all", maxConcurrency: "0" }) }, /maxConcurrency '0' is not valid/],
        ["association with empty tag values", { association: JSON.stringify({ targets: { tagKey: "k", tagValues: [] } }) }, /targets must be "all" or/],
        ["installOnPublish not an object", { installOnPublish: "yes" }, /installOnPublish must be an object with targets/],
        // Config objects refuse fields they do not know (a misspelling must not be ignored).
        ["association with an unknown field", { association: JSON.stringify({ targets: "all", stage: [] }) }, /config uptycs-distributor:association has unknown field stage \(known: targets, scheduleExpression.*stages\)/],
        ["a stage with an unknown field", { association: JSON.stringify({ targets: "all", stages: [{ name: "canary", targets: "all", minSucces: 90 }] }) }, /config uptycs-distributor:association stages\[0\] has unknown field minSucces/],
        ["association targets with an unknown field", { association: JSON.stringify({ targets: { tagKey: "k", tagValues: ["v"], tagValue: "v" } }) }, /config uptycs-distributor:association targets has unknown field tagValue/],
        ["installOnPublish with an unknown field", { installOnPublish: JSON.stringify({ targets: "all", when: "always" }) }, /config uptycs-distributor:installOnPublish has unknown field when/],
        ["organization with an unknown field", { organization: JSON.stringify({ organizationalUnitIds: ["ou-ab12-cdef3456"], ous: [] }) }, /config uptycs-distributor:organization has unknown field ous/],
        ["healthCheck with an unknown field", { healthCheck: JSON.stringify({ timeout: 300 }) }, /config uptycs-distributor:healthCheck has unknown field timeout \(known: enabled, timeoutSeconds\)/],
        ["healthCheck timeout below 5 s", { healthCheck: JSON.stringify({ timeoutSeconds: 1 }) }, /config uptycs-distributor:healthCheck timeoutSeconds must be a whole number of seconds from 5 to 1800, got 1/],
        ["aws:assumeRoles entry with an unknown field", { "aws:assumeRoles": JSON.stringify([{ roleArn: "arn:aws:iam::123456789012:role/x", role_arn: "y" }]) }, /config aws:assumeRoles\[0\] has unknown field role_arn/],
        ["keepVersions 0", { keepVersions: "0" }, /keepVersions must be a whole number from 1 to 24/],
        ["keepVersions 25", { keepVersions: "25" }, /keepVersions must be a whole number from 1 to 24/],
        ["keepVersions not a number", { keepVersions: "many" }, /keepVersions must be a whole number/],
        ["no aws:region", { "aws:region": "" }, /config aws:region is not set/],
        ["aws:assumeRoles entry without a role ARN", { "aws:assumeRoles": JSON.stringify([{ roleArn: "admin" }]) }, /config aws:assumeRoles\[0\]\.roleArn must be an IAM role ARN/],
        ["aws:assumeRoles not a list", { "aws:assumeRoles": JSON.stringify({ roleArn: "arn:aws:iam::123456789012:role/x" }) }, /config aws:assumeRoles must be a list/],
        ["aws:assumeRoles duration of 2 days", { "aws:assumeRoles": JSON.stringify([{ roleArn: "arn:aws:iam::123456789012:role/x" }, { roleArn: "arn:aws:iam::123456789012:role/y", duration: "2d" }]) }, /config aws:assumeRoles\[1\]\.duration '2d' is not a duration/],
        ["aws:assumeRoles duration of 13 hours", { "aws:assumeRoles": JSON.stringify([{ roleArn: "arn:aws:iam::123456789012:role/x", duration: "13h" }]) }, /duration '13h' must be from 15m to 12h/],
        ["aws:accessKey without aws:secretKey", { "aws:accessKey": "AKIAONLY" }, /config aws:accessKey and aws:secretKey go together/],
        ["aws:assumeRoleWithWebIdentity", { "aws:assumeRoleWithWebIdentity": JSON.stringify({ roleArn: "arn:aws:iam::123456789012:role/x" }) }, /config aws:assumeRoleWithWebIdentity is not supported/],
        ["installOnPublish with two credentials files", { installOnPublish: JSON.stringify({ targets: "all" }), "aws:sharedCredentialsFiles": '["/a", "/b"]' }, /config aws:sharedCredentialsFiles lists 2 files; the AWS CLI \(installOnPublish\) reads one/],
        ["bad aws:region", { "aws:region": "moon-1" }, /config aws:region 'moon-1' is not an AWS region/],
    ];
    for (const [what, config, message] of bad) {
        it(`rejects ${what} at preview, naming the key`, async () => {
            await assert.rejects(runProgram({ config: { ...base, ...config }, artifacts, preview: true }), message);
        });
    }
});
