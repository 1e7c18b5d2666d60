// A local Uptycs API on 127.0.0.1 over TLS, after ../shared/reference/uptycs-api.md: verifies the
// HS256 JWT (iss = key, exp) and the date header, serves /objectGroups, /osqueryPackages,
// /packageDownloads and /assets (paged by limit/offset, each asset with the fields of
// uptycs-client-go's fixture), records every request, and injects faults on demand.
import * as https from "https";
import * as fs from "fs";
import type { IncomingMessage, ServerResponse } from "http";
import { AddressInfo } from "net";
import * as jwt from "jsonwebtoken";
import { installerChunks, installerFileName, InstallerSpec } from "./fakeInstaller";
import { testCertificate } from "./tls";

/** A fault applied to the next `times` requests whose path matches `path`. */
export type Fault = { readonly path: RegExp; times: number } & (
    | { readonly kind: "status"; readonly status: number; readonly retryAfter?: string } // retryAfter: a Retry-After header
    | { readonly kind: "reset" } // headers sent, connection destroyed mid-body
    | { readonly kind: "short" } // Content-Length larger than the body sent, then the connection destroyed
    | { readonly kind: "shortEnd" } // Content-Length sent, half the body, then a clean end of the connection (FIN)
    | { readonly kind: "trickle"; readonly chunks: number; readonly intervalMs: number } // the body in `chunks` pieces, one every `intervalMs`
    | { readonly kind: "stall" } // headers sent, then nothing
    | { readonly kind: "halt" } // half the body sent, then nothing
    | { readonly kind: "redirect" } // 302 to the same path on this server
    | { readonly kind: "disposition"; readonly value: string | undefined }
    | { readonly kind: "empty" } // 200 with a 0-byte installer
    | { readonly kind: "json"; readonly body: unknown }
);

export interface RecordedRequest {
    readonly path: string;
    readonly status: number;
    /** When it arrived (Date.now()). */
    readonly at: number;
}

export interface FakeUptycsOptions {
    readonly customerId?: string;
    readonly key?: string;
    readonly secret?: string;
    /** `/osqueryPackages` versions as the API writes them. Default two versions, highest not first. */
    readonly versions?: string[];
    /** `/objectGroups` items. Default one `assets` group among others. */
    readonly groups?: { id: string; name: string }[];
    /** Installer size in bytes. Default 256 KiB. */
    readonly installerSize?: number;
    /** Send Content-Length (default) or chunked without it. */
    readonly contentLength?: boolean;
    /** Written into every installer's bytes (default: none), so two tenants' installers differ. */
    readonly installerTenantMark?: string;
}

/** An enrolled agent as the tenant keeps it. */
export interface FakeAsset {
    readonly id: string;
    readonly hostName: string;
    /** The agent version, e.g. `5.14.2.21` (served as `5.14.2.21-Uptycs`). */
    agentVersion: string;
    /** The Protect build (else sensor-only). */
    protect: boolean;
    /** When it last reported, ISO 8601. */
    lastActivityAt: string;
    /** The asset group; default the `assets` group. */
    readonly objectGroupId?: string;
    /** Served as `assetCloudInfo.instanceId`; without it `assetCloudInfo` is null (off-cloud, or not documented). */
    readonly instanceId?: string;
    readonly os?: string;
}

export const TEST_SECRET = "s3cr3t-DO-NOT-LEAK-7f9c2b";

export class FakeUptycsApi {
    readonly requests: RecordedRequest[] = [];
    /** Seconds each accepted token had left (exp - now). */
    readonly tokenLifetimes: number[] = [];
    readonly faults: Fault[] = [];
    readonly customerId: string;
    readonly key: string;
    readonly secret: string;
    versions: string[];
    groups: { id: string; name: string }[];
    installerSize: number;
    contentLength: boolean;
    readonly installerTenantMark: string;
    /** The tenant's assets, served by `GET /assets`. */
    assets: FakeAsset[] = [];
    /** The most items an `/assets` page holds, whatever `limit` asks (the `limit` echoed is the one applied). */
    assetPageCap = 1000;
    private server?: https.Server;

    private constructor(opts: FakeUptycsOptions) {
        this.customerId = opts.customerId ?? "1a2b3c4d-0000-4000-8000-1234567890ab";
        this.key = opts.key ?? "API-KEY-ID";
        this.secret = opts.secret ?? TEST_SECRET;
        this.versions = opts.versions ?? ["5.13.1.4-Uptycs", "5.14.2.21-Uptycs", "5.9.0.2-Uptycs"];
        this.groups = opts.groups ?? [{ id: "g-other", name: "servers" }, { id: "9f8e7d6c-aaaa-4bbb-8ccc-000000000001", name: "assets" }];
        this.installerSize = opts.installerSize ?? 256 * 1024;
        this.contentLength = opts.contentLength ?? true;
        this.installerTenantMark = opts.installerTenantMark ?? "";
    }

    static async start(opts: FakeUptycsOptions = {}): Promise<FakeUptycsApi> {
        const api = new FakeUptycsApi(opts);
        const { certFile, keyFile } = testCertificate();
        api.server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (req, res) => api.handle(req, res));
        await new Promise<void>((resolve) => api.server!.listen(0, "127.0.0.1", resolve));
        return api;
    }

    get port(): number {
        return (this.server!.address() as AddressInfo).port;
    }

    /** The key file for this server (domain `localhost`, suffix `:<port>`). */
    apiKey(overrides: Record<string, unknown> = {}): Record<string, unknown> {
        return { customerId: this.customerId, key: this.key, secret: this.secret, domain: "localhost", domainSuffix: `:${this.port}`, ...overrides };
    }

    /** Requests whose path starts with `prefix`. */
    count(prefix: string): number {
        return this.requests.filter((r) => r.path.startsWith(prefix)).length;
    }

    /** The bytes this tenant serves for an installer (what a zip must hold). */
    installerBytes(spec: InstallerSpec): Buffer {
        return Buffer.concat([...installerChunks(spec, this.installerSize, undefined, this.installerTenantMark)]);
    }

    downloads(): number {
        return this.requests.filter((r) => r.path.startsWith("/packageDownloads") && r.status === 200).length;
    }

    async stop(): Promise<void> {
        this.server?.closeAllConnections();
        await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    }

    private takeFault(path: string): Fault | undefined {
        const f = this.faults.find((x) => x.times > 0 && x.path.test(path));
        if (f !== undefined) {
            f.times--;
        }
        return f;
    }

    private handle(req: IncomingMessage, res: ServerResponse): void {
        const url = new URL(req.url ?? "/", "https://localhost");
        const prefix = `/public/api/customers/`;
        const at = Date.now();
        const reply = (status: number, body: unknown, path: string, headers: Record<string, string> = {}): void => {
            this.requests.push({ path, status, at });
            res.writeHead(status, { "content-type": "application/json", ...headers });
            res.end(JSON.stringify(body));
        };
        if (!url.pathname.startsWith(prefix)) {
            return reply(404, { error: { message: "not found" } }, url.pathname);
        }
        const [customer, ...rest] = url.pathname.slice(prefix.length).split("/");
        const path = `/${rest.join("/")}${url.search}`;
        const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
        try {
            if (auth === null || !req.headers.date || Number.isNaN(Date.parse(req.headers.date))) {
                throw new Error("missing bearer token or date header");
            }
            const claims = jwt.verify(auth[1], this.secret, { algorithms: ["HS256"], issuer: this.key }) as jwt.JwtPayload;
            if (typeof claims.exp !== "number") {
                throw new Error("token without exp");
            }
            this.tokenLifetimes.push(claims.exp - Math.floor(Date.now() / 1000));
        } catch (e) {
            return reply(401, { error: { status: 401, message: `Unauthorized: ${(e as Error).message}` } }, path);
        }
        if (customer !== this.customerId) {
            return reply(404, { error: { status: 404, message: "customer not found" } }, path);
        }
        const fault = this.takeFault(path);
        if (fault?.kind === "status") {
            return reply(fault.status, { error: { status: fault.status, message: "injected" } }, path, fault.retryAfter === undefined ? {} : { "retry-after": fault.retryAfter });
        }
        if (fault?.kind === "json") {
            return reply(200, fault.body, path);
        }
        if (fault?.kind === "redirect") {
            this.requests.push({ path, status: 302, at: Date.now() });
            res.writeHead(302, { location: req.url });
            res.end();
            return;
        }
        if (path === "/objectGroups") {
            return reply(200, { items: this.groups }, path);
        }
        if (rest.join("/") === "assets") {
            return reply(200, this.assetsPage(url.searchParams), path);
        }
        if (path === "/osqueryPackages") {
            return reply(200, { items: this.versions.map((version) => ({ version, name: "osquery" })) }, path);
        }
        const m = /^\/packageDownloads\/osquery\/(centos|debian|windows)\/([^/?]+)\?(.*)$/.exec(path);
        if (m === null) {
            return reply(404, { error: { message: `no route ${path}` } }, path);
        }
        const q = new URLSearchParams(m[3]);
        const version = q.get("osqVersion") ?? "";
        if (!this.groups.some((g) => g.id === decodeURIComponent(m[2])) || !this.versions.some((v) => v.startsWith(`${version}-`))) {
            return reply(404, { error: { message: "no such package" } }, path);
        }
        const spec: InstallerSpec = {
            uptPackage: m[1], arch: q.get("gravitonPackage") === "true" ? "arm64" : "x86_64", version, protect: q.get("remediationPackage") === "true",
        };
        this.serveInstaller(res, spec, path, fault);
    }

    /** One page of `/assets`: `limit` (capped) items from `offset`, with the list answer's `links`, `offset` and `limit`. */
    private assetsPage(query: URLSearchParams): Record<string, unknown> {
        const limit = Math.min(Number(query.get("limit") ?? this.assetPageCap) || this.assetPageCap, this.assetPageCap);
        const offset = Number(query.get("offset") ?? 0) || 0;
        const group = this.groups.find((g) => g.name === "assets")?.id;
        const items = this.assets.slice(offset, offset + limit).map((a) => ({
            id: a.id, customerId: this.customerId, hostName: a.hostName, description: null, location: "Ashburn, Virginia, United States",
            os: a.os ?? "Amazon Linux", osVersion: "2023", osFlavor: "rhel", osKey: "amzn_2023", osqueryVersion: `${a.agentVersion}-Uptycs`,
            upgradeOsqueryVersion: null, objectGroupId: a.objectGroupId ?? group, status: "active", disabled: false,
            lastEnrolledAt: "2026-01-05T10:00:00.000Z", live: true, lastActivityAt: a.lastActivityAt, createdAt: "2026-01-05T10:00:00.000Z",
            flags: { enable_wmi: true, disable_audit: false, disable_carver: false, watchdog_utilization_limit: "0" },
            interfaces: [{ customerId: this.customerId, name: "eth0", mac: "0a:00:00:00:00:01", ip: "10.0.0.1", mask: "255.255.255.0", isPrimary: true }],
            assetCloudInfo: a.instanceId === undefined ? null : { instanceId: a.instanceId },
            protect: a.protect, agentVersion: `${a.agentVersion}-Uptycs`, agentType: "asset", resourceType: "asset", arch: "x86_64",
            tags: ["asset-group=assets", "all"],
            links: [{ rel: "self", title: "Asset information", href: `/api/customers/${this.customerId}/assets/${a.id}` }],
        }));
        return { links: [{ rel: "self", title: "Assets", href: `/api/customers/${this.customerId}/assets` }], items, offset, limit };
    }

    private serveInstaller(res: ServerResponse, spec: InstallerSpec, path: string, fault: Fault | undefined): void {
        const size = fault?.kind === "empty" ? 0 : this.installerSize;
        const disposition = fault?.kind === "disposition" ? fault.value : `attachment; filename="${installerFileName(spec)}"`;
        const headers: Record<string, string | number> = { "content-type": "application/octet-stream" };
        if (disposition !== undefined) {
            headers["content-disposition"] = disposition;
        }
        if (this.contentLength || fault?.kind === "short") {
            headers["content-length"] = fault?.kind === "short" ? size + 1000 : size;
        }
        this.requests.push({ path, status: 200, at: Date.now() });
        res.writeHead(200, headers);
        if (fault?.kind === "stall") {
            res.flushHeaders();
            return; // headers, then nothing: the client's idle timeout must fire
        }
        if (fault?.kind === "shortEnd" || fault?.kind === "trickle") {
            this.serveSlowly(res, this.installerBytes(spec), fault);
            return;
        }
        const chunks = installerChunks(spec, size, undefined, this.installerTenantMark);
        let sent = 0;
        const pump = (): void => {
            for (let next = chunks.next(); !next.done; next = chunks.next()) {
                sent += next.value.length;
                if (fault?.kind === "reset" && sent > size / 2) {
                    res.socket?.destroy();
                    return;
                }
                if (fault?.kind === "halt" && sent > size / 2) {
                    return;
                }
                if (!res.write(next.value)) {
                    res.once("drain", pump);
                    return;
                }
            }
            if (fault?.kind === "short") {
                // Once all was written, drop the connection, short of Content-Length.
                res.write(Buffer.alloc(0), () => res.socket?.destroy());
                return;
            }
            res.end();
        };
        pump();
    }

    private serveSlowly(res: ServerResponse, body: Buffer, fault: Fault & { kind: "shortEnd" | "trickle" }): void {
        if (fault.kind === "shortEnd") {
            // Half the body, then a clean end of the connection (TLS close, FIN), short of Content-Length.
            res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.end());
            return;
        }
        const piece = Math.ceil(body.length / fault.chunks);
        let at = 0;
        const next = (): void => {
            res.write(body.subarray(at, at + piece));
            at += piece;
            if (at < body.length) {
                setTimeout(next, fault.intervalMs);
            } else {
                res.end();
            }
        };
        next();
    }
}
