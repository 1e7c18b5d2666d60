/**
 * A small client of the Uptycs API, as used to build Distributor packages.
 *
 * Contract (`../shared/reference/uptycs-api.md`, Uptycs API docs): base URL
 * `https://{domain}{domainSuffix}/public/api/customers/{customerId}`; every request carries
 * `Authorization: Bearer <HS256 JWT {iss: key, exp}>` signed with the key file's `secret` and a
 * `date` header. TLS is always verified. Node modules are required inside the functions: these
 * functions run inside the serialized dynamic provider, where only node_modules can be required.
 * No message, error or log line contains the secret.
 */
import type { Response } from "node-fetch";
import type { UptycsSettings } from "./artifactSettings";
import type { Arch } from "../platforms/distributor";
import { fileNameFromContentDisposition, installerNameProblem } from "../platforms/installer";
import type { UptPackage } from "../platforms/mapping";
import { offeredAgentVersions } from "../platforms/version";

/** The API key file downloaded from the Uptycs console. Other fields in the file are ignored. */
export interface UptycsApiKey {
    readonly customerId: string;
    readonly key: string;
    /** HMAC secret of the JWT. Sensitive. */
    readonly secret: string;
    /** Tenant host name, e.g. `mytenant`. */
    readonly domain: string;
    /** Appended to `domain`, e.g. `.uptycs.io` (or `:8443` for a local server). */
    readonly domainSuffix: string;
}

const API_KEY_FIELDS = ["customerId", "key", "secret", "domain", "domainSuffix"] as const;

/**
 * Parses the key file's JSON.
 * @param source names the file or config key in error messages (never the content: even the
 *   JSON parser's message is dropped, as it can quote the text, which holds the secret).
 * @throws Error naming `source` and the missing or mistyped field.
 */
export function parseApiKey(text: string, source: string): UptycsApiKey {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new Error(`${source} is not valid JSON`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new Error(`${source} must be a JSON object with ${API_KEY_FIELDS.join(", ")}`);
    }
    const record = parsed as Record<string, unknown>;
    for (const field of API_KEY_FIELDS) {
        const v = record[field];
        if (typeof v !== "string" || (field !== "domainSuffix" && v.length === 0)) {
            throw new Error(`${source}: field '${field}' is missing or not a non-empty string`);
        }
    }
    if (!/^[A-Za-z0-9.-]+$/.test(record.domain as string) || !/^[A-Za-z0-9.:-]*$/.test(record.domainSuffix as string)) {
        throw new Error(`${source}: 'domain' and 'domainSuffix' must form a host name (optionally ':port')`);
    }
    const [customerId, key, secret, domain, domainSuffix] = API_KEY_FIELDS.map((f) => record[f] as string);
    return { customerId, key, secret, domain, domainSuffix };
}

/**
 * The stack's key, as a dynamic provider's `configure` found it: the inline JSON, else the file.
 * @throws Error naming the config key: neither set, the file unreadable, or the JSON wrong.
 */
export async function apiKeyFromSettings(settings: Pick<UptycsSettings, "apiKey" | "apiKeyFile">): Promise<UptycsApiKey> {
    const fs: typeof import("fs") = require("fs");
    const { apiKey: inline, apiKeyFile: file } = settings;
    if (inline.value !== undefined) {
        return parseApiKey(inline.value, `config ${inline.key}`);
    }
    if (file.value === undefined) {
        throw new Error("no Uptycs credentials: set config uptycs:apiKeyFile (path to the key file) or uptycs:apiKey (its JSON, as a secret)");
    }
    let text: string;
    try {
        text = await fs.promises.readFile(file.value, "utf8");
    } catch (e) {
        throw new Error(`config ${file.key}: cannot read ${file.value} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    return parseApiKey(text, `config ${file.key} (${file.value})`);
}

/** The tenant's host, e.g. `mytenant.uptycs.io`; used in messages. */
export function tenantOf(apiKey: UptycsApiKey): string {
    return `${apiKey.domain}${apiKey.domainSuffix}`;
}

/**
 * Which tenant the key belongs to, `<host>/<customerId>`: what makes one tenant's installers
 * (which embed its enrollment secret) differ from another's. Not secret.
 */
export function tenantId(apiKey: UptycsApiKey): string {
    return `${tenantOf(apiKey)}/${apiKey.customerId}`;
}

/** How requests are timed and retried. */
export interface RequestPolicy {
    /** Milliseconds without any byte from the server before a request is aborted. Default 60000. */
    readonly idleTimeoutMs: number;
    /**
     * Retries after the first attempt on 5xx, 429 and network errors. Default 4. A 429 or 503's
     * `Retry-After` is waited out first; one longer than `idleTimeoutMs` fails at once.
     */
    readonly retries: number;
    /** First backoff in milliseconds, doubled per retry. Default 1000. */
    readonly minBackoffMs: number;
}

/** The production request policy. */
export const DEFAULT_REQUEST_POLICY: RequestPolicy = Object.freeze({ idleTimeoutMs: 60_000, retries: 4, minBackoffMs: 1_000 });

/** An HTTP answer that retrying cannot fix (4xx other than 429), or a broken contract. */
export interface UptycsApiError extends Error {
    readonly name: "UptycsApiError";
    /** The HTTP status, when the server answered. */
    readonly status?: number;
}

// A plain Error, not a subclass: the closure serializer rewrites classes into functions, and an
// Error subclass rewritten so loses its message.
function apiError(message: string, status?: number): UptycsApiError {
    return Object.assign(new Error(message), { name: "UptycsApiError" as const, status });
}

/**
 * The wait a 429 or 503 asks for in its `Retry-After` header (RFC 9110 §10.2.3), in
 * milliseconds: delta-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`, counted
 * from `now`; a date past gives 0). Undefined without the header or when it is neither form.
 */
export function retryAfterMs(header: string | null | undefined, now: number): number | undefined {
    const value = header?.trim();
    if (value === undefined || value === "") {
        return undefined;
    }
    if (/^[0-9]+$/.test(value)) {
        return Number(value) * 1000;
    }
    const date = Date.parse(value);
    return Number.isNaN(date) || !/[A-Za-z]{3},? /.test(value) ? undefined : Math.max(0, date - now);
}

/** True for errors retrying cannot fix. */
export function isUptycsApiError(e: unknown): e is UptycsApiError {
    return e instanceof Error && e.name === "UptycsApiError";
}

function bearerToken(apiKey: UptycsApiKey): string {
    const jwt: typeof import("jsonwebtoken") = require("jsonwebtoken");
    const exp = Math.floor(Date.now() / 1000) + 300;
    return jwt.sign({ iss: apiKey.key, exp }, apiKey.secret, { algorithm: "HS256", noTimestamp: true });
}

function redact(text: string, apiKey: UptycsApiKey): string {
    return text.split(apiKey.secret).join("<redacted>");
}

/**
 * Milliseconds a body may stay silent after its connection closed: all it will ever get is then
 * in memory, so a longer pause means it ended short.
 */
export const CLOSED_BODY_GRACE_MS = 1000;

/** What `consume` learns about the connection while it reads a body. */
export interface BodyReading {
    /** Resets the idle timer; call it per chunk read. */
    touch(): void;
    /** True once the server closed the connection; the body then ends where it is. */
    readonly closed: boolean;
}

/**
 * Sends one authenticated GET with retries and hands the 2xx response to `consume`, inside the
 * retry loop, so an error while reading the body (reset, stall, short body) is retried too.
 * node-fetch 2 never ends a body whose connection closed short of its Content-Length, so each
 * attempt watches its own connection: once it has closed, what was received is still read, and
 * a body that then stops for {@link CLOSED_BODY_GRACE_MS} is aborted; `reading.closed` tells
 * `consume` why. One connection per attempt (no keep-alive), so its close is this response's end.
 * Retries back off with jitter, so parallel downloads do not retry in step; a server's
 * Retry-After (429, 503) is waited out before that, unless it is longer than a request may idle
 * (`policy.idleTimeoutMs`): not worth holding the run for, it fails at once.
 * @throws UptycsApiError on 4xx (401/403: credentials rejected), or after the last retry.
 */
export async function uptycsGet<T>(
    apiKey: UptycsApiKey,
    path: string,
    policy: RequestPolicy,
    consume: (response: Response, reading: BodyReading) => Promise<T>,
): Promise<T> {
    const https: typeof import("https") = require("https");
    const fetch: typeof import("node-fetch").default = require("node-fetch");
    const pRetry: typeof import("p-retry") = require("p-retry");
    const url = `https://${tenantOf(apiKey)}/public/api/customers/${encodeURIComponent(apiKey.customerId)}${path}`;
    const what = `GET ${path} on ${tenantOf(apiKey)}`;
    const attempt = async (): Promise<T> => {
        const controller = new AbortController();
        let timer: NodeJS.Timeout | undefined;
        const reading = {
            closed: false,
            touch(): void {
                clearTimeout(timer);
                timer = setTimeout(() => controller.abort(), reading.closed ? Math.min(policy.idleTimeoutMs, CLOSED_BODY_GRACE_MS) : policy.idleTimeoutMs);
            },
        };
        reading.touch();
        const agent = new https.Agent({ keepAlive: false });
        const connect = agent.createConnection.bind(agent);
        agent.createConnection = (options, callback) => {
            const socket = connect(options, callback);
            socket?.once("close", () => {
                reading.closed = true;
                reading.touch();
            });
            return socket;
        };
        try {
            const response = await fetch(url, {
                headers: { authorization: `Bearer ${bearerToken(apiKey)}`, date: new Date().toUTCString(), accept: "*/*" },
                compress: false,
                signal: controller.signal,
                agent,
            }).catch((e: Error) => {
                throw new Error(`${what} failed: ${controller.signal.aborted ? `no answer within ${policy.idleTimeoutMs} ms` : e.message}`);
            });
            if (response.status === 401 || response.status === 403) {
                throw new pRetry.AbortError(apiError(
                    `the Uptycs API at ${tenantOf(apiKey)} rejected the credentials (HTTP ${response.status}) for ${what}: check the key file (config apiKey / apiKeyFile) and that its key is active`,
                    response.status));
            }
            if (response.status === 429 || response.status >= 500) {
                const asked = response.status === 429 || response.status === 503 ? retryAfterMs(response.headers.get("retry-after"), Date.now()) : undefined;
                if (asked !== undefined && asked > policy.idleTimeoutMs) {
                    throw new pRetry.AbortError(apiError(`${what} answered HTTP ${response.status} asking to retry after ${asked / 1000} s `
                        + `(Retry-After: ${response.headers.get("retry-after")}), longer than uptycs:requestTimeout (${policy.idleTimeoutMs / 1000} s): try again later`, response.status));
                }
                throw Object.assign(new Error(`${what} answered HTTP ${response.status}`), { retryAfterMs: asked });
            }
            if (response.status < 200 || response.status >= 300) {
                const body = redact((await response.text().catch(() => "")).slice(0, 200), apiKey);
                throw new pRetry.AbortError(apiError(`${what} answered HTTP ${response.status}: ${body}`, response.status));
            }
            return await consume(response, reading).catch((e: Error) => {
                if (isUptycsApiError(e)) {
                    throw new pRetry.AbortError(e);
                }
                throw new Error(controller.signal.aborted && !reading.closed ? `${what}: the server sent nothing for ${policy.idleTimeoutMs} ms` : e.message);
            });
        } finally {
            clearTimeout(timer);
            agent.destroy();
        }
    };
    try {
        return await pRetry(attempt, {
            retries: policy.retries, factor: 2, minTimeout: policy.minBackoffMs, randomize: true,
            onFailedAttempt: async (e) => {
                const asked = (e as Error & { retryAfterMs?: number }).retryAfterMs;
                if (asked !== undefined && e.retriesLeft > 0) {
                    await new Promise((resolve) => setTimeout(resolve, asked));
                }
            },
        });
    } catch (e) {
        if (isUptycsApiError(e)) {
            throw e;
        }
        throw apiError(`${redact((e as Error).message, apiKey)} (after ${policy.retries + 1} attempts)`);
    }
}

async function getItems(apiKey: UptycsApiKey, path: string, policy: RequestPolicy): Promise<Record<string, unknown>[]> {
    return uptycsGet(apiKey, path, policy, async (response) => {
        const body = (await response.json().catch(() => undefined)) as { items?: unknown } | undefined;
        if (!body || !Array.isArray(body.items)) {
            throw apiError(`GET ${path} on ${tenantOf(apiKey)} did not return a JSON object with 'items'`);
        }
        return body.items.filter((i): i is Record<string, unknown> => typeof i === "object" && i !== null);
    });
}

/** Assets asked for per `GET /assets` page: the `limit` Uptycs list answers carry (1000). */
export const ASSET_PAGE_SIZE = 1000;

/**
 * Every asset of the tenant (`GET /assets`), each mapped by `map` as its page arrives, so only
 * what the caller keeps stays in memory; `progress` hears the count so far after each page.
 *
 * Paging is an assumption, as the reference documents none: Uptycs list answers carry `offset`
 * and `limit` beside `items` (uptycs-client-go's fixtures: `"offset": 0, "limit": 1000`), so pages
 * are asked for with `?limit=&offset=`, the next offset after the items received. The list ends
 * with a page shorter than the `limit` the answer echoes (a server may cap what was asked), an
 * answer without `limit` (a server that ignores paging sent the whole list), or a page that adds
 * no asset not seen before (a server that ignores `offset`). Each page goes through
 * {@link uptycsGet}: retries, and a 429's Retry-After waited out.
 * @throws UptycsApiError naming `GET /assets…` and the tenant.
 */
export async function listAssets<T>(apiKey: UptycsApiKey, policy: RequestPolicy, map: (item: Record<string, unknown>) => T | undefined,
    progress: (count: number) => void = () => undefined, pageSize = ASSET_PAGE_SIZE): Promise<T[]> {
    const kept: T[] = [];
    const seen = new Set<string>();
    for (let offset = 0; ;) {
        const path = `/assets?limit=${pageSize}&offset=${offset}`;
        const page = await uptycsGet(apiKey, path, policy, async (response) => {
            const body = (await response.json().catch(() => undefined)) as { items?: unknown; limit?: unknown } | undefined;
            if (!body || !Array.isArray(body.items)) {
                throw apiError(`GET ${path} on ${tenantOf(apiKey)} did not return a JSON object with 'items'`);
            }
            return { items: body.items as unknown[], limit: typeof body.limit === "number" ? body.limit : undefined };
        });
        let added = 0;
        for (const item of page.items) {
            const id = typeof item === "object" && item !== null ? (item as Record<string, unknown>).id : undefined;
            if (typeof id !== "string" || seen.has(id)) {
                continue;
            }
            seen.add(id);
            added += 1;
            const mapped = map(item as Record<string, unknown>);
            if (mapped !== undefined) {
                kept.push(mapped);
            }
        }
        progress(seen.size);
        if (page.limit === undefined || page.items.length < Math.min(page.limit, pageSize) || added === 0) {
            return kept;
        }
        offset += page.items.length;
    }
}

/**
 * The asset group id: the `id` of the `/objectGroups` item named exactly `assets`.
 * @throws UptycsApiError when there is no such group.
 */
export async function getAssetGroupId(apiKey: UptycsApiKey, policy: RequestPolicy): Promise<string> {
    const groups = await getItems(apiKey, "/objectGroups", policy);
    const assets = groups.filter((g) => g.name === "assets");
    if (assets.length === 0 || typeof assets[0].id !== "string" || assets[0].id.length === 0) {
        throw apiError(`the Uptycs tenant ${tenantOf(apiKey)} has no object group named 'assets' (GET /objectGroups); installers are downloaded for that asset group`);
    }
    return assets[0].id;
}

/**
 * Agent versions the tenant offers (`/osqueryPackages`), highest first.
 * @throws UptycsApiError when none parses as an agent version.
 */
export async function getOfferedVersions(apiKey: UptycsApiKey, policy: RequestPolicy): Promise<string[]> {
    const items = await getItems(apiKey, "/osqueryPackages", policy);
    const versions = offeredAgentVersions(items);
    if (versions.length === 0) {
        throw apiError(`the Uptycs tenant ${tenantOf(apiKey)} offers no agent version (GET /osqueryPackages returned ${items.length} items, none with a version like 5.14.2.21)`);
    }
    return versions;
}

/** Which installer to download. */
export interface InstallerRequest {
    readonly uptPackage: UptPackage;
    readonly arch: Arch;
    /** Concrete agent version, e.g. `5.14.2.21`. */
    readonly version: string;
    /** Sensor-only (no `remediationPackage=true`). */
    readonly sensorOnly: boolean;
    readonly assetGroupId: string;
}

/** A downloaded installer. */
export interface DownloadedInstaller {
    /** Validated file name from `Content-Disposition`. */
    readonly fileName: string;
    /** Size in bytes. */
    readonly size: number;
    /** Hex sha256 of the bytes. */
    readonly sha256: string;
}

/** The download path for an installer (relative to the customer base URL). */
export function installerPath(req: InstallerRequest): string {
    const query = new URLSearchParams({ osqVersion: req.version });
    if (req.arch === "arm64") {
        query.set("gravitonPackage", "true");
    }
    if (!req.sensorOnly) {
        query.set("remediationPackage", "true");
    }
    return `/packageDownloads/osquery/${req.uptPackage}/${encodeURIComponent(req.assetGroupId)}?${query}`;
}

/** What a download's sink is given: the validated file name, the body, and a progress callback. */
export type InstallerSink<T extends { readonly size: number }> = (fileName: string, body: NodeJS.ReadableStream, progress: (received: number) => void) => Promise<T>;

/**
 * Streams an installer into `sink` (e.g. straight into a zip, hashing on the way; memory stays
 * flat in installer size), once its file name is validated. The sink must call `progress` with
 * the bytes received so far and return their count as `size`; a retried attempt calls it again.
 * A connection that closed early is a short body, whatever the HTTP client calls it; an idle
 * timeout (an abort on an open connection) is reported as such by {@link uptycsGet}.
 * @throws UptycsApiError for a bad file name, an empty body, or a body shorter than
 *   Content-Length after the last retry.
 */
export async function downloadInstaller<T extends { readonly size: number }>(
    apiKey: UptycsApiKey,
    req: InstallerRequest,
    policy: RequestPolicy,
    sink: InstallerSink<T>,
): Promise<T & { readonly fileName: string }> {
    const path = installerPath(req);
    return uptycsGet(apiKey, path, policy, async (response, reading) => {
        let fileName: string;
        try {
            fileName = fileNameFromContentDisposition(response.headers.get("content-disposition"));
        } catch (e) {
            throw apiError(`GET ${path} on ${tenantOf(apiKey)}: ${(e as Error).message}`);
        }
        const problem = installerNameProblem(fileName, req.uptPackage);
        if (problem !== undefined) {
            throw apiError(`GET ${path} on ${tenantOf(apiKey)}: the installer file name '${fileName.slice(0, 250)}' ${problem}`);
        }
        const header = response.headers.get("content-length");
        const expected = header === null ? undefined : Number(header);
        const short = (received: number): Error => new Error(`GET ${path} on ${tenantOf(apiKey)}: the body ended after ${received} of ${expected} bytes (Content-Length)`);
        let received = 0;
        let written: T;
        try {
            written = await sink(fileName, response.body, (n) => {
                received = n;
                reading.touch();
            });
        } catch (e) {
            if (((e as Error).name !== "AbortError" || reading.closed) && expected !== undefined && received < expected) {
                throw short(received);
            }
            throw e;
        }
        const { size } = written;
        if (expected !== undefined && expected !== size) {
            throw short(size);
        }
        if (size === 0) {
            throw apiError(`GET ${path} on ${tenantOf(apiKey)}: the installer '${fileName}' is empty (0 bytes)`);
        }
        return { ...written, fileName };
    });
}
