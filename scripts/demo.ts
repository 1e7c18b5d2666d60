// `npm run demo`: the main job on an embedded default, no AWS needed. Starts the bundled local
// Uptycs API (test/support/fakeUptycsApi.ts) on 127.0.0.1, runs the program under Pulumi's mocks
// with every UptycsAgentArtifact executed by Pulumi's real dynamic-provider host, and prints the
// platform → zip → sha256 table of the package it built in build/demo/.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FakeUptycsApi } from "../test/support/fakeUptycsApi";
import { ARTIFACT_TYPE } from "../test/support/program";
import { ROOT, TestStack } from "../test/support/e2e";
import { ensureTestCertificate } from "../test/support/tls";

async function main(): Promise<void> {
    const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-demo-tls-"));
    const { certFile } = ensureTestCertificate(tlsDir);
    process.env.UPTYCS_TEST_TLS_DIR = tlsDir;
    const api = await FakeUptycsApi.start({ installerSize: 4 * 1024 * 1024 });
    const buildDir = path.join("build", "demo");
    const stack = TestStack.create(api, "demo", buildDir);
    const started = Date.now();
    try {
        console.log(`local Uptycs API on https://127.0.0.1:${api.port}; building into ${buildDir}/ ...`);
        const run = await stack.up({}, [], { NODE_EXTRA_CA_CERTS: certFile });
        const rows = run.byType(ARTIFACT_TYPE).map((a) => {
            const e = a.state.entry as { name: string; arch_type: string; major_version: string };
            return [`${e.name}/${e.major_version}/${e.arch_type}`, a.state.zipFileName as string, a.state.zipSha256 as string];
        });
        rows.sort((a, b) => (a[0] < b[0] ? -1 : 1));
        const w = [0, 1].map((i) => Math.max(...rows.map((r) => r[i].length)));
        console.log(`\n${"platform/version/arch".padEnd(w[0])}  ${"zip".padEnd(w[1])}  sha256`);
        for (const r of rows) {
            console.log(`${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2]}`);
        }
        console.log(`\npackage ${run.outputs.packageName}, agent ${run.outputs.agentVersion}, document version ${run.outputs.documentVersion}`);
        console.log(`${api.downloads()} installer downloads, ${((Date.now() - started) / 1000).toFixed(1)} s; manifest: ${path.join(buildDir, "manifest.json")}`);
        fs.writeFileSync(path.join(ROOT, buildDir, "manifest.json"), run.one("aws:s3/bucketObjectv2:BucketObjectv2", "uptycs-manifest").inputs.content as string);
    } finally {
        await api.stop();
        fs.rmSync(tlsDir, { recursive: true, force: true });
    }
}

main().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
});
