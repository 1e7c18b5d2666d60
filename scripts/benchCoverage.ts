// `npm run bench:coverage`: what a security team waits for when it asks "which hosts are
// unprotected": the whole `npm run coverage` (its own process, as npm starts it) against the SSM
// and Uptycs stand-ins, at two fleet sizes (a region of N managed nodes, N Uptycs assets), with its
// peak RSS. Beside it, measured in the same run, the raw limit: the same pages fetched one after
// the other by a bare client (no SDK, no matching), parsed and dropped. Written to the
// "Coverage report" section of docs/benchmarks.md. Not a test: targets are printed beside the
// figures, nothing fails.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FakeAws } from "../test/support/fakeAws";
import { FakeUptycsApi } from "../test/support/fakeUptycsApi";
import { FLEET_ACCOUNT, FLEET_ASSOCIATION, FLEET_OUTPUTS, FLEET_REGION, populateFleet } from "../test/support/fleetFixture";
import { ensureTestCertificate } from "../test/support/tls";

const ROOT = path.join(__dirname, "..");
const SIZES = (process.env.BENCH_FLEET_SIZES ?? "1000,10000").split(",").map(Number);
const SECTION = "## Coverage report at fleet scale";

/** Runs `node <args>` and returns its seconds, its peak RSS (bytes), its stdout. */
function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<{ seconds: number; maxRss: number; stdout: string; stderr: string }> {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
    return new Promise((resolve, reject) => child.on("close", (code) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const rss = /^maxrss (\d+)$/m.exec(stderr);
        if (code !== 0 || rss === null) {
            reject(new Error(`node ${args.join(" ")} exited ${code}: ${stderr.slice(-2000)}`));
            return;
        }
        resolve({ seconds, maxRss: Number(rss[1]) * 1024, stdout, stderr });
    }));
}

// The command as `npm run coverage` runs it (ts-node, transpile-only), reporting its peak RSS at exit.
const COVERAGE = `
process.on("exit", () => process.stderr.write("maxrss " + process.resourceUsage().maxRSS + "\\n"));
require("ts-node").register({ transpileOnly: true });
require("./coverage/cli.ts").main(JSON.parse(process.env.BENCH_ARGS), {
    stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env, now: () => Date.now(),
}).then((code) => { process.exitCode = code; });
`;

// The raw limit: the same list pages, one after the other, bare HTTP(S), parsed and dropped.
const RAW = `
process.on("exit", () => process.stderr.write("maxrss " + process.resourceUsage().maxRSS + "\\n"));
const http = require("http");
const https = require("https");
const jwt = require("jsonwebtoken");
const { ssm, uptycs } = JSON.parse(process.env.RAW_JOB);
const auth = "AWS4-HMAC-SHA256 Credential=AKIABENCH/20261206/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=0";
function post(action, body) {
    return new Promise((resolve, reject) => {
        const req = http.request(ssm + "/", { method: "POST", headers: { "x-amz-target": "AmazonSSM." + action, "content-type": "application/x-amz-json-1.1", authorization: auth } }, (res) => {
            let text = ""; res.on("data", (d) => { text += d; }); res.on("end", () => resolve(JSON.parse(text)));
        });
        req.on("error", reject); req.end(JSON.stringify(body));
    });
}
function get(path) {
    const token = jwt.sign({ iss: uptycs.key, exp: Math.floor(Date.now() / 1000) + 300 }, uptycs.secret, { algorithm: "HS256", noTimestamp: true });
    return new Promise((resolve, reject) => {
        https.get(uptycs.base + path, { headers: { authorization: "Bearer " + token, date: new Date().toUTCString() } }, (res) => {
            let text = ""; res.on("data", (d) => { text += d; }); res.on("end", () => resolve(JSON.parse(text)));
        }).on("error", reject);
    });
}
async function all(action, body, key) {
    let token; let n = 0;
    do { const page = await post(action, { ...body, NextToken: token }); n += page[key].length; token = page.NextToken; } while (token);
    return n;
}
(async () => {
    const a = (await post("ListAssociations", { AssociationFilterList: [{ key: "AssociationName", value: "${FLEET_ASSOCIATION}" }], MaxResults: 50 })).Associations[0];
    const e = (await post("DescribeAssociationExecutions", { AssociationId: a.AssociationId, MaxResults: 50 })).AssociationExecutions[0];
    await all("DescribeAssociationExecutionTargets", { AssociationId: a.AssociationId, ExecutionId: e.ExecutionId, MaxResults: 50 }, "AssociationExecutionTargets");
    await all("DescribeInstanceInformation", { Filters: [{ Key: "tag:uptycs-fleet", Values: ["yes"] }], MaxResults: 50 }, "InstanceInformationList");
    await all("DescribeInstanceInformation", { MaxResults: 50 }, "InstanceInformationList");
    await post("ListAssociations", { AssociationFilterList: [{ key: "Name", value: "AWS-GatherSoftwareInventory" }], MaxResults: 50 });
    await all("GetInventory", { Filters: [{ Key: "AWS:Application.Name", Values: ["uptycs", "Uptycs", "osquery", "Osquery"], Type: "BeginWith" }], ResultAttributes: [{ TypeName: "AWS:Application" }], MaxResults: 100 }, "Entities");
    await get("/objectGroups");
    for (let offset = 0; ; offset += 1000) { const page = await get("/assets?limit=1000&offset=" + offset); if (page.items.length < 1000) break; }
})();
`;

interface SizeFigures {
    readonly n: number;
    readonly seconds: number;
    readonly maxRss: number;
    readonly rawSeconds: number;
    readonly counts: Record<string, number>;
    readonly unmatched: number;
}

async function measure(n: number, certFile: string, dir: string): Promise<SizeFigures> {
    const aws = await FakeAws.start();
    const uptycs = await FakeUptycsApi.start();
    try {
        aws.addUser("AKIABENCH", FLEET_ACCOUNT);
        populateFleet(aws, uptycs, n);
        const outputs = path.join(dir, `outputs-${n}.json`);
        fs.writeFileSync(outputs, JSON.stringify(FLEET_OUTPUTS));
        const env = {
            ...process.env, ...aws.env(), AWS_ACCESS_KEY_ID: "AKIABENCH", AWS_SECRET_ACCESS_KEY: "bench", NODE_EXTRA_CA_CERTS: certFile,
            UPTYCS_API_KEY: JSON.stringify(uptycs.apiKey()), BENCH_ARGS: JSON.stringify(["--outputs", outputs, "--json"]),
        };
        const whole = await runNode(["-e", COVERAGE], env);
        const report = JSON.parse(whole.stdout) as { regions: Record<string, { counts: Record<string, number> }>; unmatchedAssets: unknown[] };
        const rawJob = { ssm: aws.endpoint, uptycs: { base: `https://localhost:${uptycs.port}/public/api/customers/${uptycs.customerId}`, key: uptycs.key, secret: uptycs.secret } };
        const raw = await runNode(["-e", RAW], { ...env, RAW_JOB: JSON.stringify(rawJob) });
        return { n, seconds: whole.seconds, maxRss: whole.maxRss, rawSeconds: raw.seconds, counts: report.regions[FLEET_REGION].counts, unmatched: report.unmatchedAssets.length };
    } finally {
        await aws.stop();
        await uptycs.stop();
    }
}

async function main(): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-bench-coverage-"));
    const { certFile } = ensureTestCertificate(dir);
    process.env.UPTYCS_TEST_TLS_DIR = dir;
    const rows: [string, string, string][] = [];
    const row = (what: string, figure: string, target = ""): void => {
        rows.push([what, figure, target]);
        console.log(`${what.padEnd(80)} ${figure.padEnd(24)} ${target}`);
    };
    const figures: SizeFigures[] = [];
    for (const n of SIZES) {
        const f = await measure(n, certFile, dir);
        figures.push(f);
        const c = f.counts;
        row(`${n} nodes, ${n} assets: npm run coverage, whole run (own process, ts-node start included)`, `${f.seconds.toFixed(2)} s`, n >= 10_000 ? "< 30 s" : "");
        row(`${n}: raw limit (the same pages, bare client, parsed and dropped)`, `${f.rawSeconds.toFixed(2)} s`);
        row(`${n}: whole run ÷ raw limit`, (f.seconds / f.rawSeconds).toFixed(2));
        row(`${n}: peak RSS of the command`, `${(f.maxRss / 1024 / 1024).toFixed(0)} MB`, n >= 10_000 ? "< 300 MB" : "");
        row(`${n}: in scope / current / other-version / silent / failed / no-agent / offline; unmatched assets`,
            `${c.inScope} / ${c.current} / ${c.otherVersion} / ${c.silent} / ${c.failed} / ${c.noAgent} / ${c.offline}; ${f.unmatched}`);
    }
    if (figures.length >= 2) {
        // From the two sizes: what each extra node costs beyond the fixed start (ts-node, the SDK), against the raw limit's.
        const [a, b] = [figures[0], figures[figures.length - 1]];
        const whole = (b.seconds - a.seconds) / (b.n - a.n);
        const raw = (b.rawSeconds - a.rawSeconds) / (b.n - a.n);
        row(`marginal cost per node and asset (${a.n} → ${b.n}): whole run; raw limit`, `${(whole * 1e6).toFixed(0)} µs; ${(raw * 1e6).toFixed(0)} µs`);
        row("marginal whole run ÷ raw limit", (whole / raw).toFixed(2));
        row(`fixed cost of a run (extrapolated to 0 nodes)`, `${(a.seconds - whole * a.n).toFixed(2)} s`);
    }
    const cpu = os.cpus();
    const md = [
        SECTION,
        "",
        `Latest \`npm run bench:coverage\` (${new Date().toISOString().slice(0, 10)}), on ${cpu.length} × ${cpu[0]?.model.trim()}, node ${process.version}.`,
        "`npm run coverage -- --json` in its own process against the SSM and Uptycs stand-ins on 127.0.0.1 (one region,",
        "a fleet association over every node, inventory gathered; assets with the fields of a real one, 1000 a page), and the",
        "raw limit measured in the same run. The stand-ins answer at once: against AWS and a tenant, network latency adds",
        "per page (SSM: 50 nodes a page; Uptycs: 1000 assets a page). The command reads the tenant and SSM side by side,",
        "the raw client one page after another: a marginal ratio under 1 is that overlap. The fixed cost is node, ts-node",
        "and the AWS SDK starting.",
        "",
        "| measure | figure | target |",
        "|---|---|---|",
        ...rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`),
        "",
    ].join("\n");
    const file = path.join(ROOT, "docs", "benchmarks.md");
    const previous = fs.readFileSync(file, "utf8");
    const at = previous.indexOf(SECTION);
    const next = at < 0 ? -1 : previous.indexOf("\n## ", at + SECTION.length);
    const updated = at < 0 ? `${previous.trimEnd()}\n\n${md}` : `${previous.slice(0, at)}${md}${next < 0 ? "" : previous.slice(next + 1)}`;
    fs.writeFileSync(file, updated);
    console.log("\nwritten to docs/benchmarks.md");
}

void main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
});
