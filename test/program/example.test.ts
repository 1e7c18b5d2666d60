// The package as a component of another Pulumi program: examples/baseline, its own project
// (`security-baseline`), installed there with `npm ci` from this repository by a file: dependency,
// run under mocks with every dynamic resource through that project's dynamic-provider host, the
// Uptycs credentials in `uptycs:apiKey`. It must publish what this project's program publishes.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { FakeUptycsApi, TEST_SECRET } from "../support/fakeUptycsApi";
import { ARTIFACT_TYPE, ProgramRun, runProgram, unsecret } from "../support/program";
import { Props, ProviderHost } from "../support/providerHost";
import { ROOT, TestStack } from "../support/e2e";
import { skipUnlessReady } from "../support/tools";

const EXAMPLE = path.join(ROOT, "examples", "baseline");
const INSTALLED = path.join(EXAMPLE, "node_modules", "uptycs-distributor", "dist", "lib.js");
const manifestOf = (run: ProgramRun): string => run.byType("aws:s3/bucketObjectv2:BucketObjectv2").find((o) => o.name.endsWith("-manifest"))!.inputs.content as string;

describe("the package as a component of another program (examples/baseline)", function () {
    before(function () {
        skipUnlessReady(this, fs.existsSync(INSTALLED) ? undefined : "examples/baseline is not installed (npm run build && (cd examples/baseline && npm ci))");
    });

    it("publishes the same zips and manifest as this project's program, credentials in uptycs:apiKey", async () => {
        const api = await FakeUptycsApi.start();
        const reference = TestStack.create(api, "example-ref");
        const host = await ProviderHost.start(EXAMPLE, {}, "security-baseline");
        try {
            const ours = await reference.up();
            const settings = { "uptycs:apiKey": JSON.stringify(api.apiKey()), "uptycs:requestTimeout": "2", "uptycs:requestRetries": "2", "uptycs:requestBackoff": "0.02" };
            await host.configure({ ...settings, "aws:region": "us-east-1" });
            const theirs = await runProgram({
                program: { dir: EXAMPLE, project: "security-baseline" },
                config: { ...settings, team: "platform" },
                secretKeys: ["uptycs:apiKey"],
                artifacts: async (args) => {
                    const r = await host.up(`urn:pulumi:test::security-baseline::${args.type}::${args.name}`, args.inputs as Props);
                    return { id: r.id, state: r.outs };
                },
            });
            const sha = (run: ProgramRun): Record<string, unknown> => Object.fromEntries(run.byType(ARTIFACT_TYPE).map((a) => [a.name, a.state.zipSha256]));
            assert.strictEqual(Object.keys(sha(theirs)).length, 17);
            assert.deepStrictEqual(sha(theirs), sha(ours), "the same zips, byte for byte");
            assert.strictEqual(manifestOf(theirs), manifestOf(ours), "the same manifest");
            for (const a of theirs.byType(ARTIFACT_TYPE)) {
                assert.ok(fs.existsSync(path.join(EXAMPLE, a.state.zipPath as string)), "built in the consuming project's folder");
            }
            const marker = theirs.one("aws:ssm/parameter:Parameter");
            assert.strictEqual(unsecret(marker.inputs.value), `UptycsAgent@${theirs.outputs.uptycsVersion}`, "the baseline's own resource uses the component's outputs");
            assert.deepStrictEqual(theirs.one("aws:ssm/document:Document").inputs.tags, { team: "platform", baseline: "security" });
            assert.ok(!JSON.stringify(theirs.resources).includes(TEST_SECRET), "the secret is in no input");
            assert.ok(!host.stderr.includes(TEST_SECRET));
        } finally {
            await host.stop();
            reference.remove();
            fs.rmSync(path.join(EXAMPLE, "build"), { recursive: true, force: true });
            await api.stop();
        }
    });
});
