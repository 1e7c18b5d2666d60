import * as assert from "assert";
import { DeleteDocumentCommand, ListDocumentVersionsCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { pruneVersions, versionNameProvider, versionPrunerProvider } from "../../providers/packageVersions";

const ssm = mockClient(SSMClient);

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

const props = { packageName: "UptycsAgent", documentVersion: "5.14.2.25-abcd0000", keepVersions: 20, region: "eu-west-1" };

describe("providers/packageVersions (recorded SSM calls)", () => {
    beforeEach(() => ssm.reset());

    it("at the quota of 25, deletes the 5 oldest by VersionName and keeps the newest 20", async () => {
        listing(25, 25);
        ssm.on(DeleteDocumentCommand).resolves({});
        const names = await pruneVersions(props);
        assert.deepStrictEqual(names, ["1", "2", "3", "4", "5"].map((v) => `5.14.2.${v}-abcd0000`));
        assert.deepStrictEqual(deleted(), names);
        assert.strictEqual(ssm.commandCalls(ListDocumentVersionsCommand).length, 2, "follows NextToken");
    });

    it("never deletes the default version, even when it is among the oldest", async () => {
        listing(23, 2);
        ssm.on(DeleteDocumentCommand).resolves({});
        assert.deepStrictEqual(await pruneVersions(props), ["5.14.2.1-abcd0000", "5.14.2.3-abcd0000", "5.14.2.4-abcd0000"]);
    });

    it("is idempotent: nothing to prune means no DeleteDocument call", async () => {
        listing(20, 20);
        assert.deepStrictEqual(await pruneVersions(props), []);
        assert.strictEqual(ssm.commandCalls(DeleteDocumentCommand).length, 0);
        ssm.reset();
        listing(3, 3);
        assert.deepStrictEqual(await pruneVersions({ ...props, keepVersions: 5 }), []);
        assert.strictEqual(ssm.commandCalls(DeleteDocumentCommand).length, 0);
    });

    it("honours keepVersions", async () => {
        listing(10, 10);
        ssm.on(DeleteDocumentCommand).resolves({});
        assert.strictEqual((await pruneVersions({ ...props, keepVersions: 3 })).length, 7);
        assert.ok(!deleted().includes("5.14.2.10-abcd0000"));
    });

    it("an AWS refusal names the package and version", async () => {
        listing(22, 22);
        ssm.on(DeleteDocumentCommand).rejects(new Error("AccessDeniedException: not authorized to perform ssm:DeleteDocument"));
        await assert.rejects(pruneVersions(props), /deleting version 5\.14\.2\.1-abcd0000 of Distributor package UptycsAgent: AccessDeniedException/);
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
    });

    it("first publish: the package does not exist yet, so the content-derived name is used", async () => {
        ssm.on(ListDocumentVersionsCommand).rejects(Object.assign(new Error("InvalidDocument: document does not exist"), { name: "InvalidDocument" }));
        const r = await versionNameProvider.create!({ packageName: "UptycsAgent", contentVersion: "5.14.2.21-aaaa0000", region: "us-east-1" });
        assert.strictEqual(r.outs.versionName, "5.14.2.21-aaaa0000");
    });

    it("flipping back to content published before gets a name never used: -r<the document version it becomes>", async () => {
        listing(3, 3); // names 5.14.2.<n>-abcd0000; content 5.14.2.1-abcd0000 was published and replaced
        const r = await versionNameProvider.update!("x", {}, { packageName: "UptycsAgent", contentVersion: "5.14.2.1-abcd0000", region: "us-east-1" });
        assert.strictEqual(r.outs!.versionName, "5.14.2.1-abcd0000-r4");
    });

    it("other AWS errors while listing versions name the package and region", async () => {
        ssm.on(ListDocumentVersionsCommand).rejects(new Error("ExpiredTokenException: the security token is expired"));
        await assert.rejects(versionNameProvider.create!({ packageName: "UptycsAgent", contentVersion: "5.14.2.21-aaaa0000", region: "us-east-1" }),
            /listing the versions of Distributor package UptycsAgent in us-east-1: ExpiredTokenException/);
    });
});
