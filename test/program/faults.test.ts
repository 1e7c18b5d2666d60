// Faults and bad input, one test each: the input or fault, the expected outcome (success after
// retry, or a clear error naming the input), and that nothing was published half-way: no
// manifest or document when an artifact failed, no partial file left in the build folder.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { FakeUptycsApi, Fault, TEST_SECRET } from "../support/fakeUptycsApi";
import { ARTIFACT_TYPE, named, ProgramFailure, ProgramRun } from "../support/program";
import { ROOT, TestStack } from "../support/e2e";
import { installerCacheDir } from "../../providers/buildFolder";

const MAPPING = {
    linux: [{ upt_package: "centos", id: "rhel", dir: "UPT_PRO_REDHAT_x86_64", name: "redhat", major_version: "_any", minor_version: "", arch_type: "x86_64" }],
    windows: [{ upt_package: "windows", id: "windows", dir: "UPT_PRO_WINDOWS", name: "windows", major_version: "_any", minor_version: "", arch_type: "x86_64" }],
};
const DOWNLOAD = /^\/packageDownloads\/osquery\/centos\//;

interface FaultCase {
    readonly title: string;
    readonly faults?: Fault[];
    readonly setup?: (api: FakeUptycsApi, stack: TestStack) => void;
    readonly config?: Record<string, string>;
    /** Error expected, or undefined for success. */
    readonly error?: RegExp;
    readonly check?: (api: FakeUptycsApi, run: ProgramRun, stack: TestStack) => void;
}

const status = (s: number, times: number, path: RegExp = DOWNLOAD): Fault => ({ kind: "status", status: s, times, path });

const CASES: FaultCase[] = [
    // key file
    { title: "key file is not JSON", setup: (_a, s) => s.writeKey("{ not json"), error: /apiKeyFile \(.*key\.json\) is not valid JSON/ },
    // The harness checks that no message, input, output or log holds TEST_SECRET.
    { title: "malformed key file holding the secret: the error does not quote it", setup: (_a, s) => s.writeKey(`{"customerId": "c", "secret": "${TEST_SECRET}", "key": `), error: /apiKeyFile \(.*key\.json\) is not valid JSON$/ },
    { title: "key file with the secret where the domain belongs: the error does not quote it", setup: (a, s) => s.writeKey({ ...a.apiKey(), domain: `${TEST_SECRET}/x` }), error: /must form a host name/ },
    ...["customerId", "key", "secret", "domain", "domainSuffix"].map((field): FaultCase => ({
        title: `key file lacks '${field}'`,
        setup: (a, s) => s.writeKey({ ...a.apiKey(), [field]: undefined }),
        error: new RegExp(`field '${field}' is missing`),
    })),
    { title: "key file with extra fields works", setup: (a, s) => s.writeKey({ ...a.apiKey(), region: "us", note: 1 }) },
    { title: "key file with a hostile domain", setup: (a, s) => s.writeKey({ ...a.apiKey(), domain: "evil.com/x?" }), error: /must form a host name/ },
    // authentication and tenant
    { title: "wrong secret: HTTP 401 names the tenant and the rejected credentials", setup: (a, s) => s.writeKey({ ...a.apiKey(), secret: "wrong-secret" }), error: /the Uptycs API at localhost:\d+ rejected the credentials \(HTTP 401\)/ },
    { title: "unknown customer: HTTP 404", setup: (a, s) => s.writeKey({ ...a.apiKey(), customerId: "00000000-0000-4000-8000-000000000000" }), error: /GET \/osqueryPackages on localhost:\d+ answered HTTP 404/ },
    { title: "every token is fresh (exp a few minutes ahead), so long runs never send an expired one", check: (a) => assert.ok(a.tokenLifetimes.length > 0 && a.tokenLifetimes.every((t) => t > 200 && t <= 300), String(a.tokenLifetimes)) },
    // asset group and versions
    { title: "no 'assets' object group", setup: (a) => { a.groups = [{ id: "x", name: "servers" }]; }, error: /has no object group named 'assets'/ },
    { title: "several object groups: the one named exactly 'assets' is used", setup: (a) => { a.groups = [{ id: "a1", name: "Assets" }, { id: "a2", name: "assets-old" }, { id: "a3", name: "assets" }]; }, check: (a) => assert.ok(a.requests.some((r) => r.path.includes("/a3?"))) },
    { title: "empty package list", setup: (a) => { a.versions = []; }, error: /offers no agent version \(GET \/osqueryPackages returned 0 items/ },
    { title: "unparsable versions only", setup: (a) => { a.versions = ["latest", "v5"]; }, error: /offers no agent version/ },
    { title: "/osqueryPackages without items", faults: [{ kind: "json", body: { data: [] }, times: 1, path: /^\/osqueryPackages/ }], error: /did not return a JSON object with 'items'/ },
    { title: "pinned version not offered", config: { agentVersion: "5.1.0.1" }, error: /agentVersion: the Uptycs tenant does not offer agent version 5\.1\.0\.1 \(offered: 5\.14\.2\.21, 5\.13\.1\.4, 5\.9\.0\.2\)/ },
    { title: "pinned version offered", config: { agentVersion: "5.9.0.2" }, check: (_a, run) => assert.strictEqual(run.outputs.agentVersion, "5.9.0.2") },
    // transient faults
    { title: "503 then success: retried", faults: [status(503, 2)], check: (a) => assert.strictEqual(a.requests.filter((r) => DOWNLOAD.test(r.path)).length, 3) },
    { title: "429 then success: retried", faults: [status(429, 1)] },
    { title: "503 on /osqueryPackages then success", faults: [status(503, 1, /^\/osqueryPackages/)] },
    { title: "503 forever: bounded retries, then a clear error", faults: [status(503, 99)], error: /answered HTTP 503 \(after 3 attempts\)/, check: (a) => assert.strictEqual(a.requests.filter((r) => DOWNLOAD.test(r.path)).length, 3) },
    { title: "HTTP 400 is not retried", faults: [status(400, 99)], error: /answered HTTP 400/, check: (a) => assert.strictEqual(a.requests.filter((r) => DOWNLOAD.test(r.path)).length, 1) },
    { title: "connection reset mid-body, then success", faults: [{ kind: "reset", times: 1, path: DOWNLOAD }] },
    { title: "connection reset mid-body forever", faults: [{ kind: "reset", times: 99, path: DOWNLOAD }], error: /after 3 attempts/ },
    { title: "body shorter than Content-Length, then success", faults: [{ kind: "short", times: 1, path: DOWNLOAD }] },
    { title: "body shorter than Content-Length forever (connection dropped)", faults: [{ kind: "short", times: 99, path: DOWNLOAD }], error: /the body ended after \d+ of 66536 bytes \(Content-Length\) \(after 3 attempts\)/ },
    { title: "body that ends cleanly short of its Content-Length: our message names the lengths", faults: [{ kind: "shortEnd", times: 99, path: DOWNLOAD }], error: /GET \/packageDownloads\/osquery\/centos\/.* the body ended after 32768 of 65536 bytes \(Content-Length\) \(after 3 attempts\)/ },
    {
        title: "a download that trickles for longer than the idle timeout in total, never pausing that long, succeeds on its first attempt",
        // 16 pieces 200 ms apart: 3 s in all, six times the 0.5 s idle timeout.
        faults: [{ kind: "trickle", chunks: 16, intervalMs: 200, times: 99, path: DOWNLOAD }],
        config: { requestTimeout: "0.5" },
        check: (a) => assert.strictEqual(a.requests.filter((r) => DOWNLOAD.test(r.path)).length, 1, "no retry: the idle timeout never fired"),
    },
    { title: "server stalls after the headers: idle timeout, then success", faults: [{ kind: "stall", times: 1, path: DOWNLOAD }], config: { requestTimeout: "0.5" } },
    { title: "server stalls forever: a timeout error", faults: [{ kind: "stall", times: 99, path: DOWNLOAD }], config: { requestTimeout: "0.3" }, error: /the server sent nothing for 300 ms/ },
    { title: "redirect to the same resource is followed", faults: [{ kind: "redirect", times: 1, path: DOWNLOAD }], check: (a) => assert.ok(a.requests.some((r) => r.status === 302)) },
    { title: "no Content-Length (chunked) works", setup: (a) => { a.contentLength = false; } },
    // Content-Disposition
    { title: "Content-Disposition missing", faults: [{ kind: "disposition", value: undefined, times: 1, path: DOWNLOAD }], error: /no Content-Disposition header naming the installer/ },
    { title: "Content-Disposition unquoted works", faults: [{ kind: "disposition", value: "attachment; filename=assets-uptycs-protect-5.14.2.21-Uptycs.x86_64.rpm", times: 1, path: DOWNLOAD }] },
    { title: "Content-Disposition with ../", faults: [{ kind: "disposition", value: 'attachment; filename="../../etc/cron.d/x.rpm"', times: 1, path: DOWNLOAD }], error: /installer file name '\.\.\/\.\.\/etc\/cron\.d\/x\.rpm' has characters other than/ },
    { title: "Content-Disposition with /", faults: [{ kind: "disposition", value: 'attachment; filename="/tmp/x.rpm"', times: 1, path: DOWNLOAD }], error: /installer file name '\/tmp\/x\.rpm'/ },
    { title: "Content-Disposition with an empty name", faults: [{ kind: "disposition", value: 'attachment; filename=""', times: 1, path: DOWNLOAD }], error: /installer file name '' is empty/ },
    { title: "Content-Disposition with an over-long name", faults: [{ kind: "disposition", value: `attachment; filename="${"a".repeat(300)}.rpm"`, times: 1, path: DOWNLOAD }], error: /is 304 characters long/ },
    { title: "Content-Disposition with the wrong extension", faults: [{ kind: "disposition", value: 'attachment; filename="installer.exe"', times: 1, path: DOWNLOAD }], error: /does not end in '\.rpm'/ },
    { title: "installer of 0 bytes", faults: [{ kind: "empty", times: 1, path: DOWNLOAD }], error: /is empty \(0 bytes\)/ },
    // installers placed by hand (installerSource local)
    ...([
        ["missing", [], /installerDir: the folder .*UPT_PRO_WINDOWS for 'UPT_PRO_WINDOWS' does not exist/],
        ["empty", ["UPT_PRO_WINDOWS/"], /must hold exactly one \.msi installer, found 0/],
        ["with two installers", ["UPT_PRO_WINDOWS/a-1.msi", "UPT_PRO_WINDOWS/b-2.msi"], /must hold exactly one \.msi installer, found 2 \(a-1\.msi, b-2\.msi\)/],
        ["with a hostile installer name", ["UPT_PRO_WINDOWS/x y.msi"], /the installer name 'x y\.msi' .* has characters other than/],
    ] as [string, string[], RegExp][]).map(([what, files, error]): FaultCase => ({
        title: `local installers: folder ${what}`,
        setup: (_a, s) => placeInstallers(s, ["UPT_PRO_REDHAT_x86_64/assets-uptycs-protect-5.7.0.25-Uptycs.x86_64.rpm", ...files]),
        config: { installerSource: "local", agentVersion: "5.7.0.25", installerDir: "" },
        error,
    })),
    {
        title: "local installers: one per folder, no API request, no credentials needed",
        setup: (a, s) => {
            placeInstallers(s, ["UPT_PRO_REDHAT_x86_64/assets-uptycs-protect-5.7.0.25-Uptycs.x86_64.rpm", "UPT_PRO_WINDOWS/assets-uptycs-protect-5.7.0.25-Uptycs-windows.msi"]);
            s.writeKey({ ...a.apiKey(), secret: "wrong" });
        },
        config: { installerSource: "local", agentVersion: "5.7.0.25", installerDir: "" },
        check: (a, run) => {
            assert.strictEqual(a.requests.length, 0);
            assert.strictEqual(run.outputs.agentVersion, "5.7.0.25");
            assert.ok(run.byType(ARTIFACT_TYPE).every((r) => (r.state.zipFileName as string).includes("-5.7.0.25-")));
        },
    },
    // build folder
    {
        title: "build folder not writable",
        setup: (_a, s) => { fs.mkdirSync(path.join(ROOT, s.buildDir), { recursive: true }); fs.writeFileSync(path.join(ROOT, s.buildDir, "installers"), "a file where a folder must be"); },
        error: /the build folder .*installers.* is not writable/,
    },
    {
        title: "killed mid-download earlier: stale part files removed, run converges",
        setup: (a, s) => {
            const dir = path.join(ROOT, s.buildDir, rpmCacheDir(a));
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, "download.part-999999"), "half an installer");
            fs.writeFileSync(path.join(dir, "assets-uptycs-protect-5.14.2.21-Uptycs.x86_64.rpm"), "half an installer, no installer.json");
        },
        check: (a, run, s) => {
            assert.ok(!s.files().some((f) => f.includes(".part-")), s.files().join(", "));
            assert.strictEqual(a.downloads(), 2);
            const rpm = run.byType(ARTIFACT_TYPE).find((r) => r.name === named("UPT_PRO_REDHAT_x86_64"))!;
            assert.strictEqual(rpm.state.installerSize, a.installerSize);
        },
    },
];

/** The cache folder of the x86_64 RPM installer of `api`'s tenant (relative to the build folder). */
function rpmCacheDir(api: FakeUptycsApi): string {
    return installerCacheDir({
        tenant: `localhost:${api.port}/${api.customerId}`, assetGroupId: api.groups.find((g) => g.name === "assets")!.id,
        uptPackage: "centos", arch: "x86_64", sensorOnly: false, version: "5.14.2.21",
    });
}

/** Writes the given installer files (`<dir>/<name>`, or `<dir>/` for an empty folder) under `<buildDir>/installers-local`. */
function placeInstallers(stack: TestStack, files: string[]): void {
    for (const f of files) {
        const p = path.join(ROOT, stack.buildDir, "installers-local", f);
        fs.mkdirSync(f.endsWith("/") ? p : path.dirname(p), { recursive: true });
        if (!f.endsWith("/")) {
            fs.writeFileSync(p, `FAKE-UPTYCS-INSTALLER name=uptycs-protect version=5.7.0.25 release=1\n${f}`);
        }
    }
}

describe("faults and bad input", function () {
    for (const c of CASES) {
        it(c.title, async () => {
            const api = await FakeUptycsApi.start({ installerSize: 64 * 1024 });
            const stack = TestStack.create(api, "faults");
            try {
                const mappingFile = path.join(ROOT, stack.buildDir, "mapping.json");
                fs.writeFileSync(mappingFile, JSON.stringify(MAPPING));
                api.faults.push(...(c.faults ?? []));
                c.setup?.(api, stack);
                const config: Record<string, string> = { mappingFile, ...c.config };
                if (config.installerDir === "") {
                    config.installerDir = path.join(stack.buildDir, "installers-local");
                }
                const run = stack.up(config);
                if (c.error === undefined) {
                    const r = await run;
                    assert.strictEqual(r.byType(ARTIFACT_TYPE).length, 2);
                    assert.ok(r.outputs.documentVersion);
                    assert.ok(!JSON.stringify([r.resources, r.outputs]).includes(TEST_SECRET), "a registered input or output holds the secret");
                    c.check?.(api, r, stack);
                } else {
                    let error: Error = new Error("no error");
                    await assert.rejects(run, (e: Error) => {
                        error = e;
                        return true;
                    });
                    assert.match(error.message, c.error);
                    assert.ok(!error.message.includes(TEST_SECRET), "the error holds the secret");
                    // Nothing published half-way: no document, no manifest, no partial file.
                    const registered = error instanceof ProgramFailure ? error.resources : [];
                    assert.ok(!JSON.stringify(registered).includes(TEST_SECRET), "a registered input or output holds the secret");
                    assert.deepStrictEqual(registered.filter((r) => r.type === "aws:ssm/document:Document" || r.name.endsWith("-manifest")), []);
                    assert.ok(!stack.files().some((f) => f.includes(".part-")), stack.files().join(", "));
                }
                assert.ok(!stack.hostLog.includes(TEST_SECRET), "the host's log holds the secret");
            } finally {
                stack.remove();
                await api.stop();
            }
        });
    }

    it("provider host killed (SIGKILL) mid-download, then run again: converges, the dead process's part file is never used", async () => {
        const api = await FakeUptycsApi.start({ installerSize: 512 * 1024 });
        const stack = TestStack.create(api, "killed");
        try {
            const mappingFile = path.join(ROOT, stack.buildDir, "mapping.json");
            fs.writeFileSync(mappingFile, JSON.stringify({ linux: MAPPING.linux, windows: [] }));
            api.faults.push({ kind: "halt", times: 1, path: DOWNLOAD });
            const config = { mappingFile, requestTimeout: "60" };
            // The first `up` hangs in the download; kill its host the way a dying CI runner would.
            const first = stack.up(config);
            const installers = path.join(ROOT, stack.buildDir, rpmCacheDir(api));
            const deadline = Date.now() + 20_000;
            while (!(fs.existsSync(installers) && fs.readdirSync(installers).some((f) => f.includes(".part-") && fs.statSync(path.join(installers, f)).size > 0))) {
                assert.ok(Date.now() < deadline, "the download never started");
                await new Promise((r) => setTimeout(r, 50));
            }
            const part = fs.readdirSync(installers).find((f) => f.includes(".part-"))!;
            stack.killHost();
            await assert.rejects(first);
            assert.ok(fs.existsSync(path.join(installers, part)), "the killed process left its part file");
            assert.ok(!fs.existsSync(path.join(installers, "installer.json")));

            const run = await stack.up(config);
            const rpm = run.byType(ARTIFACT_TYPE)[0];
            assert.strictEqual(rpm.state.installerSize, api.installerSize);
            assert.ok(!fs.existsSync(path.join(installers, part)), "the dead process's part file was removed");
            assert.ok(!stack.files().some((f) => f.includes(".part-")));
        } finally {
            stack.remove();
            await api.stop();
        }
    });
});
