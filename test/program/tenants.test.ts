// One checkout, many stacks: the shared build folder must never hand one Uptycs tenant's
// installers (which embed its enrollment secret) to another, must rebuild when an input's bytes
// change under the same name, and must keep its files private. Each stack runs the program under
// mocks with its artifacts through the real dynamic-provider host, against its own local tenant.
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { FakeUptycsApi, FakeUptycsOptions } from "../support/fakeUptycsApi";
import { InstallerSpec } from "../support/fakeInstaller";
import { ARTIFACT_TYPE, named, ProgramRun } from "../support/program";
import { ROOT, TestStack } from "../support/e2e";
import { readZip } from "../support/zipReader";
import { installerCacheDir } from "../../providers/buildFolder";

const MAPPING = {
    linux: [{ upt_package: "centos", id: "rhel", dir: "UPT_PRO_REDHAT_x86_64", name: "redhat", major_version: "_any", minor_version: "", arch_type: "x86_64" }],
    windows: [{ upt_package: "windows", id: "windows", dir: "UPT_PRO_WINDOWS", name: "windows", major_version: "_any", minor_version: "", arch_type: "x86_64" }],
};
const SPECS: Record<string, InstallerSpec> = {
    UPT_PRO_REDHAT_x86_64: { uptPackage: "centos", arch: "x86_64", version: "5.14.2.21", protect: true },
    UPT_PRO_WINDOWS: { uptPackage: "windows", arch: "x86_64", version: "5.14.2.21", protect: true },
};
const sha256 = (b: Buffer): string => crypto.createHash("sha256").update(b).digest("hex");

const TENANT_A: FakeUptycsOptions = {
    customerId: "aaaaaaaa-0000-4000-8000-00000000000a", key: "KEY-A", secret: "secret-of-tenant-A-1f2e", installerTenantMark: "enroll-A;",
    groups: [{ id: "group-a", name: "assets" }],
};
const TENANT_B: FakeUptycsOptions = {
    customerId: "bbbbbbbb-0000-4000-8000-00000000000b", key: "KEY-B", secret: "secret-of-tenant-B-9c8d", installerTenantMark: "enroll-B;",
    groups: [{ id: "group-b", name: "assets" }],
};

/** The installer bytes inside each artifact's zip, by mapping dir. */
async function installersIn(run: ProgramRun): Promise<Record<string, Buffer>> {
    const out: Record<string, Buffer> = {};
    for (const a of run.byType(ARTIFACT_TYPE)) {
        const entries = await readZip(path.join(ROOT, a.state.zipPath as string));
        out[(a.inputs.entry as { dir: string }).dir] = entries.find((e) => e.name === a.state.installerFileName)!.data;
    }
    return out;
}

/** Asserts each zip holds exactly `api`'s installer, byte for byte. */
async function assertOwnInstallers(run: ProgramRun, api: FakeUptycsApi, tenant: string): Promise<void> {
    const installers = await installersIn(run);
    assert.deepStrictEqual(Object.keys(installers).sort(), Object.keys(SPECS).sort());
    for (const [name, bytes] of Object.entries(installers)) {
        assert.strictEqual(sha256(bytes), sha256(api.installerBytes(SPECS[name])), `${name} holds ${tenant}'s installer`);
    }
}

function modeOf(p: string): number {
    return fs.statSync(p).mode & 0o777;
}

describe("one checkout, many stacks and tenants: the shared build folder", function () {
    let apiA: FakeUptycsApi;
    let apiB: FakeUptycsApi;
    let stackA: TestStack;
    let stackB: TestStack;
    let mappingFile: string;
    let umask: number;

    before(async () => {
        // The provider host inherits this umask: files must still end up private.
        umask = process.umask(0o022);
        apiA = await FakeUptycsApi.start(TENANT_A);
        apiB = await FakeUptycsApi.start(TENANT_B);
        stackA = TestStack.create(apiA, "tenants");
        stackB = TestStack.share(apiB, stackA, "key-b.json");
        mappingFile = path.join(ROOT, stackA.buildDir, "mapping.json");
        fs.writeFileSync(mappingFile, JSON.stringify(MAPPING));
        for (const api of [apiA, apiB]) {
            assert.notStrictEqual(sha256(api.installerBytes(SPECS.UPT_PRO_WINDOWS)), sha256((api === apiA ? apiB : apiA).installerBytes(SPECS.UPT_PRO_WINDOWS)), "the tenants' installers differ");
        }
    });
    after(async () => {
        process.umask(umask);
        stackA.remove();
        await apiA.stop();
        await apiB.stop();
    });

    it("two tenants, two stacks of one checkout: each stack's zips hold exactly its own tenant's installers", async () => {
        const runA = await stackA.up({ mappingFile });
        assert.strictEqual(apiA.downloads(), 2);
        await assertOwnInstallers(runA, apiA, "tenant A");

        const runB = await stackB.up({ mappingFile });
        assert.strictEqual(apiB.downloads(), 2, "the second tenant's stack downloads from its own tenant");
        assert.strictEqual(apiA.downloads(), 2);
        await assertOwnInstallers(runB, apiB, "tenant B");
        assert.ok(apiB.requests.filter((r) => r.path.startsWith("/packageDownloads")).every((r) => r.path.includes("/group-b?")), "B's asset group");

        const zipsA = runA.byType(ARTIFACT_TYPE).map((a) => a.state.zipFileName);
        const zipsB = runB.byType(ARTIFACT_TYPE).map((a) => a.state.zipFileName);
        assert.deepStrictEqual(zipsA.filter((z) => zipsB.includes(z)), [], "no zip is shared across tenants");
        for (const a of runB.byType(ARTIFACT_TYPE)) {
            assert.strictEqual(a.state.tenant, `localhost:${apiB.port}/${TENANT_B.customerId}`);
            assert.strictEqual(a.state.assetGroupId, "group-b");
        }
    });

    it("reruns of either stack download nothing and change nothing", async () => {
        for (const [stack, api] of [[stackA, apiA], [stackB, apiB]] as const) {
            const before = api.downloads();
            const run = await stack.up({ mappingFile });
            assert.deepStrictEqual(stack.lastChanged, []);
            assert.strictEqual(api.downloads(), before);
            await assertOwnInstallers(run, api, "its tenant");
        }
    });

    it("a stack whose key file moves to another tenant rebuilds every zip with that tenant's installers", async () => {
        const moved = new TestStack(apiB, stackA.buildDir, stackB.keyFile);
        for (const [k, v] of stackA.state) {
            moved.state.set(k, v);
        }
        const run = await moved.up({ mappingFile });
        assert.deepStrictEqual(moved.lastChanged.sort(), Object.keys(SPECS).map(named).sort(), "the tenant is an input of every zip");
        await assertOwnInstallers(run, apiB, "tenant B");
    });

    it("another asset group of the same tenant is another installer: downloaded again, never taken from the cache", async () => {
        const before = apiB.downloads();
        apiB.groups = [{ id: "group-b2", name: "assets" }];
        try {
            await stackB.up({ mappingFile });
            assert.deepStrictEqual(stackB.lastChanged.sort(), Object.keys(SPECS).map(named).sort());
            assert.strictEqual(apiB.downloads(), before + 2);
            assert.ok(apiB.requests.filter((r) => r.path.startsWith("/packageDownloads")).slice(-2).every((r) => r.path.includes("/group-b2?")));
        } finally {
            apiB.groups = TENANT_B.groups!;
        }
        const run = await stackB.up({ mappingFile });
        assert.strictEqual(apiB.downloads(), before + 2, "back to the first group: its cache is reused");
        await assertOwnInstallers(run, apiB, "tenant B");
    });

    it("an installer cache left by an older version of the program (no tenant in its key) is never used", async () => {
        await TestStack.using(apiB, "tenants-old-cache", async (fresh) => {
            const old = path.join(ROOT, fresh.buildDir, "installers", "centos-x86_64-protect-5.14.2.21");
            fs.mkdirSync(old, { recursive: true });
            const foreign = apiA.installerBytes(SPECS.UPT_PRO_REDHAT_x86_64);
            const name = "assets-uptycs-protect-5.14.2.21-Uptycs.x86_64.rpm";
            fs.writeFileSync(path.join(old, name), foreign);
            fs.writeFileSync(path.join(old, "installer.json"), JSON.stringify({ fileName: name, size: foreign.length, sha256: sha256(foreign) }));
            const before = apiB.downloads();
            const run = await fresh.up({ mappingFile });
            assert.strictEqual(apiB.downloads(), before + 2);
            await assertOwnInstallers(run, apiB, "tenant B");
        });
    });

    it("a flipped byte in a cached installer is detected: downloaded again, never published", async () => {
        const rpm = stackB.state.get(named("UPT_PRO_REDHAT_x86_64"))!.outs;
        const dir = path.join(ROOT, stackB.buildDir, installerCacheDir({
            tenant: rpm.tenant as string, assetGroupId: rpm.assetGroupId as string, uptPackage: "centos", arch: "x86_64", sensorOnly: false, version: "5.14.2.21",
        }));
        // The cache keeps the installer inside a zip, at the offset installer.json records: flip its last byte.
        const meta = JSON.parse(fs.readFileSync(path.join(dir, "installer.json"), "utf8")) as { zipFile: string; dataOffset: number; size: number; fileName: string };
        assert.strictEqual(meta.fileName, rpm.installerFileName);
        const file = path.join(dir, meta.zipFile);
        const bytes = fs.readFileSync(file);
        bytes[meta.dataOffset + meta.size - 1] ^= 0xff;
        fs.writeFileSync(file, bytes);
        fs.rmSync(path.join(ROOT, rpm.zipPath as string)); // so the artifact is rebuilt from the cache
        const before = apiB.downloads();
        const run = await stackB.up({ mappingFile });
        assert.deepStrictEqual(stackB.lastChanged, [named("UPT_PRO_REDHAT_x86_64")]);
        assert.strictEqual(apiB.downloads(), before + 1, "the corrupted installer was downloaded again");
        await assertOwnInstallers(run, apiB, "tenant B");
    });

    it("a local installer replaced by another file of the same name rebuilds its zip with the new bytes", async () => {
        await TestStack.using(apiA, "tenants-local", async (local) => {
            const dir = path.join(ROOT, local.buildDir, "installers-local", "UPT_PRO_WINDOWS");
            fs.mkdirSync(dir, { recursive: true });
            const msi = path.join(dir, "assets-uptycs-protect-5.7.0.25-Uptycs-windows.msi");
            const config = { mappingFile, installerSource: "local", agentVersion: "5.7.0.25", installerDir: path.join(local.buildDir, "installers-local") };
            fs.mkdirSync(path.join(path.dirname(dir), "UPT_PRO_REDHAT_x86_64"));
            fs.writeFileSync(path.join(path.dirname(dir), "UPT_PRO_REDHAT_x86_64", "assets-uptycs-protect-5.7.0.25-Uptycs.x86_64.rpm"), "FAKE-UPTYCS-INSTALLER rpm\n");
            fs.writeFileSync(msi, "first build of the msi");
            const first = await local.up(config);
            fs.writeFileSync(msi, "second build of the msi, same name");
            const second = await local.up(config);
            assert.deepStrictEqual(local.lastChanged, [named("UPT_PRO_WINDOWS")]);
            const [a, b] = [first, second].map((r) => r.one(ARTIFACT_TYPE, named("UPT_PRO_WINDOWS")).state);
            assert.notStrictEqual(a.zipFileName, b.zipFileName);
            assert.strictEqual((await installersIn(second)).UPT_PRO_WINDOWS.toString(), "second build of the msi, same name");
        });
    });

    it("build folders are 0700 and files 0600 under umask 022, folders left 0755 by older versions tightened", async () => {
        const root = path.join(ROOT, stackA.buildDir);
        fs.chmodSync(root, 0o755);
        fs.chmodSync(path.join(root, "zips"), 0o755);
        for (const f of fs.readdirSync(path.join(root, "zips"))) {
            fs.chmodSync(path.join(root, "zips", f), 0o644);
        }
        await stackA.up({ mappingFile });
        assert.strictEqual(modeOf(root), 0o700);
        const built = (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => /^(installers|zips)\b/.test(f));
        assert.ok(built.some((f) => f.startsWith("zips") && f.endsWith(".zip")) && built.some((f) => f.endsWith("installer.zip")) && built.some((f) => f.endsWith("installer.json")));
        for (const f of built) {
            const p = path.join(root, f);
            assert.strictEqual(modeOf(p), fs.statSync(p).isDirectory() ? 0o700 : 0o600, `${f} is ${modeOf(p).toString(8)}`);
        }
    });
});

describe("two tenants that share an asset group id, in one checkout", function () {
    // Asset group ids are per tenant; nothing stops two tenants from having the same one. Only the
    // tenant in the installer cache key then keeps their installers apart without thrashing.
    const SHARED = [{ id: "group-shared", name: "assets" }];
    let apiA: FakeUptycsApi;
    let apiB: FakeUptycsApi;
    let stackA: TestStack;
    let mappingFile: string;

    before(async () => {
        apiA = await FakeUptycsApi.start({ ...TENANT_A, groups: SHARED });
        apiB = await FakeUptycsApi.start({ ...TENANT_B, groups: SHARED });
        stackA = TestStack.create(apiA, "shared-group");
        mappingFile = path.join(ROOT, stackA.buildDir, "mapping.json");
        fs.writeFileSync(mappingFile, JSON.stringify(MAPPING));
    });
    after(async () => {
        stackA.remove();
        await apiA.stop();
        await apiB.stop();
    });

    it("each tenant's zips hold its own installer bytes, and each tenant's second stack builds from the cache", async () => {
        await assertOwnInstallers(await stackA.up({ mappingFile }), apiA, "tenant A");
        await assertOwnInstallers(await TestStack.share(apiB, stackA, "key-b.json").up({ mappingFile }), apiB, "tenant B");
        assert.deepStrictEqual([apiA.downloads(), apiB.downloads()], [2, 2]);
        assert.ok([apiA, apiB].every((api) => api.requests.filter((r) => r.path.startsWith("/packageDownloads")).every((r) => r.path.includes("/group-shared?"))));
        // Another stack of each tenant in the same checkout: no state, so every zip is built again, from the cache.
        await assertOwnInstallers(await TestStack.share(apiA, stackA, "key-a2.json").up({ mappingFile }), apiA, "tenant A, second stack");
        await assertOwnInstallers(await TestStack.share(apiB, stackA, "key-b2.json").up({ mappingFile }), apiB, "tenant B, second stack");
        assert.deepStrictEqual([apiA.downloads(), apiB.downloads()], [2, 2], "cache hits: nothing downloaded again");
    });
});
