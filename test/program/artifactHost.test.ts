// UptycsAgentArtifact through @pulumi/pulumi's dynamic-provider host over gRPC, with the
// `__provider` captured from a mock run of the program: Check, Diff, Create, Update, Delete.
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { FakeUptycsApi, TEST_SECRET } from "../support/fakeUptycsApi";
import { ARTIFACT_TYPE, named, runProgram } from "../support/program";
import { Props, ProviderHost } from "../support/providerHost";
import { ROOT } from "../support/e2e";
import { UptycsAgentArtifactOutputs, UptycsAgentArtifactProvider } from "../../providers/uptycsAgentArtifact";

const URN = `urn:pulumi:test::uptycs-distributor::${ARTIFACT_TYPE}::${named("UPT_PRO_UBUNTU_ARM64")}`;

describe("UptycsAgentArtifact through the dynamic-provider host", function () {
    let api: FakeUptycsApi;
    let host: ProviderHost;
    let inputs: Props;
    const buildDir = path.join("build", `test-host-${process.pid}`);
    const keyFile = path.join(ROOT, buildDir, "key.json");
    let created: { id: string; outs: Props };

    before(async () => {
        api = await FakeUptycsApi.start();
        fs.mkdirSync(path.dirname(keyFile), { recursive: true });
        fs.writeFileSync(keyFile, JSON.stringify(api.apiKey()));
        const run = await runProgram({
            config: { apiKeyFile: keyFile, buildDir },
            artifacts: async (args) => ({ id: "x", state: { ...args.inputs, version: "0", zipFileName: "x", zipPath: "x", zipSha256: "0".repeat(64) } }),
        });
        inputs = run.byType(ARTIFACT_TYPE).find((r) => r.name === named("UPT_PRO_UBUNTU_ARM64"))!.inputs as Props;
        const closure = inputs.__provider as string;
        assert.match(closure, /^exports\.handler = /);
        // Runs in plain node: only node_modules and builtins may be required, never local paths.
        assert.deepStrictEqual(closure.match(/require\("\.{1,2}\/[^"]*"\)|__dirname|__filename/g), null);
        host = await ProviderHost.start(ROOT);
        await host.configure({ "uptycs-distributor:apiKeyFile": keyFile, "uptycs-distributor:requestBackoff": "0.01" });
    });
    after(async () => {
        await host.stop();
        await api.stop();
        fs.rmSync(path.join(ROOT, buildDir), { recursive: true, force: true });
    });

    it("check (all that preview runs) resolves latest to the highest offered version, downloading nothing", async () => {
        const { inputs: checked, failures } = await host.check(URN, {}, inputs);
        assert.deepStrictEqual(failures, []);
        assert.strictEqual(checked.agentVersion, "latest");
        assert.strictEqual(checked.version, "5.14.2.21");
        assert.match(checked.scriptsDigest as string, /^[0-9a-f]{64}$/);
        assert.strictEqual(api.downloads(), 0);
        assert.strictEqual(api.count("/osqueryPackages"), 1);
    });

    it("check reports each bad input by property", async () => {
        const { failures } = await host.check(URN, {}, { ...inputs, entry: { ...(inputs.entry as Props), arch_type: "386" }, agentVersion: "5.x", sensorOnly: "no", installerSource: "ftp" });
        assert.deepStrictEqual(failures.map((f) => f.property).sort(), ["agentVersion", "entry", "installerSource", "sensorOnly"]);
        assert.match(failures.find((f) => f.property === "entry")!.reason, /arch_type must be equal to one of the allowed values/);
    });

    it("create downloads the arm64 installer and writes the zip", async () => {
        const { inputs: checked } = await host.check(URN, {}, inputs);
        created = await host.create(URN, checked);
        assert.strictEqual(created.id, "UPT_PRO_UBUNTU_ARM64");
        assert.strictEqual(created.outs.installerFileName, "assets-uptycs-protect-5.14.2.21-Uptycs-arm64.deb");
        assert.ok(fs.existsSync(path.join(ROOT, created.outs.zipPath as string)));
        assert.strictEqual(api.downloads(), 1);
        assert.ok(api.requests.some((r) => r.path.includes("/debian/") && r.path.includes("gravitonPackage=true")));
        assert.strictEqual(created.outs.__provider, inputs.__provider);
    });

    it("diff with unchanged inputs: no change, no request", async () => {
        const before = api.requests.length;
        const { inputs: checked } = await host.check(URN, created.outs, inputs);
        const diff = await host.diff(created.id, URN, created.outs, checked);
        assert.deepStrictEqual(diff, { changes: false, replaces: [] });
        assert.strictEqual(api.requests.length, before, "the version lookup is memoized per process");
    });

    it("diff on a new version: a change, not a replacement; update rebuilds under a new name", async () => {
        const { inputs: checked } = await host.check(URN, created.outs, { ...inputs, agentVersion: "5.13.1.4" });
        assert.deepStrictEqual(await host.diff(created.id, URN, created.outs, checked), { changes: true, replaces: [] });
        const outs = await host.update(created.id, URN, created.outs, checked);
        assert.strictEqual(outs.version, "5.13.1.4");
        assert.notStrictEqual(outs.zipFileName, created.outs.zipFileName);
        assert.ok(fs.existsSync(path.join(ROOT, created.outs.zipPath as string)), "the old zip stays for other stacks until deleted");
        created = { id: created.id, outs };
    });

    it("delete removes the zip", async () => {
        await host.delete(created.id, URN, created.outs);
        assert.ok(!fs.existsSync(path.join(ROOT, created.outs.zipPath as string)));
        assert.ok(!host.stderr.includes(TEST_SECRET));
    });

    it("without credentials, check names the config keys to set", async () => {
        const bare = await ProviderHost.start(ROOT);
        try {
            await bare.configure({});
            await assert.rejects(bare.check(URN, {}, inputs), /no Uptycs credentials: set config uptycs:apiKeyFile .* or uptycs:apiKey/);
        } finally {
            await bare.stop();
        }
    });
});

describe("UptycsAgentArtifactProvider.diff names what changed", () => {
    const provider = new UptycsAgentArtifactProvider();
    const olds = {
        entry: { dir: "D", upt_package: "debian", arch_type: "arm64" }, agentVersion: "latest", version: "5.14.2.21", sensorOnly: false, installerSource: "api", installerDir: "", packageName: "P",
        buildDir: "build", scriptsDigest: "a", localInstaller: "", localInstallerSha256: "", zipPath: "does/not/exist.zip", zipSha256: "0", zipFileName: "debian-arm64-5.14.2.21-0.zip",
    } as unknown as UptycsAgentArtifactOutputs;
    /** The new inputs as `check` gives them: the olds' inputs, with the scripts. */
    const checked = (o: UptycsAgentArtifactOutputs): Parameters<UptycsAgentArtifactProvider["diff"]>[2] => ({ ...o, scripts: {}, apiKey: undefined });

    it("lists changed inputs by name", async () => {
        const diff = await provider.diff("D", olds, { ...checked(olds), version: "5.15.0.1", sensorOnly: true, scriptsDigest: "b" });
        assert.deepStrictEqual(diff.diffs, ["version", "sensorOnly", "scriptsDigest"]);
        assert.strictEqual(diff.changes, true);
    });

    it("reports zipSha256 when the local zip is missing", async () => {
        assert.deepStrictEqual((await provider.diff("D", olds, checked(olds))).diffs, ["zipSha256"]);
    });

    it("reports zipFileName for state from before zips were shared (the zip named after its entry)", async () => {
        const old = { ...olds, zipFileName: "D-5.14.2.21-0.zip" };
        assert.deepStrictEqual((await provider.diff("D", old, checked(old))).diffs, ["zipFileName"]);
    });

    it("ignores a change of agentVersion alone (latest → the same pinned version)", async () => {
        const file = path.join(ROOT, "build", `diff-${process.pid}.zip`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, "zip");
        const zipSha256 = crypto.createHash("sha256").update("zip").digest("hex");
        const o = { ...olds, zipPath: file, zipSha256, zipFileName: `debian-arm64-5.14.2.21-${zipSha256.slice(0, 12)}.zip` };
        const diff = await provider.diff("D", o, { ...checked(o), agentVersion: "5.14.2.21" });
        fs.rmSync(file);
        assert.deepStrictEqual(diff, { changes: false, diffs: [], replaces: [], deleteBeforeReplace: false });
    });
});
