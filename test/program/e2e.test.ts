// End to end: `pulumi up` of the whole program against the local Uptycs API, through the real
// dynamic-provider host, then the zips, manifest and document it produced.
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { DistributorManifest } from "../../platforms/manifest";
import { FakeUptycsApi, TEST_SECRET } from "../support/fakeUptycsApi";
import { installerHeader } from "../support/fakeInstaller";
import { ARTIFACT_TYPE, named, ProgramRun } from "../support/program";
import { ROOT, TestStack } from "../support/e2e";
import { readZip } from "../support/zipReader";

const sha256 = (b: Buffer): string => crypto.createHash("sha256").update(b).digest("hex");
const manifestOf = (run: ProgramRun): DistributorManifest => JSON.parse(run.one("aws:s3/bucketObjectv2:BucketObjectv2", "uptycs-manifest").inputs.content as string);
const zipNames = (run: ProgramRun): string[] => run.byType(ARTIFACT_TYPE).map((a) => a.state.zipFileName as string).sort();

describe("end to end: pulumi up against the local Uptycs API", function () {
    let api: FakeUptycsApi;
    let stack: TestStack;
    let first: ProgramRun;

    before(async () => {
        api = await FakeUptycsApi.start();
        stack = TestStack.create(api, "e2e");
        first = await stack.up();
    });
    after(async () => {
        stack.remove();
        await api.stop();
    });

    it("publishes the highest offered version, downloading each distinct installer once", () => {
        assert.strictEqual(first.outputs.agentVersion, "5.14.2.21");
        assert.strictEqual(stack.lastChanged.length, 17);
        // centos x86_64/arm64, debian x86_64/arm64, windows x86_64: one download each, shared by the entries.
        assert.strictEqual(api.downloads(), 5);
        assert.strictEqual(api.count("/osqueryPackages"), 1);
        assert.strictEqual(api.count("/objectGroups"), 1);
        const arm = api.requests.filter((r) => r.path.includes("gravitonPackage=true"));
        assert.strictEqual(arm.length, 2);
        assert.ok(api.requests.filter((r) => r.path.startsWith("/packageDownloads")).every((r) => r.path.includes("remediationPackage=true") && r.path.includes("osqVersion=5.14.2.21")));
    });

    it("writes each zip with exactly the installer and its scripts, matching state", async () => {
        for (const a of first.byType(ARTIFACT_TYPE)) {
            const s = a.state as Record<string, string | number>;
            const bytes = fs.readFileSync(path.join(ROOT, s.zipPath as string));
            assert.strictEqual(sha256(bytes), s.zipSha256);
            assert.strictEqual(bytes.length, s.zipSize);
            const entry = a.inputs.entry as { dir: string; upt_package: string; arch_type: string };
            assert.match(s.zipFileName as string, new RegExp(`^${entry.upt_package}-${entry.arch_type}-5\\.14\\.2\\.21-${(s.zipSha256 as string).slice(0, 12)}\\.zip$`));
            assert.strictEqual(path.basename(s.zipPath as string), `${entry.dir}-5.14.2.21-${(s.zipSha256 as string).slice(0, 12)}.zip`, "the entry's own file");
            const entries = await readZip(path.join(ROOT, s.zipPath as string));
            const windows = a.name === named("UPT_PRO_WINDOWS");
            const scripts = windows ? ["install.ps1", "uninstall.ps1", "update.ps1", "validate.ps1"] : ["install.sh", "uninstall.sh", "update.sh", "validate.sh"];
            assert.deepStrictEqual(entries.map((e) => e.name).sort(), [s.installerFileName as string, ...scripts].sort());
            const installer = entries.find((e) => e.name === s.installerFileName)!;
            assert.strictEqual(sha256(installer.data), s.installerSha256);
            assert.strictEqual(installer.data.length, s.installerSize);
            assert.strictEqual(installer.data.length, api.installerSize);
            const spec = { uptPackage: entry.upt_package, arch: entry.arch_type === "arm64" ? "arm64" : "x86_64", version: "5.14.2.21", protect: true } as const;
            assert.strictEqual(installer.data.toString("latin1").split("\n")[0], installerHeader(spec).trim(), `${a.name}: the installer the API served for it`);
            const install = entries.find((e) => e.name === scripts[0])!.data.toString();
            assert.ok(install.includes(`'${s.installerFileName}'`), `${a.name} install script names its installer`);
            assert.strictEqual(entries.find((e) => e.name === scripts[0])!.mode, 0o755);
        }
        const arm = first.byType(ARTIFACT_TYPE).find((a) => a.name === named("UPT_PRO_REDHAT_ARM64"))!;
        assert.strictEqual(arm.state.installerFileName, "assets-uptycs-protect-5.14.2.21-Uptycs.aarch64.rpm");
        const armZip = await readZip(path.join(ROOT, arm.state.zipPath as string));
        const armInstaller = armZip.find((e) => e.name === arm.state.installerFileName)!;
        assert.strictEqual(armInstaller.data.toString("latin1").split("\n")[0], installerHeader({ uptPackage: "centos", arch: "arm64", version: "5.14.2.21", protect: true }).trim());
    });

    it("entries with the same installer and scripts share one zip's bytes (hard links, one write)", () => {
        const rpm = first.byType(ARTIFACT_TYPE).filter((a) => (a.state.entry as { upt_package: string; arch_type: string }).upt_package === "centos"
            && (a.state.entry as { arch_type: string }).arch_type === "x86_64");
        assert.strictEqual(rpm.length, 9);
        assert.strictEqual(new Set(rpm.map((a) => a.state.zipSha256)).size, 1);
        assert.strictEqual(new Set(rpm.map((a) => fs.statSync(path.join(ROOT, a.state.zipPath as string)).ino)).size, 1);
        assert.strictEqual(new Set(first.byType(ARTIFACT_TYPE).map((a) => a.state.zipSha256)).size, 5);
    });

    it("publishes a manifest and document that agree with the zips: the 17 entries name 5 files, each uploaded once", async () => {
        const manifest = manifestOf(first);
        const doc = first.one("aws:ssm/document:Document");
        assert.strictEqual(doc.inputs.versionName, manifest.version);
        assert.strictEqual(first.outputs.documentVersion, manifest.version);
        assert.match(manifest.version, /^5\.14\.2\.21-[0-9a-f]{8}$/);
        const zipObjects = first.byType("aws:s3/bucketObjectv2:BucketObjectv2").filter((o) => o.name !== "uptycs-manifest");
        assert.strictEqual(zipObjects.length, 5);
        assert.strictEqual(Object.keys(manifest.files).length, 5);
        const uploaded = new Map<string, string>();
        for (const o of zipObjects) {
            uploaded.set(o.inputs.key as string, sha256(fs.readFileSync(path.join(ROOT, await (o.inputs.source as { path: Promise<string> }).path))));
        }
        const targets = Object.values(manifest.packages).flatMap((versions) => Object.values(versions).flatMap((archs) => Object.values(archs)));
        assert.strictEqual(targets.length, 17);
        for (const { file } of targets) {
            assert.strictEqual(uploaded.get(`uptycs/${file}`), manifest.files[file].checksums.sha256, `${file}: the uploaded bytes have the manifest's checksum`);
        }
        for (const a of first.byType(ARTIFACT_TYPE)) {
            assert.strictEqual(manifest.files[a.state.zipFileName as string].checksums.sha256, a.state.zipSha256);
        }
        assert.match(manifest.description, /Uptycs Protect/);
    });

    it("two packages of other names sharing one installer, built by one provider host: each zip's scripts name their own package", async () => {
        await TestStack.using(api, "two-names", async (s) => {
            const mapping = [{ upt_package: "centos", dir: "UPT_PRO_REDHAT_x86_64", name: "redhat", major_version: "_any", minor_version: "", arch_type: "x86_64" }];
            const run = await s.up({ "output-args:args": JSON.stringify({ mapping, packageName: "EdrFirst", buildDir: s.buildDir }), "output-args:as": "plain", "output-args:alsoAs": "EdrSecond" },
                [], {}, false, { dir: path.join(ROOT, "test", "fixtures", "output-args"), project: "output-args" });
            const artifacts = run.byType(ARTIFACT_TYPE);
            assert.deepStrictEqual(artifacts.map((a) => a.name).sort(), ["second-UPT_PRO_REDHAT_x86_64", "uptycs-UPT_PRO_REDHAT_x86_64"]);
            assert.strictEqual(new Set(artifacts.map((a) => a.state.installerSha256)).size, 1, "one installer");
            for (const a of artifacts) {
                const install = (await readZip(path.join(ROOT, a.state.zipPath as string))).find((e) => e.name === "install.sh")!.data.toString();
                assert.match(install, new RegExp(`^PKG_NAME='${a.inputs.packageName as string}'$`, "m"), a.name);
            }
            assert.notStrictEqual(artifacts[0].state.zipSha256, artifacts[1].state.zipSha256);
        });
    });

    it("zips are byte-identical when built again elsewhere, in another time zone", async () => {
        const other = TestStack.create(api, "e2e-tz");
        try {
            const run = await other.up({}, [], { TZ: "Pacific/Kiritimati" });
            const shas = (r: ProgramRun): string[] => r.byType(ARTIFACT_TYPE).map((a) => `${a.name}:${a.state.zipSha256}`).sort();
            assert.deepStrictEqual(shas(run), shas(first));
            assert.strictEqual(run.outputs.documentVersion, first.outputs.documentVersion);
        } finally {
            other.remove();
        }
    });

    it("a second run with the same config changes nothing and downloads nothing", async () => {
        const before = api.downloads();
        const second = await stack.up();
        assert.deepStrictEqual(stack.lastChanged, []);
        assert.strictEqual(api.downloads(), before);
        assert.deepStrictEqual(zipNames(second), zipNames(first));
        assert.strictEqual(second.outputs.documentVersion, first.outputs.documentVersion);
    });

    it("rebuilds a zip deleted or corrupted between runs, from the cached installer", async () => {
        const a = stack.state.get(named("UPT_PRO_SUSE_x86_64"))!.outs;
        const b = stack.state.get(named("UPT_PRO_WINDOWS"))!.outs;
        fs.rmSync(path.join(ROOT, a.zipPath as string));
        fs.appendFileSync(path.join(ROOT, b.zipPath as string), "corrupt");
        const before = api.downloads();
        const run = await stack.up();
        assert.deepStrictEqual(stack.lastChanged.sort(), [named("UPT_PRO_SUSE_x86_64"), named("UPT_PRO_WINDOWS")]);
        assert.strictEqual(api.downloads(), before);
        assert.strictEqual(sha256(fs.readFileSync(path.join(ROOT, a.zipPath as string))), a.zipSha256);
        assert.strictEqual(sha256(fs.readFileSync(path.join(ROOT, b.zipPath as string))), b.zipSha256);
        assert.strictEqual(run.outputs.documentVersion, first.outputs.documentVersion, "byte-identical rebuild");
    });

    it("a pinned version changes every artifact, zip name and the document version", async () => {
        const run = await stack.up({ agentVersion: "5.13.1.4" });
        assert.strictEqual(stack.lastChanged.length, 17);
        assert.strictEqual(run.outputs.agentVersion, "5.13.1.4");
        const names = zipNames(run);
        assert.ok(names.every((n) => n.includes("-5.13.1.4-")));
        assert.notStrictEqual(run.outputs.documentVersion, first.outputs.documentVersion);
        assert.match(run.outputs.documentVersion as string, /^5\.13\.1\.4-/);
    });

    it("a sensor-only run changes every artifact and the document version; no remediationPackage", async () => {
        const pinned = zipNames(await stack.up({ agentVersion: "5.13.1.4" }));
        const before = api.requests.length;
        const run = await stack.up({ agentVersion: "5.13.1.4", sensorOnly: "true" });
        assert.strictEqual(stack.lastChanged.length, 17);
        const names = zipNames(run);
        assert.ok(names.every((n) => !pinned.includes(n)));
        const downloads = api.requests.slice(before).filter((r) => r.path.startsWith("/packageDownloads"));
        assert.strictEqual(downloads.length, 5);
        assert.ok(downloads.every((r) => !r.path.includes("remediationPackage")));
        assert.match(manifestOf(run).description, /sensor-only/);
        assert.ok(run.byType(ARTIFACT_TYPE).every((a) => (a.state.installerFileName as string).startsWith("assets-osquery-")));
    });

    it("a second stack of the checkout publishing the same version and mode downloads nothing (shared build folder)", async () => {
        const other = new TestStack(api, stack.buildDir, stack.keyFile);
        const before = api.downloads();
        const run = await other.up({ agentVersion: "5.13.1.4", sensorOnly: "true", "aws:region": "eu-west-1" });
        assert.strictEqual(other.lastChanged.length, 17, "a new stack creates every artifact");
        assert.strictEqual(api.downloads(), before);
        assert.strictEqual(run.byType(ARTIFACT_TYPE).length, 17);
    });

    it("works with the key file JSON as a secret apiKey, which reaches only the provider's configure", async () => {
        const other = TestStack.create(api, "e2e-secret");
        try {
            const run = await other.up({ apiKey: JSON.stringify(api.apiKey()) }, ["apiKey"]);
            assert.strictEqual(run.outputs.agentVersion, "5.14.2.21");
            assert.ok(!JSON.stringify(run.resources).includes(TEST_SECRET));
            assert.ok(!JSON.stringify(run.outputs).includes(TEST_SECRET));
            assert.ok(!other.hostLog.includes(TEST_SECRET));
        } finally {
            other.remove();
        }
    });

    it("never lets the API secret into inputs, state, outputs or the host's log", () => {
        assert.ok(!JSON.stringify(first.resources).includes(TEST_SECRET));
        assert.ok(!JSON.stringify([...stack.state.values()]).includes(TEST_SECRET));
        assert.ok(!stack.hostLog.includes(TEST_SECRET));
    });
});
