// `npm run demo:coverage`: the coverage report with no AWS and no tenant. Starts the SSM stand-in
// and the bundled local Uptycs API on 127.0.0.1 with a fleet of 60 managed nodes and 60 assets
// (test/support/fleetFixture.ts: every status occurs), then runs `npm run coverage` against them
// as a user runs it against AWS (the real AWS SDK, through AWS_ENDPOINT_URL_SSM) and prints it.
// Arguments go to the report (`npm run demo:coverage -- --markdown`).
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FakeAws } from "../test/support/fakeAws";
import { FakeUptycsApi } from "../test/support/fakeUptycsApi";
import { FLEET_ACCOUNT, FLEET_OUTPUTS, populateFleet } from "../test/support/fleetFixture";
import { ensureTestCertificate } from "../test/support/tls";

async function main(): Promise<number> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-demo-coverage-"));
    const { certFile } = ensureTestCertificate(dir);
    process.env.UPTYCS_TEST_TLS_DIR = dir;
    const aws = await FakeAws.start();
    const uptycs = await FakeUptycsApi.start();
    try {
        aws.addUser("AKIADEMO", FLEET_ACCOUNT);
        populateFleet(aws, uptycs, 60);
        const outputs = path.join(dir, "outputs.json");
        fs.writeFileSync(outputs, JSON.stringify(FLEET_OUTPUTS));
        console.error(`SSM stand-in on ${aws.endpoint}, local Uptycs API on https://127.0.0.1:${uptycs.port}\n`);
        // Its own process, as npm starts it: the stand-ins answer from this one.
        const child = spawn(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(__dirname, "..", "coverage", "cli.ts"), "--outputs", outputs, ...process.argv.slice(2)], {
            stdio: "inherit",
            env: { ...process.env, ...aws.env(), AWS_ACCESS_KEY_ID: "AKIADEMO", AWS_SECRET_ACCESS_KEY: "demo", NODE_EXTRA_CA_CERTS: certFile, UPTYCS_API_KEY: JSON.stringify(uptycs.apiKey()) },
        });
        return await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)));
    } finally {
        await aws.stop();
        await uptycs.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

void main().then((code) => {
    process.exitCode = code;
});
