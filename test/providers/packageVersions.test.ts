import * as assert from "assert";
import { DeleteDocumentCommand, ListDocumentVersionsCommand, SSMClient } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { awsSettingsFromConfig } from "../../providers/awsCredentials";
import { pruneVersions, VersionNameProvider, VersionPrunerProvider } from "../../providers/packageVersions";

const ssm = mockClient(SSMClient);
const sts = mockClient(STSClient);
const aws = awsSettingsFromConfig(() => undefined);
const versionNameProvider = new VersionNameProvider();
const versionPrunerProvider = new VersionPrunerProvider();

/** Versions 1..n as ListDocumentVersions reports them, `def` the default; two pages. */
function listing(n: number, def: number): void {
    const all = Array.from({ length: n }, (_, i) => ({
        Name: "UptycsAgent", DocumentVersion: String(i + 1), VersionName: `5.14.2.${i + 1}-abcd0000`, IsDefaultVersion: i + 1 === def,
    }));
    const half = Math.ceil(n / 2);
    ssm.on(ListDocumentVersionsCommand, { Name: "UptycsAgent" }).resolves({ DocumentVersions: all.slice(0, half), NextToken: "page2" });
    ssm.on(ListDocumentVersionsCommand, { Name: "UptycsAgent", NextToken: "page2" }).resolves({ DocumentVersions: all.slice(half) });
}

const deleted = (): string[] => ssm.commandCalls(DeleteDocumentCommand).map((c) => {
    assert.strictEqual(c.args[0].input.Name, "UptycsAgent");
    return c.args[0].input.VersionName!;
});

const ACCOUNT = "111122223333";
const props = { packageName: "UptycsAgent", documentVersion: "5.14.2.25-abcd0000", keepVersions: 20, region: "eu-west-1", accountId: ACCOUNT };
const nameProps = { packageName: "UptycsAgent", contentVersion: "5.14.2.21-aaaa0000", region: "us-east-1", accountId: ACCOUNT };

describe("providers/packageVersions (recorded SSM calls)", () => {
    beforeEach(() => {
        ssm.reset();
        sts.reset();
        sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ci`, UserId: "AIDA" });
    });

    it("at the quota of 25, deletes the 5 oldest by VersionName and keeps the newest 20", async () => {
        listing(25, 25);
        ssm.on(DeleteDocumentCommand).resolves({});
        const names = await pruneVersions(aws, props);
        assert.deepStrictEqual(names, ["1", "2", "3", "4", "5"].map((v) => `5.14.2.${v}-abcd0000`));
        assert.deepStrictEqual(deleted(), names);
        assert.strictEqual(ssm.commandCalls(ListDocumentVersionsCommand).length, 2, "follows NextToken");
    });

    it("never deletes the default version, even when it is among the oldest", async () => {
        listing(23, 2);
        ssm.on(DeleteDocumentCommand).resolves({});
        assert.deepStrictEqual(await pruneVersions(aws, props), ["5.14.2.1-abcd0000", "5.14.2.3-abcd0000", "5.14.2.4-abcd0000"]);
    });

    it("is idempotent: nothing to prune means no DeleteDocument call", async () => {
        listing(20, 20);
        assert.deepStrictEqual(await pruneVersions(aws, props), []);
        assert.strictEqual(ssm.commandCalls(DeleteDocumentCommand).length, 0);
        ssm.reset();
        listing(3, 3);
        assert.deepStrictEqual(await pruneVersions(aws, { ...props, keepVersions: 5 }), []);
        assert.strictEqual(ssm.commandCalls(DeleteDocumentCommand).length, 0);
    });

    it("honours keepVersions", async () => {
        listing(10, 10);
        ssm.on(DeleteDocumentCommand).resolves({});
        assert.strictEqual((await pruneVersions(aws, { ...props, keepVersions: 3 })).length, 7);
        assert.ok(!deleted().includes("5.14.2.10-abcd0000"));
    });

    it("an AWS refusal names the package and version", async () => {
        listing(22, 22);
        ssm.on(DeleteDocumentCommand).rejects(new Error("AccessDeniedException: not authorized to perform ssm:DeleteDocument"));
        await assert.rejects(pruneVersions(aws, props), /deleting version 5\.14\.2\.1-abcd0000 of Distributor package UptycsAgent: AccessDeniedException/);
    });

    it("the provider prunes on create and on each new document version, and reports what it deleted", async () => {
        listing(21, 21);
        ssm.on(DeleteDocumentCommand).resolves({});
        const created = await versionPrunerProvider.create!(props);
        assert.strictEqual(created.id, "eu-west-1/UptycsAgent");
        assert.deepStrictEqual(created.outs.deletedVersions, ["5.14.2.1-abcd0000"]);
        const same = await versionPrunerProvider.diff!(created.id, created.outs, props);
        assert.strictEqual(same.changes, false);
        const next = await versionPrunerProvider.diff!(created.id, created.outs, { ...props, documentVersion: "5.15.0.1-00000000" });
        assert.deepStrictEqual([next.changes, next.replaces], [true, []]);
        const elsewhere = await versionPrunerProvider.diff!(created.id, created.outs, { ...props, accountId: "444455556666" });
        assert.deepStrictEqual([elsewhere.changes, elsewhere.replaces], [true, ["accountId"]]);
    });

    it("credentials reaching another account than the stack's: refuses, naming both accounts, and deletes nothing", async () => {
        listing(25, 25);
        ssm.on(DeleteDocumentCommand).resolves({});
        sts.on(GetCallerIdentityCommand).resolves({ Account: "999988887777" });
        await assert.rejects(pruneVersions(aws, props), (e: Error) => {
            assert.match(e.message, /refusing to delete old versions of Distributor package UptycsAgent in eu-west-1: .* reach account 999988887777, but the component's aws provider deploys to account 111122223333/);
            assert.match(e.message, /aws:profile, aws:accessKey\/aws:secretKey or aws:assumeRoles/);
            return true;
        });
        assert.strictEqual(ssm.commandCalls(DeleteDocumentCommand).length, 0);
        assert.strictEqual(ssm.commandCalls(ListDocumentVersionsCommand).length, 0, "not even the history of the other account's package is read");
        await assert.rejects(versionNameProvider.create!(nameProps), /refusing to choose the next version name .* reach account 999988887777/);
    });

    it("first publish: the package does not exist yet, so the content-derived name is used", async () => {
        ssm.on(ListDocumentVersionsCommand).rejects(Object.assign(new Error("InvalidDocument: document does not exist"), { name: "InvalidDocument" }));
        const r = await versionNameProvider.create!(nameProps);
        assert.strictEqual(r.outs.versionName, "5.14.2.21-aaaa0000");
    });

    it("flipping back to content published before gets a name never used: -r<the document version it becomes>", async () => {
        listing(3, 3); // names 5.14.2.<n>-abcd0000; content 5.14.2.1-abcd0000 was published and replaced
        const r = await versionNameProvider.update!("x", { ...nameProps, versionName: "5.14.2.3-abcd0000" }, { ...nameProps, contentVersion: "5.14.2.1-abcd0000" });
        assert.strictEqual(r.outs!.versionName, "5.14.2.1-abcd0000-r4");
    });

    it("other AWS errors while listing versions name the package and region", async () => {
        ssm.on(ListDocumentVersionsCommand).rejects(new Error("ExpiredTokenException: the security token is expired"));
        await assert.rejects(versionNameProvider.create!(nameProps),
            /listing the versions of Distributor package UptycsAgent in us-east-1: ExpiredTokenException/);
    });
});
