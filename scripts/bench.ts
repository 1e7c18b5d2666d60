// `npm run bench`: what a user waits for, printed as a table and written to docs/benchmarks.md.
// Whole runs of the program (default mapping: 17 artifacts, 5 distinct installers) through the
// dynamic-provider host against the local Uptycs API, with the provider settings a user sets
// (`uptycs:apiKeyFile`): a cold `pulumi up`, a no-op `pulumi up` and a `pulumi preview`, at two
// installer sizes. Beside them, measured in the same run, the raw limit: the same bytes fetched
// concurrently over loopback TLS, written and hashed, nothing else. From the two sizes: the
// marginal throughput (seconds per extra byte) of the whole run against the raw limit's, and the
// fixed cost (the whole run with no installer bytes). Counters of the host's own disk reads and
// hashing give figures that do not depend on the machine's speed. Not a test: targets are
// printed beside the figures, nothing fails.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FakeUptycsApi } from "../test/support/fakeUptycsApi";
import { distinctZipBytes, takeCounters } from "../test/support/ioCounters";
import { ARTIFACT_TYPE, ProgramRun } from "../test/support/program";
import { ROOT, TestStack } from "../test/support/e2e";
import { ensureTestCertificate } from "../test/support/tls";
import { loadAsRuntime } from "../test/support/runtimeLoad";

const MB = 1024 * 1024;
const SIZES_MB = (process.env.BENCH_SIZES_MB ?? "32,256").split(",").map(Number);
/** Runs per figure; the median is reported (the fixed cost jitters by a few tenths of a second). */
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: [string, string, string][] = [];
const row = (what: string, figure: string, target = ""): void => {
    rows.push([what, figure, target]);
    console.log(`${what.padEnd(72)} ${figure.padEnd(30)} ${target}`);
};
const seconds = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e9;

// The raw limit's client, in a process of its own as the provider host is (the API server runs in
// this one): fetch every URL concurrently with node-fetch, hash and write each, print the seconds.
const RAW_CLIENT = `
const fetch = require("node-fetch");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { pipeline } = require("stream/promises");
const { urls, headers, dir } = JSON.parse(process.env.RAW_JOB);
const t = process.hrtime.bigint();
Promise.all(urls.map(async (url, i) => {
    const res = await fetch(url, { headers, compress: false });
    const hash = crypto.createHash("sha256");
    res.body.on("data", (c) => hash.update(c));
    await pipeline(res.body, fs.createWriteStream(path.join(dir, String(i))));
    hash.digest("hex");
})).then(() => console.log(Number(process.hrtime.bigint() - t) / 1e9));
`;

/** The same installer bytes over loopback TLS, concurrently, written and hashed, nothing else. */
async function rawLimit(api: FakeUptycsApi, run: ProgramRun, env: NodeJS.ProcessEnv): Promise<number> {
    const { spawn }: typeof import("child_process") = require("child_process");
    const jwt: typeof import("jsonwebtoken") = require("jsonwebtoken");
    const dir = fs.mkdtempSync(path.join(ROOT, "build", "bench-raw-"));
    const headers = {
        authorization: `Bearer ${jwt.sign({ iss: api.key, exp: Math.floor(Date.now() / 1000) + 300 }, api.secret, { algorithm: "HS256", noTimestamp: true })}`,
        date: new Date().toUTCString(),
    };
    const base = `https://localhost:${api.port}/public/api/customers/${api.customerId}`;
    const group = api.groups.find((g) => g.name === "assets")!.id;
    const urls = [...new Set(run.byType(ARTIFACT_TYPE).map((a) => {
        const e = a.state.entry as { upt_package: string; arch_type: string };
        return `${base}/packageDownloads/osquery/${e.upt_package}/${group}?osqVersion=${a.state.version}${e.arch_type === "arm64" ? "&gravitonPackage=true" : ""}&remediationPackage=true`;
    }))];
    const child = spawn(process.execPath, ["-e", RAW_CLIENT], { cwd: ROOT, env: { ...process.env, ...env, RAW_JOB: JSON.stringify({ urls, headers, dir }) }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    fs.rmSync(dir, { recursive: true, force: true });
    if (code !== 0) {
        throw new Error(`the raw-limit client failed (${code})`);
    }
    return Number(out.trim());
}

// The program as the Pulumi CLI's runtime starts it (its ts-node settings, see runtimeLoad.ts),
// run to its outputs under mocks that answer at once: what a `pulumi preview` waits for before
// the first provider call. Plain JS, so no test harness module is compiled on the way.
const PROGRAM_UNDER_MOCKS = `
const pulumi = require("@pulumi/pulumi");
exports.run = async () => {
    pulumi.runtime.setMocks({
        newResource: async (a) => {
            const e = a.inputs.entry;
            const artifact = e === undefined ? {} : {
                version: "5.14.2.21", zipFileName: e.upt_package + "-" + e.arch_type + "-5.14.2.21-0123456789ab.zip", zipPath: e.dir + ".zip",
                zipSha256: "ab".repeat(32), zipSize: 1, installerFileName: "i",
            };
            return { id: a.name + "-id", state: { ...a.inputs, ...artifact, bucket: a.name, arn: "arn:aws:x:::" + a.name, versionName: a.inputs.contentVersion } };
        },
        call: async () => ({ accountId: "123456789012", region: "us-east-1", name: "us-east-1", accounts: [] }),
    }, "uptycs-distributor", "bench", false);
    pulumi.runtime.setAllConfig({ "aws:region": "us-east-1", "uptycs:apiKeyFile": process.env.BENCH_KEY_FILE });
    const outputs = require(require("path").resolve("index.ts"));
    await new Promise((resolve) => pulumi.all(Object.values(outputs).filter(pulumi.Output.isInstance)).apply(resolve));
};
`;

/** Median seconds of {@link REPEAT} fresh program starts as the runtime does them, type-checked per `tsconfig`. */
async function runtimeStart(tsconfig: string, keyFile: string): Promise<{ seconds: number; transpileOnly: boolean }> {
    const dir = fs.mkdtempSync(path.join(ROOT, "build", "bench-runtime-"));
    const entry = path.join(dir, "program.js");
    fs.writeFileSync(entry, PROGRAM_UNDER_MOCKS);
    try {
        const runs = [];
        for (let i = 0; i < REPEAT; i++) {
            const r = await loadAsRuntime(ROOT, entry, { PULUMI_NODEJS_TSCONFIG_PATH: tsconfig, BENCH_KEY_FILE: keyFile });
            // The SDK may exit non-zero for promises still pending at exit (resources no output waits on); the run reported its outputs.
            if (r.seconds === undefined) {
                throw new Error(`the program did not start as the runtime starts it: ${r.output.slice(-2000)}`);
            }
            runs.push(r);
        }
        return { seconds: median(runs.map((r) => r.seconds!)), transpileOnly: runs[0].transpileOnly === true };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * What one region's S3 objects upload (each object's bytes once: the zips' files and the
 * manifest), and the state the dynamic resources leave: each one's inputs and outputs as JSON,
 * the serialized provider (`__provider`) included in both, as the engine stores them.
 */
async function uploadAndState(run: ProgramRun): Promise<{ objects: number; bytesPerRegion: number; stateBytes: number; providerBytes: number }> {
    const objects = run.byType("aws:s3/bucketObjectv2:BucketObjectv2");
    let bytes = 0;
    for (const o of objects) {
        const source = o.inputs.source as { path?: Promise<string> } | undefined;
        bytes += source?.path !== undefined ? fs.statSync(path.join(ROOT, await source.path)).size : Buffer.byteLength(String(o.inputs.content ?? ""));
    }
    const dynamic = run.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
    const stateBytes = dynamic.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r.inputs)) + Buffer.byteLength(JSON.stringify({ ...r.state, __provider: r.inputs.__provider })), 0);
    const artifact = run.byType(ARTIFACT_TYPE)[0];
    return { objects: objects.length, bytesPerRegion: bytes, stateBytes, providerBytes: Buffer.byteLength(String(artifact.inputs.__provider)) };
}

/** One size: cold up, raw limit, no-op up and preview, whole runs. */
interface SizeFigures {
    readonly mb: number;
    /** Installer bytes downloaded by the cold run. */
    readonly downloaded: number;
    /** Bytes of the distinct zips it wrote. */
    readonly zipped: number;
    readonly cold: number;
    /** CPU seconds of the provider host in the cold run. */
    readonly coldCpu: number;
    readonly raw: number;
    readonly noop: number;
    readonly preview: number;
    readonly io: { cold: { read: number; hashed: number }; noop: { read: number; hashed: number }; preview: { read: number; hashed: number } };
    readonly zips: string;
    readonly upload: Awaited<ReturnType<typeof uploadAndState>>;
}

/** Writes back dirty pages (`sync`), so a phase does not pay for the previous phase's writes. */
function flushDisk(): void {
    const { spawnSync }: typeof import("child_process") = require("child_process");
    spawnSync("sync");
}

/** One repetition at one size: a cold up in a fresh build folder, the raw limit, a no-op up, a preview. */
async function measureOnce(api: FakeUptycsApi, mb: number, rep: number, env: NodeJS.ProcessEnv, counters: string): Promise<SizeFigures> {
    const stack = TestStack.create(api, `size-${mb}-${rep}`, path.join("build", `bench-${mb}-${rep}`));
    try {
        const config = { requestTimeout: "60" };
        const before = api.downloads();
        takeCounters(counters);
        // Both the cold run and the raw limit start with no dirty pages of an earlier phase to write back.
        flushDisk();
        let t = process.hrtime.bigint();
        const run = await stack.up(config, [], env);
        const cold = seconds(t);
        const coldCpu = stack.lastHostCpuSeconds ?? NaN;
        const coldIo = takeCounters(counters);
        const downloaded = (api.downloads() - before) * api.installerSize;
        const zipped = distinctZipBytes(run);
        flushDisk();
        const raw = await rawLimit(api, run, env);
        t = process.hrtime.bigint();
        await stack.up(config, [], env);
        const noop = seconds(t);
        const noopIo = takeCounters(counters);
        t = process.hrtime.bigint();
        await stack.up(config, [], env, true);
        const preview = seconds(t);
        const previewIo = takeCounters(counters);
        const zips = JSON.stringify(run.byType(ARTIFACT_TYPE).map((a) => `${a.state.zipFileName}:${a.state.zipSha256}`).sort());
        return { mb, downloaded, zipped, cold, coldCpu, raw, noop, preview, io: { cold: coldIo, noop: noopIo, preview: previewIo }, zips, upload: await uploadAndState(run) };
    } finally {
        stack.remove();
    }
}

/** {@link REPEAT} repetitions at one size; times are medians, the rest from the last. */
async function measure(mb: number, env: NodeJS.ProcessEnv, counters: string): Promise<SizeFigures> {
    const api = await FakeUptycsApi.start({ installerSize: mb * MB });
    try {
        const reps: SizeFigures[] = [];
        for (let rep = 0; rep < REPEAT; rep++) {
            reps.push(await measureOnce(api, mb, rep, env, counters));
        }
        const m = (k: "cold" | "coldCpu" | "raw" | "noop" | "preview"): number => median(reps.map((r) => r[k]));
        return { ...reps[reps.length - 1], cold: m("cold"), coldCpu: m("coldCpu"), raw: m("raw"), noop: m("noop"), preview: m("preview"), zips: new Set(reps.map((r) => r.zips)).size === 1 ? reps[0].zips : "differ" };
    } finally {
        await api.stop();
    }
}

async function main(): Promise<void> {
    const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-bench-tls-"));
    const { certFile } = ensureTestCertificate(tlsDir);
    process.env.UPTYCS_TEST_TLS_DIR = tlsDir;
    const counters = path.join(tlsDir, "io-counters");
    const env = { NODE_EXTRA_CA_CERTS: certFile, UPTYCS_IO_COUNTERS: counters };
    console.log(`${"measure".padEnd(72)} ${"figure".padEnd(30)} target`);
    try {
        const figures: SizeFigures[] = [];
        for (const mb of SIZES_MB) {
            const f = await measure(mb, env, counters);
            figures.push(f);
            const dl = f.downloaded / MB;
            row(`${mb} MB installers (${dl.toFixed(0)} MB downloaded): cold up, whole run (median of ${REPEAT})`, `${f.cold.toFixed(2)} s`);
            row(`${mb} MB: cold up, provider host CPU (user + system)`, `${f.coldCpu.toFixed(2)} s`);
            row(`${mb} MB: raw limit (same bytes, loopback TLS, written + hashed)`, `${f.raw.toFixed(2)} s`);
            row(`${mb} MB: no-op up, whole run`, `${f.noop.toFixed(2)} s`);
            row(`${mb} MB: preview, whole run`, `${f.preview.toFixed(2)} s`);
            const budget = 1.05 * (f.downloaded + f.zipped);
            row(`${mb} MB: cold up, bytes read from disk / hashed (÷ downloaded + zipped)`, `${(f.io.cold.read / MB).toFixed(1)} / ${(f.io.cold.hashed / MB).toFixed(1)} MB (${(f.io.cold.hashed / (f.downloaded + f.zipped)).toFixed(3)})`, `hashed <= ${(budget / MB).toFixed(1)} MB (1.05)`);
            row(`${mb} MB: no-op up / preview, bytes read + hashed`, `${f.io.noop.read + f.io.noop.hashed} / ${f.io.preview.read + f.io.preview.hashed}`, "0 / 0");
            row(`${mb} MB: S3 objects and bytes uploaded per region (zips + manifest) ÷ distinct zip bytes`, `${f.upload.objects} objects, ${(f.upload.bytesPerRegion / MB).toFixed(1)} MB (${(f.upload.bytesPerRegion / f.zipped).toFixed(2)})`, "1.00");
            row(`${mb} MB: state of the dynamic resources (inputs + outputs); one serialized provider`, `${(f.upload.stateBytes / 1024).toFixed(0)} KB; ${(f.upload.providerBytes / 1024).toFixed(1)} KB`);
        }
        if (figures.length >= 2) {
            const [a, b] = [figures[0], figures[figures.length - 1]];
            const extra = b.downloaded - a.downloaded;
            const marginal = (b.cold - a.cold) / extra;
            const rawMarginal = (b.raw - a.raw) / extra;
            const fixed = a.cold - marginal * a.downloaded;
            row(`whole-run marginal throughput (${a.mb} → ${b.mb} MB)`, `${(1 / marginal / MB).toFixed(0)} MB/s`);
            row("raw limit marginal throughput", `${(1 / rawMarginal / MB).toFixed(0)} MB/s`);
            row("whole-run marginal throughput / raw limit's", (rawMarginal / marginal).toFixed(2), ">= 0.8");
            row("fixed cost of a cold up (extrapolated to 0 installer bytes)", `${fixed.toFixed(2)} s`);
            row("provider host CPU per GB downloaded (marginal)", `${((b.coldCpu - a.coldCpu) / (extra / 1024 ** 3)).toFixed(2)} s`);
            row("no-op up and preview (largest size) below the fixed cost", `${b.noop.toFixed(2)} s, ${b.preview.toFixed(2)} s`, `< ${fixed.toFixed(2)} s`);
        }
        // The program started as the Pulumi CLI starts it: type-checked (the tsconfig as it was
        // before noCheck) and as shipped.
        const keyFile = path.join(tlsDir, "bench-key.json");
        fs.writeFileSync(keyFile, JSON.stringify({ customerId: "c", key: "k", secret: "s", domain: "t", domainSuffix: ".uptycs.io" }));
        const checkedConfig = path.join(ROOT, "build", "tsconfig.bench-checked.json");
        fs.writeFileSync(checkedConfig, JSON.stringify({ extends: "../tsconfig.json", compilerOptions: { noCheck: false } }));
        try {
            const checked = await runtimeStart(path.relative(ROOT, checkedConfig), keyFile);
            const shipped = await runtimeStart("tsconfig.json", keyFile);
            row(`program start to outputs as the Pulumi runtime loads it, type-checked (median of ${REPEAT})`, `${checked.seconds.toFixed(2)} s`);
            row(`the same with the shipped tsconfig (ts-node transpile-only: ${shipped.transpileOnly})`, `${shipped.seconds.toFixed(2)} s (${(shipped.seconds / checked.seconds).toFixed(2)})`, "transpile-only");
        } finally {
            fs.rmSync(checkedConfig, { force: true });
        }

        // Determinism: every repetition built its zips afresh in another folder.
        row(`${REPEAT} cold builds per size: zips byte-identical`, figures.every((f) => f.zips !== "differ") ? "yes" : "NO", "yes");

        // Peak RSS of the provider host, small vs large installers.
        const rss: number[] = [];
        for (const mb of [10, 500]) {
            const big = await FakeUptycsApi.start({ installerSize: mb * MB });
            const stack = TestStack.create(big, `rss-${mb}`, path.join("build", `bench-rss-${mb}`));
            try {
                await stack.up({ requestTimeout: "60" }, [], env);
                rss.push(stack.lastHostPeakRss ?? NaN);
                row(`provider host peak RSS, ${mb} MB installers`, `${(rss[rss.length - 1] / MB).toFixed(0)} MB`);
            } finally {
                stack.remove();
                await big.stop();
            }
        }
        row("peak RSS growth from 10 MB to 500 MB installers", `${((rss[1] - rss[0]) / MB).toFixed(0)} MB`, "< 64 MB");
    } finally {
        fs.rmSync(tlsDir, { recursive: true, force: true });
    }
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, node ${process.version}`;
    const md = [
        "# Benchmarks",
        "",
        `Latest \`npm run bench\` (${new Date().toISOString().slice(0, 10)}), on ${machine}.`,
        "Whole runs of the program through the dynamic-provider host, against the local Uptycs API on 127.0.0.1 over TLS",
        "(generated installers; the default mapping: 17 entries, 5 distinct installers), with `uptycs:apiKeyFile`.",
        "The raw limit is measured in the same run. The Pulumi engine's own work (its gRPC, the AWS provider, uploading",
        "the zips to S3, hashing the zips' FileAssets) is not here: no engine can run on this machine.",
        "",
        "| measure | figure | target |",
        "|---|---|---|",
        ...rows.map((r) => `| ${r.join(" | ")} |`),
        "",
    ].join("\n");
    // The latest figures replace the file's first section only: the dated before/after sections
    // (`## ...`) below it are the record of past changes.
    const file = path.join(ROOT, "docs", "benchmarks.md");
    const previous = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    const history = previous.indexOf("\n## ");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, history < 0 ? md : `${md}${previous.slice(history)}`);
    console.log("\nwritten to docs/benchmarks.md");
}

main().catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
});
