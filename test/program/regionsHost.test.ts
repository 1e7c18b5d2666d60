// Several regions through the real dynamic-provider host: the zips are built once for every
// region, and a region added later publishes there without downloading or rebuilding anything.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { FakeUptycsApi } from "../support/fakeUptycsApi";
import { ARTIFACT_TYPE } from "../support/program";
import { ROOT, TestStack } from "../support/e2e";

const MAPPING = {
    linux: [{ upt_package: "centos", id: "rhel", dir: "UPT_PRO_REDHAT_x86_64", name: "redhat", major_version: "_any", minor_version: "", arch_type: "x86_64" }],
    windows: [{ upt_package: "windows", id: "windows", dir: "UPT_PRO_WINDOWS", name: "windows", major_version: "_any", minor_version: "", arch_type: "x86_64" }],
};
const THREE = ["us-east-1", "eu-west-1", "ap-southeast-2"];

describe("several regions through the dynamic-provider host", function () {
    it("three regions build each zip once; adding a fourth downloads nothing and rebuilds no zip", async () => {
        const api = await FakeUptycsApi.start();
        const stack = TestStack.create(api, "regions");
        try {
            const mappingFile = path.join(ROOT, stack.buildDir, "mapping.json");
            fs.writeFileSync(mappingFile, JSON.stringify(MAPPING));
            const three = await stack.up({ mappingFile, regions: JSON.stringify(THREE) });
            assert.strictEqual(three.byType(ARTIFACT_TYPE).length, 2);
            assert.strictEqual(api.downloads(), 2);
            assert.strictEqual(three.byType("aws:ssm/document:Document").length, 3);
            const zips = three.byType(ARTIFACT_TYPE).map((a) => a.state.zipSha256).sort();

            const four = await stack.up({ mappingFile, regions: JSON.stringify([...THREE, "ca-central-1"]) });
            assert.deepStrictEqual(stack.lastChanged, [], "no artifact changed");
            assert.strictEqual(api.downloads(), 2, "nothing downloaded");
            assert.deepStrictEqual(four.byType(ARTIFACT_TYPE).map((a) => a.state.zipSha256).sort(), zips);
            const docs = four.byType("aws:ssm/document:Document");
            assert.deepStrictEqual(docs.map((d) => d.name).sort(), [...THREE, "ca-central-1"].map((r) => `uptycs-document-${r}`).sort());
            const added = four.byType("aws:s3/bucketObjectv2:BucketObjectv2").filter((o) => o.name.endsWith("-zip-ca-central-1"));
            assert.deepStrictEqual(added.map((o) => o.inputs.key).sort(), four.byType(ARTIFACT_TYPE).map((a) => `uptycs/${a.state.zipFileName}`).sort());
        } finally {
            stack.remove();
            await api.stop();
        }
    });
});
