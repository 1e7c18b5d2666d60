// The Uptycs API client under a server's pressure, against the local Uptycs API (TLS, JWT): a
// 429 or 503's Retry-After is waited out (both its forms), one beyond uptycs:requestTimeout fails
// at once naming the endpoint and the wait, and our own backoff is jittered.
import * as assert from "assert";
import { getOfferedVersions, listAssets, parseApiKey, RequestPolicy, retryAfterMs, uptycsGet } from "../../providers/uptycsApi";
import { FakeUptycsApi } from "../support/fakeUptycsApi";

const VERSIONS = /\/osqueryPackages/;

describe("providers/uptycsApi: Retry-After and backoff", function () {
    this.timeout(30_000);
    let api: FakeUptycsApi;
    const policy: RequestPolicy = { idleTimeoutMs: 5_000, retries: 3, minBackoffMs: 20 };
    const key = (): ReturnType<typeof parseApiKey> => parseApiKey(JSON.stringify(api.apiKey()), "test");
    /** Milliseconds between the first failed request to `path` and the request that followed it. */
    const gap = (path: string): number => {
        const hits = api.requests.filter((r) => r.path.startsWith(path));
        return hits[1].at - hits[0].at;
    };

    beforeEach(async () => {
        api = await FakeUptycsApi.start();
    });
    afterEach(async () => {
        await api.stop();
    });

    it("parses both forms of Retry-After", () => {
        const now = Date.parse("Mon, 30 Nov 2026 10:00:00 GMT");
        assert.strictEqual(retryAfterMs("2", now), 2000);
        assert.strictEqual(retryAfterMs(" 120 ", now), 120_000);
        assert.strictEqual(retryAfterMs("Mon, 30 Nov 2026 10:00:03 GMT", now), 3000);
        assert.strictEqual(retryAfterMs("Mon, 30 Nov 2026 09:59:00 GMT", now), 0, "a date past: no wait");
        assert.strictEqual(retryAfterMs(undefined, now), undefined);
        assert.strictEqual(retryAfterMs("soon", now), undefined);
        assert.strictEqual(retryAfterMs("-1", now), undefined);
    });

    it("a 429 with Retry-After: 2 is retried after about 2 s, not earlier", async () => {
        api.faults.push({ path: VERSIONS, times: 1, kind: "status", status: 429, retryAfter: "2" });
        assert.ok((await getOfferedVersions(key(), policy)).length > 0);
        const waited = gap("/osqueryPackages");
        assert.ok(waited >= 2000 && waited < 3000, `retried after ${waited} ms`);
    });

    it("a 503 with an HTTP-date Retry-After is retried at that date", async () => {
        // HTTP-dates have whole seconds: ask for the second after next.
        const target = Math.ceil((Date.now() + 1500) / 1000) * 1000;
        api.faults.push({ path: VERSIONS, times: 1, kind: "status", status: 503, retryAfter: new Date(target).toUTCString() });
        await getOfferedVersions(key(), policy);
        const retried = api.requests.filter((r) => r.path.startsWith("/osqueryPackages"))[1].at;
        assert.ok(retried >= target - 50 && retried < target + 1000, `retried ${retried - target} ms from the date asked`);
    });

    it("a Retry-After beyond uptycs:requestTimeout fails at once, naming the endpoint and the wait", async () => {
        api.faults.push({ path: VERSIONS, times: 1, kind: "status", status: 429, retryAfter: "3600" });
        const t = Date.now();
        await assert.rejects(getOfferedVersions(key(), policy), (e: Error) => {
            assert.match(e.message, /GET \/osqueryPackages on localhost:[0-9]+ answered HTTP 429 asking to retry after 3600 s \(Retry-After: 3600\), longer than uptycs:requestTimeout \(5 s\)/);
            return true;
        });
        assert.ok(Date.now() - t < 1000, "no wait");
        assert.strictEqual(api.count("/osqueryPackages"), 1, "no retry");
    });

    it("without Retry-After our jittered backoff applies; five parallel retries are not all in one 50 ms window", async () => {
        const jittered: RequestPolicy = { idleTimeoutMs: 5_000, retries: 2, minBackoffMs: 400 };
        api.faults.push({ path: VERSIONS, times: 5, kind: "status", status: 503 });
        await Promise.all(Array.from({ length: 5 }, () => uptycsGet(key(), "/osqueryPackages", jittered, async (r) => r.status)));
        const retries = api.requests.filter((r) => r.path.startsWith("/osqueryPackages")).slice(5).map((r) => r.at).sort((a, b) => a - b);
        assert.strictEqual(retries.length, 5);
        assert.ok(retries[4] - retries[0] > 50, `retries spread over ${retries[4] - retries[0]} ms`);
        const firsts = api.requests.filter((r) => r.path.startsWith("/osqueryPackages")).slice(0, 5).map((r) => r.at);
        assert.ok(retries.every((at) => at - Math.max(...firsts) >= 350), "none before the backoff");
    });

    describe("GET /assets, paged by limit and offset (an assumption: the reference documents no paging)", () => {
        const assets = (n: number): FakeUptycsApi["assets"] => Array.from({ length: n }, (_, i) => ({
            id: `a-${i}`, hostName: `h-${i}`, agentVersion: "5.14.2.21", protect: true, lastActivityAt: "2026-12-06T00:00:00Z",
        }));
        const ids = (items: Record<string, unknown>[]): unknown[] => items.map((i) => i.id);

        it("follows the offsets until a page shorter than the limit the server applied, mapping each item as its page arrives", async () => {
            api.assets = assets(25);
            api.assetPageCap = 10;
            const seen: number[] = [];
            const got = await listAssets(key(), policy, (item) => (item.id === "a-3" ? undefined : item), (n) => seen.push(n));
            assert.deepStrictEqual(ids(got), assets(25).map((a) => a.id).filter((id) => id !== "a-3"));
            assert.deepStrictEqual(seen, [10, 20, 25]);
            assert.deepStrictEqual(api.requests.map((r) => r.path), ["/assets?limit=1000&offset=0", "/assets?limit=1000&offset=10", "/assets?limit=1000&offset=20"]);
        });

        it("a full last page costs one more request, which comes back empty", async () => {
            api.assets = assets(20);
            api.assetPageCap = 10;
            const got = await listAssets(key(), policy, (item) => item);
            assert.strictEqual(got.length, 20);
            assert.strictEqual(api.count("/assets"), 3);
        });

        it("a server that ignores paging (no limit in the answer) sent the whole list: one request", async () => {
            api.faults.push({ path: /^\/assets/, times: 5, kind: "json", body: { items: assets(3).map((a) => ({ id: a.id, hostName: a.hostName })) } });
            const got = await listAssets(key(), policy, (item) => item, undefined, 2);
            assert.deepStrictEqual(ids(got), ["a-0", "a-1", "a-2"]);
            assert.strictEqual(api.count("/assets"), 1);
        });

        it("a server that ignores offset (the same page again) ends the list instead of looping", async () => {
            api.faults.push({ path: /^\/assets/, times: 5, kind: "json", body: { items: assets(2).map((a) => ({ id: a.id, hostName: a.hostName })), offset: 0, limit: 2 } });
            const got = await listAssets(key(), policy, (item) => item, undefined, 2);
            assert.deepStrictEqual(ids(got), ["a-0", "a-1"]);
            assert.strictEqual(api.count("/assets"), 2);
        });

        it("an answer without items fails, naming the page", async () => {
            api.faults.push({ path: /^\/assets/, times: 1, kind: "json", body: { error: "nope" } });
            await assert.rejects(listAssets(key(), policy, (item) => item), /GET \/assets\?limit=1000&offset=0 on localhost:\d+ did not return a JSON object with 'items'/);
        });
    });
});
