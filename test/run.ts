// `npm test`: makes a throw-away TLS certificate for the local Uptycs API, then runs each suite
// in its own mocha process with NODE_EXTRA_CA_CERTS set, as node reads it only at start. The
// program suites get their own process: the Pulumi mock runtime is global state.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureTestCertificate } from "./support/tls";

const SUITES: Record<string, string[]> = {
    unit: ["test/platforms/**/*.test.ts", "test/providers/**/*.test.ts"],
    program: ["test/program/**/*.test.ts"],
};

const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-test-tls-"));
const { certFile } = ensureTestCertificate(tlsDir);
const env = { ...process.env, NODE_EXTRA_CA_CERTS: certFile, UPTYCS_TEST_TLS_DIR: tlsDir, TS_NODE_TRANSPILE_ONLY: "true" };
const wanted = process.argv.slice(2);

/**
 * Runs one suite, echoing its output, and returns mocha's passing/failing counts. `--exit`: a
 * handle a test leaks (a socket, a child) must not hang CI after the results are in.
 */
function runSuite(globs: string[]): Promise<{ passed: number; failed: number; status: number }> {
    const mocha = require.resolve("mocha/bin/mocha.js");
    const child = spawn(process.execPath, [mocha, "--require", "ts-node/register", "--timeout", "120000", "--exit", "--extension", "ts", ...globs], { env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        process.stdout.write(d);
    });
    return new Promise((resolve) => child.on("close", (code) => resolve({
        passed: Number(/^\s*(\d+) passing/m.exec(out)?.[1] ?? 0),
        failed: Number(/^\s*(\d+) failing/m.exec(out)?.[1] ?? 0),
        status: code ?? 1,
    })));
}

async function main(): Promise<void> {
    let passed = 0;
    let failed = 0;
    let broken = false;
    for (const [name, globs] of Object.entries(SUITES)) {
        if (wanted.length > 0 && !wanted.includes(name)) {
            continue;
        }
        console.log(`\n=== ${name} suite`);
        const r = await runSuite(globs);
        passed += r.passed;
        failed += r.failed;
        // A suite that crashed before reporting counts as a failure even with no failing test.
        broken = broken || (r.status !== 0 && r.failed === 0);
    }
    fs.rmSync(tlsDir, { recursive: true, force: true });
    console.log(`\nmocha: ${passed} passed, ${failed + (broken ? 1 : 0)} failed`);
    process.exit(failed === 0 && !broken && passed > 0 ? 0 : 1);
}

void main();
