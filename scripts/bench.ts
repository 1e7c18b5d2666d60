// `npm run bench`: figures for the default mapping on the local Uptycs API (generated
// installers), printed as a table and written to docs/benchmarks.md. Not a test: no thresholds
// fail the run; the targets are printed beside the figures.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pipeline } from "stream/promises";
import { FakeUptycsApi } from "../test/support/fakeUptycsApi";
import { ARTIFACT_TYPE, ProgramRun } from "../test/support/program";
import { ROOT, TestStack } from "../test/support/e2e";
import { ensureTestCertificate } from "../test/support/tls";

const MB = 1024 * 1024;
const rows: [string, string, string][] = [];
const row = (what: string, figure: string, target = ""): void => {
    rows.push([what, figure, target]);
    console.log(`${what.padEnd(66)} ${figure.padEnd(26)} ${target}`);
};

/** A cold `up`: `seconds` is the whole run (program, closure serialization, host start), `buildSeconds` the artifacts' check/create phase. */
async function coldBuild(api: FakeUptycsApi, name: string, env: NodeJS.ProcessEnv): Promise<{ stack: TestStack; run: ProgramRun; seconds: number; buildSeconds: number }> {
    const stack = TestStack.create(api, name, path.join("build", `bench-${name}`));
    const t = process.hrtime.bigint();
    const run = await stack.up({ requestTimeout: "60" }, [], env);
    return { stack, run, seconds: Number(process.hrtime.bigint() - t) / 1e9, buildSeconds: stack.lastArtifactSeconds };
}

/** The same installer bytes over loopback, written and hashed, nothing else: the limit. */
async function rawLimit(api: FakeUptycsApi, run: ProgramRun): Promise<number> {
    const fetch: typeof import("node-fetch").default = require("node-fetch");
    const jwt: typeof import("jsonwebtoken") = require("jsonwebtoken");
    const dir = fs.mkdtempSync(path.join(ROOT, "build", "bench-raw-"));
    const groups = await (await fetch(`https://localhost:${api.port}/public/api/customers/${api.customerId}/objectGroups`, { headers: headers() })).json() as { items: { id: string; name: string }[] };
    const group = groups.items.find((g) => g.name === "assets")!.id;
    const targets = new Set(run.byType(ARTIFACT_TYPE).map((a) => {
        const e = a.state.entry as { upt_package: string; arch_type: string };
        return `${e.upt_package}/${group}?osqVersion=${a.state.version}${e.arch_type === "arm64" ? "&gravitonPackage=true" : ""}&remediationPackage=true`;
    }));
    function headers(): Record<string, string> {
        return { authorization: `Bearer ${jwt.sign({ iss: api.key, exp: Math.floor(Date.now() / 1000) + 300 }, api.secret, { algorithm: "HS256", noTimestamp: true })}`, date: new Date().toUTCString() };
    }
    const t = process.hrtime.bigint();
    await Promise.all([...targets].map(async (target, i) => {
        const res = await fetch(`https://localhost:${api.port}/public/api/customers/${api.customerId}/packageDownloads/osquery/${target}`, { headers: headers(), compress: false });
        const hash = crypto.createHash("sha256");
        await pipeline(res.body, async function* (src: AsyncIterable<Buffer | string>) {
            for await (const c of src) {
                hash.update(c);
                yield c;
            }
        }, fs.createWriteStream(path.join(dir, String(i))));
        hash.digest("hex");
    }));
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    fs.rmSync(dir, { recursive: true, force: true });
    return seconds;
}

async function main(): Promise<void> {
    const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-bench-tls-"));
    const { certFile } = ensureTestCertificate(tlsDir);
    process.env.UPTYCS_TEST_TLS_DIR = tlsDir;
    // The raw-limit fetches run in this process, which started without NODE_EXTRA_CA_CERTS.
    require("https").globalAgent.options.ca = [fs.readFileSync(certFile)];
    const env = { NODE_EXTRA_CA_CERTS: certFile };
    const sizeMb = Number(process.env.BENCH_INSTALLER_MB ?? 100);
    const stacks: TestStack[] = [];
    console.log(`${"measure".padEnd(66)} ${"figure".padEnd(26)} target`);
    try {
        // 1. cold build vs the raw limit
        const api = await FakeUptycsApi.start({ installerSize: sizeMb * MB });
        const cold = await coldBuild(api, "cold-a", env);
        stacks.push(cold.stack);
        const installers = api.downloads();
        const downloaded = installers * sizeMb;
        const raw = await rawLimit(api, cold.run);
        row(`cold up, 17 artifacts, ${installers} installers of ${sizeMb} MB: whole run`, `${cold.seconds.toFixed(2)} s, ${(downloaded / cold.seconds).toFixed(0)} MB/s`);
        row("cold up: artifact phase (check, download, hash, zip; concurrent)", `${cold.buildSeconds.toFixed(2)} s, ${(downloaded / cold.buildSeconds).toFixed(0)} MB/s`);
        row("raw limit: same bytes over loopback, written + hashed", `${raw.toFixed(2)} s, ${(downloaded / raw).toFixed(0)} MB/s`);
        row("artifact phase / raw limit (throughput ratio)", (raw / cold.buildSeconds).toFixed(2), ">= 0.5");
        row("whole run / raw limit (throughput ratio)", (raw / cold.seconds).toFixed(2));

        // 2. no-op run: check + diff only
        const before = api.requests.length;
        const t = process.hrtime.bigint();
        await cold.stack.up({ requestTimeout: "60" }, [], env);
        const noop = Number(process.hrtime.bigint() - t) / 1e9;
        const reqs = api.requests.slice(before);
        row("no-op up (check + diff of 17 artifacts): whole run", `${noop.toFixed(2)} s`);
        row("no-op up: artifact phase", `${cold.stack.lastArtifactSeconds.toFixed(2)} s`);
        row("no-op run: installer downloads / version lookups", `${reqs.filter((r) => r.path.startsWith("/packageDownloads")).length} / ${reqs.filter((r) => r.path.startsWith("/osqueryPackages")).length}`, "0 / <= 1");

        // 3. determinism: a second cold build in another folder
        const again = await coldBuild(api, "cold-b", env);
        stacks.push(again.stack);
        const zipsOf = (run: ProgramRun): string[] => run.byType(ARTIFACT_TYPE).map((a) => `${a.state.zipFileName}:${a.state.zipSha256}`).sort();
        const manifestOf = (run: ProgramRun): string => run.one("aws:s3/bucketObjectv2:BucketObjectv2", "uptycs-manifest").inputs.content as string;
        const same = JSON.stringify(zipsOf(cold.run)) === JSON.stringify(zipsOf(again.run)) && manifestOf(cold.run) === manifestOf(again.run);
        row("two cold builds: zips and manifest byte-identical", same ? "yes" : "NO", "yes");
        await api.stop();

        // 4. peak RSS of the provider host, small vs large installers
        const rss: number[] = [];
        for (const mb of [10, 500]) {
            const big = await FakeUptycsApi.start({ installerSize: mb * MB });
            const r = await coldBuild(big, `rss-${mb}`, env);
            stacks.push(r.stack);
            rss.push(r.stack.lastHostPeakRss ?? NaN);
            row(`provider host peak RSS, ${mb} MB installers`, `${(rss[rss.length - 1] / MB).toFixed(0)} MB`);
            r.stack.remove();
            await big.stop();
        }
        row("peak RSS growth from 10 MB to 500 MB installers", `${((rss[1] - rss[0]) / MB).toFixed(0)} MB`, "< 64 MB");
    } finally {
        stacks.forEach((s) => s.remove());
        fs.rmSync(tlsDir, { recursive: true, force: true });
    }
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, node ${process.version}`;
    const md = [
        "# Benchmarks",
        "",
        `Latest \`npm run bench\` (${new Date().toISOString().slice(0, 10)}), on ${machine}.`,
        "Local Uptycs API on 127.0.0.1 over TLS with generated installers; the default mapping (17 entries, 5 distinct installers).",
        "",
        "| measure | figure | target |",
        "|---|---|---|",
        ...rows.map((r) => `| ${r.join(" | ")} |`),
        "",
    ].join("\n");
    fs.mkdirSync(path.join(ROOT, "docs"), { recursive: true });
    fs.writeFileSync(path.join(ROOT, "docs", "benchmarks.md"), md);
    console.log("\nwritten to docs/benchmarks.md");
}

main().catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
});
