// `npm test`: makes a throw-away TLS certificate for the local Uptycs API, then runs each suite
// in its own mocha process with NODE_EXTRA_CA_CERTS set, as node reads it only at start. The
// program suites get their own process: the Pulumi mock runtime is global state.
import { spawnSync } from "child_process";
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
let failed = 0;
for (const [name, globs] of Object.entries(SUITES)) {
    if (wanted.length > 0 && !wanted.includes(name)) {
        continue;
    }
    console.log(`\n=== ${name} suite`);
    const mocha = require.resolve("mocha/bin/mocha.js");
    const r = spawnSync(process.execPath, [mocha, "--require", "ts-node/register", "--timeout", "120000", "--extension", "ts", ...globs], { env, stdio: "inherit" });
    failed += r.status === 0 ? 0 : 1;
}
fs.rmSync(tlsDir, { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);
