// The package-version resources (VersionName choice, pruning) serialized from a mock run and
// executed by @pulumi/pulumi's dynamic-provider host with the real AWS SDK, against a local SSM.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FakeSsm } from "../support/fakeSsm";
import { runProgram } from "../support/program";
import { Props, ProviderHost } from "../support/providerHost";
import { ROOT } from "../support/e2e";

const NAME_TYPE = "pulumi-nodejs:dynamic/uptycs:PackageVersionName";
const PRUNER_TYPE = "pulumi-nodejs:dynamic/uptycs:DistributorVersionPruner";

describe("package versions through the dynamic-provider host and the AWS SDK", function () {
    let ssm: FakeSsm;
    let host: ProviderHost;
    let nameInputs: Props;
    let prunerInputs: Props;

    before(async () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-ssm-"));
        fs.writeFileSync(path.join(tmp, "key.json"), JSON.stringify({ customerId: "c", key: "k", secret: "s", domain: "t", domainSuffix: ".uptycs.io" }));
        const run = await runProgram({
            config: { apiKeyFile: path.join(tmp, "key.json"), keepVersions: "3" },
            artifacts: async (args) => ({ id: "a", state: { ...args.inputs, version: "5.14.2.21", zipFileName: `${(args.inputs.entry as { dir: string }).dir}.zip`, zipPath: "z.zip", zipSha256: "a".repeat(64) } }),
        });
        nameInputs = run.one(NAME_TYPE).inputs as Props;
        prunerInputs = run.one(PRUNER_TYPE).inputs as Props;
        ssm = await FakeSsm.start();
        host = await ProviderHost.start(ROOT, ssm.env());
        await host.configure({});
    });
    after(async () => {
        await host.stop();
        await ssm.stop();
    });

    it("first publish: no package yet, the content-derived name", async () => {
        const { outs } = await host.create(`urn:x::${NAME_TYPE}::n`, nameInputs);
        assert.strictEqual(outs.versionName, nameInputs.contentVersion);
    });

    it("content published before and since replaced gets -r<next document version>", async () => {
        const content = nameInputs.contentVersion as string;
        ssm.documents.set("UptycsAgent", [
            { DocumentVersion: "1", VersionName: content, IsDefaultVersion: false },
            { DocumentVersion: "2", VersionName: "5.14.2.21-bbbbbbbb", IsDefaultVersion: true },
        ]);
        const { outs } = await host.create(`urn:x::${NAME_TYPE}::n`, nameInputs);
        assert.strictEqual(outs.versionName, `${content}-r3`);
    });

    it("the pruner deletes the oldest versions beyond keepVersions through the SDK, never the default", async () => {
        ssm.documents.set("UptycsAgent", Array.from({ length: 6 }, (_, i) => ({ DocumentVersion: String(i + 1), VersionName: `v${i + 1}`, IsDefaultVersion: i === 0 })));
        const { outs } = await host.create(`urn:x::${PRUNER_TYPE}::p`, { ...prunerInputs, documentVersion: "v6" });
        assert.deepStrictEqual(outs.deletedVersions, ["v2", "v3", "v4"]);
        assert.deepStrictEqual(ssm.documents.get("UptycsAgent")!.map((v) => v.VersionName), ["v1", "v5", "v6"]);
        const again = await host.update("us-east-1/UptycsAgent", `urn:x::${PRUNER_TYPE}::p`, outs, { ...prunerInputs, documentVersion: "v6b" });
        assert.deepStrictEqual(again.deletedVersions, []);
        assert.strictEqual(ssm.calls.filter((c) => c.action === "DeleteDocument").length, 3);
    });
});
