// One pass over every installer byte: the bytes the provider host's own code reads from disk and
// hashes (its counters, UPTYCS_IO_COUNTERS) in a cold, a no-op and a preview run of the default
// mapping through the dynamic-provider host. A second pass (reading an installer back to zip it,
// hashing a zip or an installer again to decide "unchanged") shows up here as bytes.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FakeUptycsApi } from "../support/fakeUptycsApi";
import { distinctZipBytes as zipBytes, takeCounters } from "../support/ioCounters";
import { ROOT, TestStack } from "../support/e2e";

const MB = 1024 * 1024;

describe("one pass over every installer byte (counters of the provider host)", function () {
    let api: FakeUptycsApi;
    let stack: TestStack;
    let counters: string;
    let env: NodeJS.ProcessEnv;

    before(async () => {
        api = await FakeUptycsApi.start({ installerSize: 2 * MB });
        stack = TestStack.create(api, "io-passes");
        counters = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-io-")), "counters");
        env = { UPTYCS_IO_COUNTERS: counters };
    });
    after(async () => {
        stack.remove();
        fs.rmSync(path.dirname(counters), { recursive: true, force: true });
        await api.stop();
    });

    it("cold run: each downloaded byte hashed once, each zip byte hashed once as written; nothing read back", async () => {
        const run = await stack.up({}, [], env);
        const io = takeCounters(counters);
        const downloaded = api.downloads() * api.installerSize;
        assert.strictEqual(api.downloads(), 5);
        const zips = zipBytes(run);
        assert.ok(zips > downloaded, "the zips hold the installers");
        assert.strictEqual(io.read, 0, "no installer or zip byte read back from disk");
        assert.ok(io.hashed <= 1.05 * (downloaded + zips), `hashed ${io.hashed} bytes for ${downloaded} downloaded + ${zips} zipped`);
        assert.ok(io.hashed >= downloaded + zips, "the counters count (installers and zips are hashed once)");
    });

    it("no-op run and preview: no installer or zip byte read or hashed", async () => {
        await stack.up({}, [], env);
        assert.deepStrictEqual(stack.lastChanged, []);
        assert.deepStrictEqual(takeCounters(counters), { read: 0, hashed: 0 });
        await stack.up({}, [], env, true);
        assert.deepStrictEqual(stack.lastChanged, []);
        assert.deepStrictEqual(takeCounters(counters), { read: 0, hashed: 0 });
    });

    it("a zip touched since (another mtime): hashed once to decide, not rebuilt", async () => {
        const [first] = stack.state.values();
        const later = new Date(Date.now() + 5_000);
        fs.utimesSync(path.join(ROOT, first.outs.zipPath as string), later, later);
        await stack.up({}, [], env);
        assert.deepStrictEqual(stack.lastChanged, []);
        // Entries with the same content share the file (hard links): one hash serves them all.
        assert.deepStrictEqual(takeCounters(counters), { read: first.outs.zipSize, hashed: first.outs.zipSize });
    });
});
