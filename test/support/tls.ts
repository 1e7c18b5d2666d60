// A throw-away certificate for the local Uptycs API (127.0.0.1 / localhost), made with openssl.
// Clients trust it through NODE_EXTRA_CA_CERTS, which node reads at start: see test/run.ts.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface TestCertificate {
    readonly certFile: string;
    readonly keyFile: string;
}

/** Writes `cert.pem` and `key.pem` into `dir` (once) and returns their paths. */
export function ensureTestCertificate(dir: string): TestCertificate {
    const certFile = path.join(dir, "cert.pem");
    const keyFile = path.join(dir, "key.pem");
    if (!fs.existsSync(certFile) || !fs.existsSync(keyFile)) {
        fs.mkdirSync(dir, { recursive: true });
        execFileSync("openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", keyFile, "-out", certFile,
        ], { stdio: "ignore" });
    }
    return { certFile, keyFile };
}

/** The certificate the test run made (test/run.ts exports its folder). */
export function testCertificate(): TestCertificate {
    const dir = process.env.UPTYCS_TEST_TLS_DIR;
    if (!dir) {
        throw new Error("UPTYCS_TEST_TLS_DIR is not set: run the tests with `npm test`");
    }
    return ensureTestCertificate(dir);
}
