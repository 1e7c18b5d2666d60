// The package-version resources (VersionName choice, pruning) serialized from a mock run and
// executed by @pulumi/pulumi's dynamic-provider host with the real AWS SDK, against a local SSM
// and STS, for each source of the stack's AWS credentials. The machine's default credentials
// (the host's environment) belong to another account that holds a package of the same name:
// every call must be signed with the stack's credentials, and nothing may happen in that account.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FakeAws, FakeDocumentVersion } from "../support/fakeAws";
import { mockArtifacts, mockKeyFile, runProgram, TEST_ACCOUNT } from "../support/program";
import { Props, ProviderHost } from "../support/providerHost";
import { ROOT } from "../support/e2e";

const NAME_TYPE = "pulumi-nodejs:dynamic/uptycs:PackageVersionName";
const PRUNER_TYPE = "pulumi-nodejs:dynamic/uptycs:DistributorVersionPruner";
/** The account behind the machine's default credentials: never the stack's. */
const OTHER_ACCOUNT = "999988887777";

const history = (n: number, def = 1): FakeDocumentVersion[] =>
    Array.from({ length: n }, (_, i) => ({ DocumentVersion: String(i + 1), VersionName: `v${i + 1}`, IsDefaultVersion: i + 1 === def }));

describe("package versions through the dynamic-provider host, the AWS SDK and the stack's credentials", function () {
    let aws: FakeAws;
    let tmp: string;
    let credentialsFile: string;
    let nameInputs: Props;
    let prunerInputs: Props;
    const hosts: ProviderHost[] = [];

    /** A host configured with `config` (the stack's aws: keys), whose environment holds the default credentials. */
    async function host(config: Record<string, string>): Promise<ProviderHost> {
        const h = await ProviderHost.start(ROOT, { ...aws.env(), AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: path.join(tmp, "no-config") });
        hosts.push(h);
        await h.configure(config);
        return h;
    }

    before(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-aws-"));
        credentialsFile = path.join(tmp, "credentials");
        fs.writeFileSync(credentialsFile, [
            "[default]", "aws_access_key_id = AKIADEFAULT", "aws_secret_access_key = default-secret",
            "[prod]", "aws_access_key_id = AKIAPROD", "aws_secret_access_key = prod-secret", "",
        ].join("\n"));
        const run = await runProgram({ config: { apiKeyFile: mockKeyFile(), keepVersions: "3" }, artifacts: mockArtifacts });
        nameInputs = run.one(NAME_TYPE).inputs as Props;
        prunerInputs = run.one(PRUNER_TYPE).inputs as Props;
        assert.strictEqual(nameInputs.accountId, TEST_ACCOUNT, "the stack's account, from aws.getCallerIdentity");
        assert.strictEqual(prunerInputs.accountId, TEST_ACCOUNT);
        // That no credential travels as an input is checked with credentials set, in rollout.test.ts.
        aws = await FakeAws.start();
        aws.addUser("AKIADEFAULT", OTHER_ACCOUNT);
        aws.addUser("AKIAPROD", TEST_ACCOUNT);
        aws.addUser("AKIASTATIC", TEST_ACCOUNT);
    });
    beforeEach(() => {
        aws.calls.length = 0;
        aws.documents(OTHER_ACCOUNT).set("UptycsAgent", history(6));
    });
    after(async () => {
        await Promise.all(hosts.map((h) => h.stop()));
        await aws.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    /** Runs the VersionName and pruner resources; asserts every call was signed by one of `signers` and the other account is untouched. */
    async function publishAndPrune(h: ProviderHost, signers: RegExp): Promise<void> {
        const content = nameInputs.contentVersion as string;
        aws.documents(TEST_ACCOUNT).set("UptycsAgent", [
            { DocumentVersion: "1", VersionName: content, IsDefaultVersion: false },
            { DocumentVersion: "2", VersionName: "5.14.2.21-bbbbbbbb", IsDefaultVersion: true },
        ]);
        const named = await h.create(`urn:x::${NAME_TYPE}::n`, nameInputs);
        assert.strictEqual(named.outs.versionName, `${content}-r3`, "chosen from the stack account's history");

        aws.documents(TEST_ACCOUNT).set("UptycsAgent", history(6));
        const { outs } = await h.create(`urn:x::${PRUNER_TYPE}::p`, { ...prunerInputs, documentVersion: "v6" });
        assert.deepStrictEqual(outs.deletedVersions, ["v2", "v3", "v4"]);
        assert.deepStrictEqual(aws.documents(TEST_ACCOUNT).get("UptycsAgent")!.map((v) => v.VersionName), ["v1", "v5", "v6"]);
        assert.strictEqual(aws.documents(OTHER_ACCOUNT).get("UptycsAgent")!.length, 6, "nothing deleted in the default credentials' account");

        const ssmSigners = aws.signers("ssm");
        assert.deepStrictEqual(aws.calls.filter((c) => c.service === "ssm").map((c) => c.action).sort(), ["DeleteDocument", "DeleteDocument", "DeleteDocument", "ListDocumentVersions", "ListDocumentVersions"]);
        assert.ok(ssmSigners.every((k) => signers.test(k)), `SSM calls signed by ${ssmSigners.join(", ")}`);
        assert.ok(aws.signers("sts", "GetCallerIdentity").length >= 2 && aws.signers("sts", "GetCallerIdentity").every((k) => signers.test(k)), "the account was checked with the same credentials");
    }

    it("aws:profile in aws:sharedCredentialsFiles, not the default profile: every request signed with the profile's key", async () => {
        const h = await host({ "aws:profile": "prod", "aws:sharedCredentialsFiles": JSON.stringify([credentialsFile]) });
        await publishAndPrune(h, /^AKIAPROD$/);
    });

    it("first publish: no package yet, the content-derived name", async () => {
        aws.documents(TEST_ACCOUNT).delete("UptycsAgent");
        const h = await host({ "aws:profile": "prod" });
        const { outs } = await h.create(`urn:x::${NAME_TYPE}::n`, nameInputs);
        assert.strictEqual(outs.versionName, nameInputs.contentVersion);
        assert.deepStrictEqual(aws.signers("ssm"), ["AKIAPROD"], "AWS_SHARED_CREDENTIALS_FILE from the environment, profile from the stack");
    });

    it("static keys (aws:accessKey, aws:secretKey): every request signed with them", async () => {
        const h = await host({ "aws:accessKey": "AKIASTATIC", "aws:secretKey": "static-secret" });
        await publishAndPrune(h, /^AKIASTATIC$/);
        assert.ok(!h.stderr.includes("static-secret"));
    });

    it("aws:assumeRoles: the role is assumed with the base credentials (ARN, session, external id, duration), then every request is signed with the role's", async () => {
        const role = `arn:aws:iam::${TEST_ACCOUNT}:role/distributor-publisher`;
        const h = await host({ "aws:assumeRoles": JSON.stringify([{ roleArn: role, sessionName: "ci-publish", externalId: "ext-42", duration: "30m" }]) });
        await publishAndPrune(h, /^ASIAROLE[0-9]+$/);
        const assumed = aws.calls.filter((c) => c.action === "AssumeRole");
        assert.ok(assumed.length >= 1);
        for (const c of assumed) {
            assert.strictEqual(c.accessKeyId, "AKIADEFAULT", "the base credentials assume the role");
            assert.deepStrictEqual([c.input.RoleArn, c.input.RoleSessionName, c.input.ExternalId, c.input.DurationSeconds], [role, "ci-publish", "ext-42", "1800"]);
        }
    });

    it("a chain of two roles: the second is assumed with the first's credentials", async () => {
        const hop = "arn:aws:iam::555566667777:role/hop";
        const target = `arn:aws:iam::${TEST_ACCOUNT}:role/publisher`;
        const h = await host({ "aws:profile": "prod", "aws:assumeRoles": JSON.stringify([{ roleArn: hop }, { roleArn: target }]) });
        await publishAndPrune(h, /^ASIAROLE[0-9]+$/);
        const assumed = aws.calls.filter((c) => c.action === "AssumeRole");
        const first = assumed.find((c) => c.input.RoleArn === hop)!;
        const second = assumed.find((c) => c.input.RoleArn === target)!;
        assert.strictEqual(first.accessKeyId, "AKIAPROD");
        assert.match(second.accessKeyId, /^ASIAROLE[0-9]+$/);
        assert.strictEqual(first.input.RoleSessionName, "uptycs-distributor", "the default session name");
    });

    describe("a default version set by hand is never published over", () => {
        const URN = `urn:x::${NAME_TYPE}::n`;
        let h: ProviderHost;
        /** The aws provider's part of a publish: the document gets the version and makes it the default. */
        const publish = (versionName: string): void => aws.publishVersion(TEST_ACCOUNT, "us-east-1", "UptycsAgent", versionName);
        /** What a person does in the console ("Set default version"), through the AWS SDK. */
        const setDefaultByHand = async (documentVersion: string): Promise<void> => {
            const ssm: typeof import("@aws-sdk/client-ssm") = require("@aws-sdk/client-ssm");
            const client = new ssm.SSMClient({ region: "us-east-1", endpoint: aws.endpoint, credentials: { accessKeyId: "AKIAPROD", secretAccessKey: "prod-secret" } });
            await client.send(new ssm.UpdateDocumentDefaultVersionCommand({ Name: "UptycsAgent", DocumentVersion: documentVersion }));
            client.destroy();
        };
        let stateB: Props;

        beforeEach(async () => {
            aws.documents(TEST_ACCOUNT).delete("UptycsAgent");
            h = await host({ "aws:profile": "prod" });
            // Publish A, then B, through the resource as `pulumi up` does; then roll back to A by hand.
            const a = await h.create(URN, { ...nameInputs, contentVersion: "5.14.2.20-aaaaaaaa" });
            assert.strictEqual(a.outs.versionName, "5.14.2.20-aaaaaaaa");
            publish("5.14.2.20-aaaaaaaa");
            stateB = await h.update("id", URN, a.outs, { ...nameInputs, contentVersion: "5.14.2.21-bbbbbbbb" });
            assert.strictEqual(stateB.versionName, "5.14.2.21-bbbbbbbb");
            publish("5.14.2.21-bbbbbbbb");
            await setDefaultByHand("1");
            aws.calls.length = 0;
        });

        it("the next publish fails naming the document, the hand-set and the published versions and both ways out; nothing is chosen", async () => {
            await assert.rejects(h.update("id", URN, stateB, { ...nameInputs, contentVersion: "5.14.2.22-cccccccc" }), (e: Error) => {
                assert.match(e.message, /default version of Distributor package UptycsAgent in us-east-1 is 5\.14\.2\.20-aaaaaaaa, set by hand/);
                assert.match(e.message, /this stack published 5\.14\.2\.21-bbbbbbbb and would now publish 5\.14\.2\.22-cccccccc/);
                assert.match(e.message, /pin agentVersion/);
                assert.match(e.message, /overrideManualRollback/);
                return true;
            });
            assert.deepStrictEqual(aws.documents(TEST_ACCOUNT).get("UptycsAgent")!.map((v) => [v.VersionName, v.IsDefaultVersion]),
                [["5.14.2.20-aaaaaaaa", true], ["5.14.2.21-bbbbbbbb", false]], "the rollback stands");
            assert.deepStrictEqual(aws.calls.filter((c) => c.service === "ssm").map((c) => c.action), ["ListDocumentVersions"], "read, nothing written");
        });

        it("with overrideManualRollback the publish goes ahead", async () => {
            const outs = await h.update("id", URN, stateB, { ...nameInputs, contentVersion: "5.14.2.22-cccccccc", overrideManualRollback: true });
            assert.strictEqual(outs.versionName, "5.14.2.22-cccccccc");
        });

        it("pinning agentVersion to the rolled-back content publishes nothing new and is not blocked", async () => {
            const outs = await h.update("id", URN, stateB, { ...nameInputs, contentVersion: "5.14.2.20-aaaaaaaa" });
            assert.strictEqual(outs.versionName, "5.14.2.20-aaaaaaaa", "the hand-set default itself");
        });

        it("pulumi preview (check and diff, no update) shows the same as a warning, only when something would be published", async () => {
            /** The diff's changes and what the host wrote to stderr during it. */
            const diff = async (news: Props): Promise<[boolean, string]> => {
                const before = h.stderr.length;
                const { changes } = await h.diff("id", URN, stateB, { ...nameInputs, ...news });
                return [changes, h.stderr.slice(before)];
            };
            const [changes, known] = await diff({ contentVersion: "5.14.2.22-cccccccc" });
            assert.strictEqual(changes, true);
            assert.match(known, /^warning: the default version of Distributor package UptycsAgent in us-east-1 is 5\.14\.2\.20-aaaaaaaa, set by hand; this stack published 5\.14\.2\.21-bbbbbbbb and would now publish 5\.14\.2\.22-cccccccc .*overrideManualRollback/m);
            // New zips in preview: their content version is not known yet.
            const [, unknown] = await diff({ contentVersion: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" });
            assert.match(unknown, /^warning: .* set by hand; .* would now publish a new version as the default over it/m);
            assert.strictEqual((await diff({ contentVersion: "5.14.2.22-cccccccc", overrideManualRollback: true }))[1], "", "overridden: no warning");
            assert.strictEqual((await diff({ contentVersion: "5.14.2.20-aaaaaaaa" }))[1], "", "pinned to the rolled-back content: nothing published over it");
            assert.deepStrictEqual(aws.calls.filter((c) => c.service === "ssm").map((c) => c.action), ["ListDocumentVersions", "ListDocumentVersions", "ListDocumentVersions"], "read only, once per diff that would publish");
            assert.deepStrictEqual(aws.documents(TEST_ACCOUNT).get("UptycsAgent")!.map((v) => v.IsDefaultVersion), [true, false]);
        });

        it("a no-op run is not blocked: nothing would be published, and the package is not even read", async () => {
            const { changes } = await h.diff("id", URN, stateB, { ...nameInputs, contentVersion: "5.14.2.21-bbbbbbbb", overrideManualRollback: false });
            assert.strictEqual(changes, false);
            assert.deepStrictEqual(aws.calls.filter((c) => c.service === "ssm"), []);
        });
    });

    it("credentials reaching another account than the stack's: fails naming both accounts; nothing read, chosen or deleted", async () => {
        aws.documents(TEST_ACCOUNT).set("UptycsAgent", history(6));
        const h = await host({});
        await assert.rejects(h.create(`urn:x::${PRUNER_TYPE}::p`, { ...prunerInputs, documentVersion: "v6" }), (e: Error) => {
            assert.match(e.message, new RegExp(`refusing to delete old versions of Distributor package UptycsAgent in us-east-1: .*default credential chain.* reach account ${OTHER_ACCOUNT}, but the component's aws provider deploys to account ${TEST_ACCOUNT}`));
            assert.match(e.message, /set aws:profile, aws:accessKey\/aws:secretKey or aws:assumeRoles/);
            return true;
        });
        await assert.rejects(h.create(`urn:x::${NAME_TYPE}::n`, nameInputs), new RegExp(`refusing to choose the next version name .* reach account ${OTHER_ACCOUNT}`));
        assert.deepStrictEqual(aws.calls.filter((c) => c.service === "ssm"), [], "no SSM call at all");
        assert.strictEqual(aws.documents(OTHER_ACCOUNT).get("UptycsAgent")!.length, 6);
        assert.strictEqual(aws.documents(TEST_ACCOUNT).get("UptycsAgent")!.length, 6);
    });
});
