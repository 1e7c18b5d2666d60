// The Uptycs API client under a server's pressure, against the local Uptycs API (TLS, JWT): a
// 429 or 503's Retry-After is waited out (both its forms), one beyond uptycs:requestTimeout fails
// at once naming the endpoint and the wait, and our own backoff is jittered.
import * as assert from "assert";
import { getOfferedVersions, parseApiKey, RequestPolicy, retryAfterMs, uptycsGet } from "../../providers/uptycsApi";
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
});
