// `npm test`: makes a throw-away TLS certificate for the local Uptycs API, then runs each suite
// in its own mocha process with NODE_EXTRA_CA_CERTS set, as node reads it only at start (the
// Windows suite in Pester). The
// program suites get their own processes (the Pulumi mock runtime is global state), run side by
// side, one per core: they spend their time in ts-node, closure serialization and child processes.
//
// Arguments: suite names to run some of them, or test files to run just those (one process);
// `--` options go to mocha (e.g. --grep=<pattern>).
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureTestCertificate } from "./support/tls";
import { renderWindowsPackages } from "./windows/render";
import { pesterModule, pwshPath, windowsToolsProblem } from "./windows/tools";

/**
 * The end-to-end files that drive the provider host (the rest of test/program is mocks only, but
 * for the Distributor-agent simulation, a suite of its own).
 */
const HOST_SUITES = {
    host: ["e2e", "example", "library"],
    "host-faults": ["faults", "tenants", "regionsHost", "artifactHost", "packageVersionsHost", "stagedRollout", "ioPasses", "plugin"],
};
const HOST_FILES = [...Object.values(HOST_SUITES).flat(), "distributorAgent"].map((f) => `test/program/${f}.test.ts`);
const MOCK_FILES = fs.readdirSync(path.join(__dirname, "program")).map((f) => `test/program/${f}`).filter((f) => f.endsWith(".test.ts") && !HOST_FILES.includes(f));
/** The mock files of the second program process: about half the mock suite's time, so two cores share it. */
const MOCK_SECOND = ["rollout", "outputArgs", "stackFiles", "workflows"].map((f) => `test/program/${f}.test.ts`);

// Longest first: the workers take them in this order.
let suites: Record<string, string[]> = {
    // The real package managers first: they make their root file systems on a fresh machine.
    realtools: ["test/realtools/**/*.test.ts"],
    "host-faults": HOST_SUITES["host-faults"].map((f) => `test/program/${f}.test.ts`),
    simulation: ["test/program/distributorAgent.test.ts"],
    // Pester, not mocha: the PowerShell scripts on a simulated Windows host (test/windows).
    windows: [],
    program: MOCK_FILES.filter((f) => !MOCK_SECOND.includes(f)),
    "program-2": MOCK_SECOND,
    host: HOST_SUITES.host.map((f) => `test/program/${f}.test.ts`),
    unit: ["test/platforms/**/*.test.ts", "test/providers/**/*.test.ts"],
    coverage: ["test/coverage/**/*.test.ts"],
};

const args = process.argv.slice(2);
const files = args.filter((a) => a.endsWith(".ts"));
const mochaOptions = args.filter((a) => a.startsWith("--"));
const wanted = args.filter((a) => !a.endsWith(".ts") && !a.startsWith("--"));
if (files.length > 0) {
    suites = { files };
} else if (wanted.length > 0) {
    suites = Object.fromEntries(Object.entries(suites).filter(([name]) => wanted.includes(name)));
}

const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-test-tls-"));
const { certFile } = ensureTestCertificate(tlsDir);
const env = { ...process.env, NODE_EXTRA_CA_CERTS: certFile, UPTYCS_TEST_TLS_DIR: tlsDir, TS_NODE_TRANSPILE_ONLY: "true" };

interface SuiteResult {
    readonly passed: number;
    readonly failed: number;
    readonly skipped: number;
    readonly status: number;
}

/**
 * Runs one suite, printing its output when it ends (suites run side by side), and returns
 * mocha's passing/failing/pending counts. `--exit`: a handle a test leaks (a socket, a child)
 * must not hang CI after the results are in.
 */
function runSuite(name: string, globs: string[]): Promise<SuiteResult> {
    const mocha = require.resolve("mocha/bin/mocha.js");
    const child = spawn(process.execPath, [mocha, "--require", "ts-node/register", "--timeout", "120000", "--exit", "--extension", "ts", ...mochaOptions, ...globs], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { out += d.toString(); });
    return new Promise((resolve) => child.on("close", (code) => {
        process.stdout.write(`\n=== ${name} suite\n${out}`);
        resolve({
            passed: Number(/^\s*(\d+) passing/m.exec(out)?.[1] ?? 0),
            failed: Number(/^\s*(\d+) failing/m.exec(out)?.[1] ?? 0),
            skipped: Number(/^\s*(\d+) pending/m.exec(out)?.[1] ?? 0),
            status: code ?? 1,
        });
    }));
}

/**
 * The Windows suite: renders the Windows packages, then runs Pester on test/windows with pwsh.
 * Without PowerShell or Pester it is one skipped test naming the install commands (a failure
 * under CI=true, where .ci/run installs them).
 */
function runWindowsSuite(): Promise<SuiteResult> {
    const problem = windowsToolsProblem();
    if (problem !== undefined) {
        const ci = process.env.CI === "true";
        process.stdout.write(`\n=== windows suite\n${ci ? "failed" : "skipped"}: ${problem}${ci ? "; CI requires it" : ""}\n`);
        return Promise.resolve({ passed: 0, failed: ci ? 1 : 0, skipped: ci ? 0 : 1, status: ci ? 1 : 0 });
    }
    const packages = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-windows-packages-"));
    renderWindowsPackages(packages);
    const filter = mochaOptions.find((o) => o.startsWith("--grep="))?.slice("--grep=".length);
    const args = ["-NoProfile", "-NonInteractive", "-File", path.join(__dirname, "windows", "run-pester.ps1"), "-PesterModule", pesterModule()!, ...(filter === undefined ? [] : ["-FullNameFilter", `*${filter}*`])];
    const child = spawn(pwshPath()!, args, { env: { ...env, UPTYCS_WINDOWS_PACKAGES: packages, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { out += d.toString(); });
    return new Promise((resolve) => child.on("close", (code) => {
        fs.rmSync(packages, { recursive: true, force: true });
        process.stdout.write(`\n=== windows suite\n${out}`);
        const counts = /^windows: (\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(out);
        resolve({ passed: Number(counts?.[1] ?? 0), failed: Number(counts?.[2] ?? 0), skipped: Number(counts?.[3] ?? 0), status: code ?? 1 });
    }));
}

async function main(): Promise<void> {
    const queue = Object.entries(suites);
    const results: SuiteResult[] = [];
    const worker = async (): Promise<void> => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
            results.push(await (next[0] === "windows" ? runWindowsSuite() : runSuite(...next)));
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, os.cpus().length) }, worker));
    fs.rmSync(tlsDir, { recursive: true, force: true });
    const sum = (k: "passed" | "failed" | "skipped"): number => results.reduce((n, r) => n + r[k], 0);
    // A suite that crashed before reporting counts as a failure even with no failing test.
    const broken = results.filter((r) => r.status !== 0 && r.failed === 0).length;
    const failed = sum("failed") + broken;
    console.log(`\ntests: ${sum("passed")} passed, ${failed} failed${sum("skipped") > 0 ? `, ${sum("skipped")} skipped` : ""}`);
    process.exit(failed === 0 && sum("passed") > 0 ? 0 : 1);
}

void main();
