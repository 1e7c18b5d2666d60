// The program's resource graph under mocks, for the default mapping and config variants. The
// artifacts' state is made up here from their inputs; test/program/e2e.test.ts runs them for real.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ARTIFACT_TYPE, runProgram } from "../support/program";
import { TEST_SECRET } from "../support/fakeUptycsApi";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-program-"));
const keyFile = path.join(tmp, "key.json");
const ENTRY = { upt_package: "centos", id: "rhel", dir: "UPT_PRO_REDHAT_x86_64", name: "redhat", major_version: "_any", minor_version: "", arch_type: "x86_64" };
const apiKey = { customerId: "c-1", key: "k", secret: TEST_SECRET, domain: "t", domainSuffix: ".uptycs.io" };
fs.writeFileSync(keyFile, JSON.stringify(apiKey));

// Made-up artifact state, unrelated to what the assertions compute: as the real provider does,
// entries of one installer package and arch get the same zip (bytes and name), each its own path.
const fakeArtifacts = async (args: pulumi.runtime.MockResourceArgs): Promise<{ id: string; state: Record<string, unknown> }> => {
    const entry = args.inputs.entry as { dir: string; upt_package: string; arch_type: string };
    const zip = `${entry.upt_package}.${entry.arch_type}`;
    const sha = Buffer.from(zip).toString("hex").padEnd(64, "0").slice(0, 64);
    return {
        id: entry.dir,
        state: { ...args.inputs, version: "5.14.2.21", zipFileName: `${zip}-z.zip`, zipPath: path.join(tmp, `${entry.dir}.zip`), zipSha256: sha, installerFileName: "i.rpm" },
    };
};

describe("program under mocks", function () {
    it("wires the default mapping: 17 artifacts, one zip object per distinct zip (5), manifest, private bucket, Package document", async () => {
        const run = await runProgram({ config: { apiKeyFile: keyFile }, artifacts: fakeArtifacts });
        const artifacts = run.byType(ARTIFACT_TYPE);
        assert.strictEqual(artifacts.length, 17);
        for (const a of artifacts) {
            assert.strictEqual(a.name, `uptycs-${(a.inputs.entry as { dir: string }).dir}`, "the component's name, then the mapping dir");
            assert.strictEqual(a.inputs.agentVersion, "latest");
            assert.strictEqual(a.inputs.sensorOnly, false);
            assert.strictEqual(a.inputs.installerSource, "api");
            assert.strictEqual(typeof a.inputs.__provider, "string");
        }
        const bucket = run.one("aws:s3/bucket:Bucket");
        const bucketName = bucket.state.bucket;
        const pab = run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
        assert.deepStrictEqual([pab.inputs.blockPublicAcls, pab.inputs.blockPublicPolicy, pab.inputs.ignorePublicAcls, pab.inputs.restrictPublicBuckets], [true, true, true, true]);
        assert.deepStrictEqual(run.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
        run.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
        const policy = run.one("aws:s3/bucketPolicy:BucketPolicy");
        assert.strictEqual(policy.inputs.bucket, `${bucket.name}-id`);
        assert.deepStrictEqual(JSON.parse(policy.inputs.policy as string).Statement, [{
            Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*",
            Resource: [`arn:aws:s3:::${bucketName}`, `arn:aws:s3:::${bucketName}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        }]);

        const objects = run.byType("aws:s3/bucketObjectv2:BucketObjectv2");
        assert.strictEqual(objects.length, 6);
        const zipObjects = objects.filter((o) => o.name !== "uptycs-manifest");
        assert.deepStrictEqual(zipObjects.map((o) => o.name).sort(), ["centos-arm64", "centos-x86_64", "debian-arm64", "debian-x86_64", "windows-x86_64"].map((g) => `uptycs-${g}-zip`));
        for (const a of artifacts) {
            const holding = zipObjects.filter((o) => o.inputs.key === `uptycs/${a.state.zipFileName}`);
            assert.strictEqual(holding.length, 1, `one object holds ${a.name}'s zip`);
            assert.strictEqual(holding[0].inputs.bucket, bucketName);
            const source = await (holding[0].inputs.source as { path: Promise<string> }).path;
            assert.ok(artifacts.some((b) => b.state.zipPath === source && b.state.zipFileName === a.state.zipFileName), `${holding[0].name} uploads a zip of its group`);
        }
        const manifestObject = run.one("aws:s3/bucketObjectv2:BucketObjectv2", "uptycs-manifest");
        assert.strictEqual(manifestObject.inputs.key, "uptycs/manifest.json");
        const manifest = JSON.parse(manifestObject.inputs.content as string);
        assert.strictEqual(Object.keys(manifest.files).length, 5);
        for (const a of artifacts) {
            assert.strictEqual(manifest.files[a.state.zipFileName as string].checksums.sha256, a.state.zipSha256);
        }

        const doc = run.one("aws:ssm/document:Document");
        assert.strictEqual(doc.inputs.name, "UptycsAgent");
        assert.strictEqual(doc.inputs.documentType, "Package");
        assert.strictEqual(doc.inputs.content, manifestObject.inputs.content);
        assert.strictEqual(doc.inputs.versionName, manifest.version);
        assert.deepStrictEqual(doc.inputs.attachmentsSources, [{ key: "SourceUrl", values: [`s3://${bucketName}/uptycs`] }]);

        assert.strictEqual(run.outputs.packageName, "UptycsAgent");
        assert.strictEqual(run.outputs.agentVersion, "5.14.2.21");
        assert.strictEqual(run.outputs.documentVersion, manifest.version);
        assert.strictEqual(run.outputs.bucketName, bucketName);
        assert.strictEqual((run.outputs.zips as Record<string, string>)["ubuntu/_any/arm64"], "debian.arm64-z.zip");
    });

    it("a changed zip's object is replaced create-before-delete, and the document waits for every zip object and the manifest", async () => {
        // Deleting the old object first would leave the document's attachments pointing at nothing
        // until it moved to the new one: Pulumi's default replaces create-before-delete, and the
        // old object goes only at the end of the update, after the document took the new files.
        const run = await runProgram({ config: { apiKeyFile: keyFile }, artifacts: fakeArtifacts });
        const objects = run.byType("aws:s3/bucketObjectv2:BucketObjectv2");
        assert.strictEqual(objects.length, 6);
        for (const o of objects) {
            assert.strictEqual(o.options.deleteBeforeReplace, false, o.name);
        }
        const doc = run.one("aws:ssm/document:Document");
        const dependsOn = doc.options.dependencies.map((urn) => urn.split("::").pop());
        assert.deepStrictEqual(objects.map((o) => o.name).filter((n) => !dependsOn.includes(n)), [], `the document depends on ${dependsOn.join(", ")}`);
        assert.strictEqual(doc.options.deleteBeforeReplace, false);
    });

    it("publishes into an existing bucket without creating one; passes sensorOnly, version, name and mapping through", async () => {
        const run = await runProgram({
            config: {
                apiKeyFile: keyFile, bucketName: "my-existing-bucket", sensorOnly: "true", agentVersion: "5.13.1.4", packageName: "Uptycs-Sensor",
                mappingFile: path.join(__dirname, "..", "..", "platforms", "uptycs-agent-mapping.original.json"),
            },
            artifacts: fakeArtifacts,
        });
        assert.strictEqual(run.byType("aws:s3/bucket:Bucket").length, 0);
        const artifacts = run.byType(ARTIFACT_TYPE);
        assert.strictEqual(artifacts.length, 8);
        assert.ok(artifacts.every((a) => a.inputs.sensorOnly === true && a.inputs.agentVersion === "5.13.1.4"));
        const doc = run.one("aws:ssm/document:Document");
        assert.strictEqual(doc.inputs.name, "Uptycs-Sensor");
        assert.deepStrictEqual(doc.inputs.attachmentsSources, [{ key: "SourceUrl", values: ["s3://my-existing-bucket/uptycs"] }]);
        assert.match(JSON.parse(doc.inputs.content as string).description, /sensor-only/);
    });

    it("local installer source needs no credentials and passes the folder", async () => {
        const run = await runProgram({ config: { installerSource: "local", installerDir: tmp, agentVersion: "5.7.0.25" }, artifacts: fakeArtifacts });
        assert.ok(run.byType(ARTIFACT_TYPE).every((a) => a.inputs.installerSource === "local" && a.inputs.installerDir === tmp));
        const api = await runProgram({ config: { apiKeyFile: keyFile, installerDir: tmp }, artifacts: fakeArtifacts });
        assert.ok(api.byType(ARTIFACT_TYPE).every((a) => a.inputs.installerDir === ""), "api mode ignores installerDir");
    });

    it("reads the provider settings as uptycs:apiKey / uptycs:apiKeyFile", async () => {
        const run = await runProgram({ config: { "uptycs:apiKey": JSON.stringify(apiKey) }, secretKeys: ["uptycs:apiKey"], artifacts: fakeArtifacts });
        assert.strictEqual(run.byType(ARTIFACT_TYPE).length, 17);
        assert.ok(!JSON.stringify(run.resources).includes(TEST_SECRET));
        await assert.rejects(runProgram({ config: { "uptycs:apiKey": JSON.stringify(apiKey) }, artifacts: fakeArtifacts, preview: true }),
            /config uptycs:apiKey holds the API secret and must be set with `pulumi config set --secret uptycs:apiKey`/);
        await assert.rejects(runProgram({ config: { "uptycs:apiKeyFile": "/nonexistent/key.json" }, artifacts: fakeArtifacts, preview: true }),
            /config uptycs:apiKeyFile names \/nonexistent\/key\.json, which cannot be read \(ENOENT\)/);
        await assert.rejects(runProgram({ config: { "uptycs:apiKey": JSON.stringify(apiKey), apiKeyFile: keyFile }, secretKeys: ["uptycs:apiKey"], artifacts: fakeArtifacts, preview: true }),
            /config uptycs:apiKey and uptycs-distributor:apiKeyFile are both set: set one/, "half-moved credentials are ambiguous");
    });

    it("accepts the key file JSON as a secret apiKey and never registers it anywhere", async () => {
        const run = await runProgram({ config: { apiKey: JSON.stringify(apiKey) }, secretKeys: ["apiKey"], artifacts: fakeArtifacts });
        assert.strictEqual(run.byType(ARTIFACT_TYPE).length, 17);
        assert.ok(!JSON.stringify(run.resources).includes(TEST_SECRET));
        assert.ok(!JSON.stringify(run.outputs).includes(TEST_SECRET));
    });

    const badConfigs: [string, Record<string, string>, RegExp][] = [
        ["no credentials", {}, /config uptycs:apiKeyFile is not set: set it to the API key file .* \(or set uptycs:apiKey as a secret\)/],
        ["unreadable key file", { apiKeyFile: path.join(tmp, "missing.json") }, /apiKeyFile names .*missing\.json, which cannot be read \(ENOENT\)/],
        ["key file without secret", { apiKeyFile: "KEYFILE_NO_SECRET" }, /field 'secret' is missing/],
        ["apiKey not secret", { apiKey: JSON.stringify(apiKey) }, /must be set with `pulumi config set --secret apiKey`/],
        ["both apiKey and apiKeyFile", { apiKey: "{}", apiKeyFile: keyFile }, /both set/],
        ["bad agentVersion", { apiKeyFile: keyFile, agentVersion: "5.x" }, /config uptycs-distributor:agentVersion must be 'latest' or a version/],
        ["bad sensorOnly", { apiKeyFile: keyFile, sensorOnly: "yes" }, /config uptycs-distributor:sensorOnly must be true or false/],
        ["reserved packageName", { apiKeyFile: keyFile, packageName: "AWS-Uptycs" }, /config uptycs-distributor:packageName 'AWS-Uptycs' must not start with 'aws'/],
        ["bad bucketName", { apiKeyFile: keyFile, bucketName: "Bad_Bucket" }, /config uptycs-distributor:bucketName 'Bad_Bucket' is not a valid S3 bucket name/],
        ["bad installerSource", { apiKeyFile: keyFile, installerSource: "ftp" }, /installerSource must be 'api' or 'local'/],
        ["local without pinned version", { installerSource: "local", installerDir: tmp }, /agentVersion must be pinned/],
        ["local without folder", { installerSource: "local", agentVersion: "5.7.0.25", installerDir: path.join(tmp, "nope") }, /installerDir names .*nope, which is not a folder/],
        ["missing mapping file", { apiKeyFile: keyFile, mappingFile: path.join(tmp, "nope.json") }, /mappingFile names .*nope\.json, which cannot be read/],
        ["mapping file not JSON", { apiKeyFile: keyFile, mappingFile: "MAPPING:{" }, /mappingFile \(.*\): not valid JSON/],
        ["mapping with empty lists", { apiKeyFile: keyFile, mappingFile: `MAPPING:${JSON.stringify({ linux: [], windows: [] })}` }, /mappingFile \(.*\): no entries in 'linux' or 'windows'/],
        ["mapping with a duplicate dir", { apiKeyFile: keyFile, mappingFile: `MAPPING:${JSON.stringify({ linux: [ENTRY, { ...ENTRY, arch_type: "arm64" }], windows: [] })}` }, /duplicate dir 'UPT_PRO_REDHAT_x86_64'/],
        ["mapping with an unknown platform", { apiKeyFile: keyFile, mappingFile: `MAPPING:${JSON.stringify({ linux: [{ ...ENTRY, name: "gentoo" }], windows: [] })}` }, /linux\[0\]\.name must be equal to one of the allowed values/],
        ["mapping with an unknown arch", { apiKeyFile: keyFile, mappingFile: `MAPPING:${JSON.stringify({ linux: [{ ...ENTRY, arch_type: "ppc64le" }], windows: [] })}` }, /linux\[0\]\.arch_type must be equal to one of the allowed values \(x86_64, arm64\)/],
        ["mapping over 20 files", { apiKeyFile: keyFile, mappingFile: `MAPPING:${JSON.stringify({ linux: Array.from({ length: 21 }, (_, i) => ({ ...ENTRY, dir: `D${i}`, major_version: i === 0 ? "_any" : String(i) })), windows: [] })}` }, /21 entries, but a Distributor package version holds at most 20 files/],
        ["bad buildDir", { apiKeyFile: keyFile, buildDir: "../elsewhere" }, /buildDir must be a folder inside the project/],
        ["bad requestRetries", { apiKeyFile: keyFile, requestRetries: "many" }, /config uptycs-distributor:requestRetries must be a number from 0 to 10/],
        ["bad requestTimeout", { apiKeyFile: keyFile, requestTimeout: "0" }, /config uptycs-distributor:requestTimeout must be a number from 0.1 to 3600, got '0'/],
        ["bad requestBackoff", { apiKeyFile: keyFile, requestBackoff: "-1" }, /config uptycs-distributor:requestBackoff must be a number from 0 to 60, got '-1'/],
    ];
    for (const [what, config, message] of badConfigs) {
        it(`fails at preview with a message naming the key: ${what}`, async () => {
            if (config.mappingFile?.startsWith("MAPPING:")) {
                const f = path.join(tmp, `mapping-${what.replace(/\W/g, "_")}.json`);
                fs.writeFileSync(f, config.mappingFile.slice("MAPPING:".length));
                config.mappingFile = f;
            }
            if (config.apiKeyFile === "KEYFILE_NO_SECRET") {
                const f = path.join(tmp, "nosecret.json");
                fs.writeFileSync(f, JSON.stringify({ ...apiKey, secret: undefined }));
                config.apiKeyFile = f;
            }
            await assert.rejects(runProgram({ config, secretKeys: config.apiKey === "{}" ? ["apiKey"] : [], artifacts: fakeArtifacts, preview: true }), (e: Error) => {
                assert.match(e.message, message);
                assert.ok(!e.message.includes(TEST_SECRET));
                return true;
            });
        });
    }
});
