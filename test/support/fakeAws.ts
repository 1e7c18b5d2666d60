// A local stand-in for the AWS actions this program calls itself, on 127.0.0.1: SSM
// (ListDocumentVersions, DeleteDocument, and UpdateDocumentDefaultVersion as a person runs it;
// State Manager's DescribeAssociation, DescribeAssociationExecutions,
// DescribeAssociationExecutionTargets, and StartAssociationsOnce as a person runs it; AWS JSON
// 1.1) and STS (GetCallerIdentity, AssumeRole; AWS query protocol). Associations are created
// and updated as the AWS provider would (`applyAssociation`): each new association version runs
// at once on the managed instances its targets match, MaxConcurrency of them at a time (the
// others Pending), and each instance ends its run as the test set for that package version
// (after some seconds, or never). Runs and targets come back as SSM returns them: newest first,
// epoch seconds, paged with NextToken, narrowed by Filters. Each request is attributed to the
// access key id in its SigV4 `Authorization` header; every known key belongs to one account, and
// as in AWS each account has its own documents in each region (the region of the SigV4
// credential scope), so a request signed with another account's credentials, or for another
// region, sees another package. Managed nodes (DescribeInstanceInformation: tags, ping status,
// platform, host name; filtered, 5-50 a page) and their software inventory (GetInventory
// `AWS:Application`, only on nodes an `AWS-GatherSoftwareInventory` association targets, each
// entity with all its applications, up to 100 a page); ListAssociations by name or document.
// Any action can be made to answer ThrottlingException a number of times. The real AWS SDK
// reaches it through AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_STS.
import * as http from "http";
import { AddressInfo } from "net";

export interface FakeDocumentVersion {
    DocumentVersion: string;
    VersionName: string;
    IsDefaultVersion: boolean;
}

/** One request as received. */
export interface FakeAwsCall {
    readonly service: "ssm" | "sts";
    readonly action: string;
    /** The access key id that signed it (`Credential=<id>/...`), or "" when unsigned. */
    readonly accessKeyId: string;
    /** The region it was signed for (`Credential=<id>/<date>/<region>/...`). */
    readonly region: string;
    readonly input: Record<string, unknown>;
}

/** How an instance's run of a package version ends. */
export interface FakeOutcome {
    readonly status: "Success" | "Failed" | "TimedOut";
    readonly detailedStatus?: string;
    /** How long the run takes on the instance, seconds; "never": it stays InProgress. Default 0. */
    readonly seconds?: number | "never";
}

/** An application as inventory records it (`AWS:Application`). */
export interface FakeApplication {
    readonly Name: string;
    readonly Version: string;
    readonly Publisher?: string;
}

/** A managed instance: its tags, how a run of each package version ends on it, and what SSM knows of it. */
export interface FakeInstance {
    readonly id: string;
    readonly tags: Record<string, string>;
    /** The outcome for a version (the association's `version` parameter). */
    outcome: (version: string) => FakeOutcome;
    /** `ComputerName`; default `ip-10-…​.ec2.internal` made from the id. */
    computerName?: string;
    /** `PlatformType`; default Linux. */
    platformType?: "Linux" | "Windows" | "MacOS";
    /** `PingStatus`; default Online. */
    pingStatus?: "Online" | "ConnectionLost" | "Inactive";
    /** Installed applications, reported by inventory where it is gathered. */
    applications?: FakeApplication[];
}

/** What the AWS provider sends for an `aws.ssm.Association`. */
export interface FakeAssociationInput {
    readonly name: string;
    readonly associationName: string;
    readonly parameters: Record<string, string>;
    readonly targets: { key: string; values: string[] }[];
    readonly [setting: string]: unknown;
}

interface FakeRunTarget {
    readonly instanceId: string;
    readonly outcome: FakeOutcome;
    readonly commandId: string;
    /** When its command starts and ends (ms; Infinity: never), after the instances before it freed a slot. */
    readonly startMs: number;
    readonly endMs: number;
}

/** Instances at once for `MaxConcurrency` (`5`, or `10%` of the targets, at least one). */
function concurrency(maxConcurrency: unknown, targets: number): number {
    const text = typeof maxConcurrency === "string" ? maxConcurrency : "100%";
    return Math.max(1, text.endsWith("%") ? Math.floor((targets * Number(text.slice(0, -1))) / 100) : Number(text));
}

interface FakeExecution {
    readonly executionId: string;
    readonly associationVersion: string;
    readonly createdMs: number;
    readonly targets: FakeRunTarget[];
}

interface FakeAssociation {
    readonly id: string;
    input: FakeAssociationInput;
    version: number;
    readonly createdMs: number;
    /** When the current version was made (create or update). */
    updatedMs: number;
    readonly executions: FakeExecution[];
}

interface KeyOwner {
    readonly account: string;
    readonly arn: string;
}

export class FakeAws {
    /** `<account>/<region>` → document name → versions. */
    private readonly accounts = new Map<string, Map<string, FakeDocumentVersion[]>>();
    private readonly keys = new Map<string, KeyOwner>();
    /** `<account>/<region>` → managed instances. */
    private readonly fleets = new Map<string, Map<string, FakeInstance>>();
    /** `<account>/<region>` → association id → association. */
    private readonly associationsByPlace = new Map<string, Map<string, FakeAssociation>>();
    private serial = 0;
    /** `<account>/<region>/<document>` → the highest document version number it ever had. */
    private readonly lastVersion = new Map<string, number>();
    /** Items per page when a request sets no MaxResults: small, so that paging is exercised. */
    pageSize = 2;
    /** Seconds between an association's create or update and its run showing up (State Manager takes a moment). */
    runStartSeconds = 0;
    /**
     * Seconds between an instance's run ending and the next queued instance's starting, under
     * MaxConcurrency (State Manager's rate control dispatches in steps, not the moment a slot frees).
     */
    dispatchGapSeconds = 0;
    /**
     * Whether DescribeAssociationExecutionTargets lists instances not dispatched yet (as Pending).
     * AWS does not document it; with false a run can be InProgress while every instance listed so
     * far has finished, which a gate must not take for the end of the run.
     */
    listsQueuedTargets = true;
    readonly calls: FakeAwsCall[] = [];
    /** Action → how many more calls of it answer ThrottlingException (as SSM does under its rate limit). */
    readonly throttle = new Map<string, number>();
    private sessions = 0;
    private server?: http.Server;

    static async start(): Promise<FakeAws> {
        const aws = new FakeAws();
        aws.server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (d: Buffer) => { body += d.toString(); });
            req.on("end", () => aws.handle(req, body, res));
        });
        await new Promise<void>((resolve) => aws.server!.listen(0, "127.0.0.1", resolve));
        return aws;
    }

    get endpoint(): string {
        return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    }

    /** Registers long-term credentials of an IAM user in `account`. */
    addUser(accessKeyId: string, account: string): void {
        this.keys.set(accessKeyId, { account, arn: `arn:aws:iam::${account}:user/${accessKeyId.toLowerCase()}` });
    }

    /** The documents of `account` in `region` (created empty on first use). */
    documents(account: string, region = "us-east-1"): Map<string, FakeDocumentVersion[]> {
        let docs = this.accounts.get(`${account}/${region}`);
        if (docs === undefined) {
            docs = new Map();
            this.accounts.set(`${account}/${region}`, docs);
        }
        return docs;
    }

    /**
     * A publish as the AWS provider makes it (CreateDocument or UpdateDocument, then the new
     * version made the default): the next document version number, never one a deleted version
     * had (SSM does not reuse them). A VersionName the document has is left alone.
     */
    publishVersion(account: string, region: string, name: string, versionName: string): void {
        const docs = this.documents(account, region);
        const versions = docs.get(name) ?? [];
        if (!versions.some((v) => v.VersionName === versionName)) {
            // A new document (none, or deleted whole) starts again at 1.
            const highest = docs.has(name) ? Math.max(this.lastVersion.get(`${account}/${region}/${name}`) ?? 0, ...versions.map((v) => Number(v.DocumentVersion))) : 0;
            const next = highest + 1;
            this.lastVersion.set(`${account}/${region}/${name}`, next);
            versions.forEach((v) => { v.IsDefaultVersion = false; });
            versions.push({ DocumentVersion: String(next), VersionName: versionName, IsDefaultVersion: true });
        }
        docs.set(name, versions);
    }

    /** The managed instances of `account` in `region` (created empty on first use). */
    instances(account: string, region = "us-east-1"): Map<string, FakeInstance> {
        let fleet = this.fleets.get(`${account}/${region}`);
        if (fleet === undefined) {
            fleet = new Map();
            this.fleets.set(`${account}/${region}`, fleet);
        }
        return fleet;
    }

    /** Adds managed instances with `tags`, whose runs end with `outcome` (default: Success at once). */
    addInstances(account: string, region: string, ids: string[], tags: Record<string, string>, outcome: FakeInstance["outcome"] = () => ({ status: "Success" })): void {
        ids.forEach((id) => this.instances(account, region).set(id, { id, tags, outcome }));
    }

    /** Adds managed nodes as SSM knows them (tags, platform, host name, ping, applications); runs succeed unless `outcome` says otherwise. */
    addNodes(account: string, region: string, nodes: (Partial<FakeInstance> & { readonly id: string })[]): void {
        nodes.forEach((n) => this.instances(account, region).set(n.id, { tags: {}, outcome: () => ({ status: "Success" }), ...n }));
    }

    private associations(account: string, region: string): Map<string, FakeAssociation> {
        let found = this.associationsByPlace.get(`${account}/${region}`);
        if (found === undefined) {
            found = new Map();
            this.associationsByPlace.set(`${account}/${region}`, found);
        }
        return found;
    }

    /** The association named `associationName` in `account`/`region`, if any. */
    association(account: string, region: string, associationName: string): { id: string; version: number; input: FakeAssociationInput; runs: number; updatedMs: number } | undefined {
        const a = [...this.associations(account, region).values()].find((x) => x.input.associationName === associationName);
        return a === undefined ? undefined : { id: a.id, version: a.version, input: a.input, runs: a.executions.length, updatedMs: a.updatedMs };
    }

    /**
     * Creates or updates an association as the AWS provider does (CreateAssociation, or
     * UpdateAssociation when anything changed: a new association version); either runs it at once
     * unless `applyOnlyAtCronInterval`. Unchanged: nothing happens. Returns its id.
     */
    applyAssociation(account: string, region: string, input: FakeAssociationInput): string {
        const all = this.associations(account, region);
        let a = [...all.values()].find((x) => x.input.associationName === input.associationName);
        if (a !== undefined && JSON.stringify(a.input) === JSON.stringify(input)) {
            return a.id;
        }
        if (a === undefined) {
            a = { id: `a${String(++this.serial).padStart(7, "0")}-0000-4000-8000-000000000000`, input, version: 1, createdMs: Date.now(), updatedMs: Date.now(), executions: [] };
            all.set(a.id, a);
        } else {
            a.input = input;
            a.version += 1;
            a.updatedMs = Date.now();
        }
        if (input.applyOnlyAtCronInterval !== true) {
            this.startRun(account, region, a);
        }
        return a.id;
    }

    /** A run of the association's current version on every instance its targets match now. */
    private startRun(account: string, region: string, a: FakeAssociation): void {
        const matches = (i: FakeInstance): boolean => FakeAws.targets(a.input, i);
        const version = a.input.parameters.version ?? "";
        const n = ++this.serial;
        const createdMs = Date.now() + this.runStartSeconds * 1000;
        const instances = [...this.instances(account, region).values()].filter(matches);
        // MaxConcurrency: each instance takes the slot that frees first; the others wait (Pending).
        const slots: number[] = Array.from({ length: concurrency(a.input.maxConcurrency, instances.length) }, () => createdMs);
        a.executions.push({
            executionId: `e${String(n).padStart(7, "0")}-0000-4000-8000-000000000000`,
            associationVersion: String(a.version),
            createdMs,
            targets: instances.map((i, k) => {
                const outcome = i.outcome(version);
                const slot = slots.indexOf(Math.min(...slots));
                const startMs = slots[slot];
                const endMs = outcome.seconds === "never" ? Infinity : startMs + (outcome.seconds ?? 0) * 1000;
                slots[slot] = endMs + this.dispatchGapSeconds * 1000;
                return { instanceId: i.id, outcome, startMs, endMs, commandId: `c${String(n).padStart(7, "0")}-${String(k).padStart(4, "0")}-4000-8000-000000000000` };
            }),
        });
    }

    /** Environment for a process whose AWS SDK should talk to this server, with no credentials of its own. */
    env(): NodeJS.ProcessEnv {
        return {
            AWS_ENDPOINT_URL_SSM: this.endpoint, AWS_ENDPOINT_URL_STS: this.endpoint, AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true",
            AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_SESSION_TOKEN: "", AWS_PROFILE: "",
        };
    }

    /** The access key ids that signed calls of `service`/`action`. */
    signers(service: "ssm" | "sts", action?: string): string[] {
        return this.calls.filter((c) => c.service === service && (action === undefined || c.action === action)).map((c) => c.accessKeyId);
    }

    async stop(): Promise<void> {
        await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    }

    private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
        const scope = /Credential=([^/]+)\/[0-9]+\/([a-z0-9-]+)\//.exec(String(req.headers.authorization ?? ""));
        const [accessKeyId, region] = [scope?.[1] ?? "", scope?.[2] ?? ""];
        const owner = this.keys.get(accessKeyId);
        const target = String(req.headers["x-amz-target"] ?? "");
        if (target.startsWith("AmazonSSM.")) {
            const input = JSON.parse(body || "{}") as Record<string, unknown>;
            const action = target.replace(/^AmazonSSM\./, "");
            this.calls.push({ service: "ssm", action, accessKeyId, region, input });
            return this.ssm(action, input, owner, region, res);
        }
        const input = Object.fromEntries(new URLSearchParams(body)) as Record<string, string>;
        this.calls.push({ service: "sts", action: input.Action ?? "", accessKeyId, region, input });
        this.sts(input, owner, res);
    }

    private ssm(action: string, input: Record<string, unknown>, owner: KeyOwner | undefined, region: string, res: http.ServerResponse): void {
        const send = (status: number, payload: unknown): void => {
            res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
            res.end(JSON.stringify(payload));
        };
        if (owner === undefined) {
            return send(400, { __type: "UnrecognizedClientException", message: "The security token included in the request is invalid." });
        }
        const throttled = this.throttle.get(action) ?? 0;
        if (throttled > 0) {
            this.throttle.set(action, throttled - 1);
            return send(400, { __type: "ThrottlingException", message: "Rate exceeded" });
        }
        if (["DescribeInstanceInformation", "ListAssociations", "GetInventory"].includes(action)) {
            return this.fleet(action, input, owner.account, region, send);
        }
        if (action.includes("Association")) {
            return this.stateManager(action, input, owner.account, region, send);
        }
        const versions = this.documents(owner.account, region).get(String(input.Name));
        if (versions === undefined) {
            return send(400, { __type: "InvalidDocument", message: `Document ${String(input.Name)} does not exist.` });
        }
        if (action === "ListDocumentVersions") {
            return send(200, { DocumentVersions: versions.map((v) => ({ Name: input.Name, ...v })) });
        }
        if (action === "UpdateDocumentDefaultVersion") {
            // As SSM: the version must exist; it becomes the only default.
            const target = versions.find((v) => v.DocumentVersion === input.DocumentVersion);
            if (target === undefined) {
                return send(400, { __type: "InvalidDocumentVersion", message: `Document version ${String(input.DocumentVersion)} does not exist.` });
            }
            versions.forEach((v) => { v.IsDefaultVersion = v === target; });
            return send(200, { Description: { Name: input.Name, DefaultVersion: target.DocumentVersion, DefaultVersionName: target.VersionName } });
        }
        if (action === "DeleteDocument") {
            const i = versions.findIndex((v) => v.VersionName === input.VersionName);
            if (i < 0 || versions[i].IsDefaultVersion) {
                return send(400, { __type: "InvalidDocumentOperation", message: "cannot delete that version" });
            }
            versions.splice(i, 1);
            return send(200, {});
        }
        send(400, { __type: "UnknownOperationException", message: action });
    }

    /** One page of `items` from NextToken (an opaque offset), MaxResults (≤ `max`) at a time. */
    private page<T>(items: T[], input: Record<string, unknown>, max: number): { items: T[]; NextToken?: string } {
        const size = Math.min(Number(input.MaxResults ?? this.pageSize), max);
        const from = input.NextToken === undefined ? 0 : Number(Buffer.from(String(input.NextToken), "base64").toString().replace(/^offset:/, ""));
        const next = from + size;
        return { items: items.slice(from, next), NextToken: next < items.length ? Buffer.from(`offset:${next}`).toString("base64") : undefined };
    }

    /** Whether association `a`'s targets match instance `i` (tag values ANDed across targets; `InstanceIds` with `*` for all). */
    private static targets(a: FakeAssociationInput, i: FakeInstance): boolean {
        return a.targets.every((t) => (t.key === "InstanceIds"
            ? t.values.includes("*") || t.values.includes(i.id)
            : t.key.startsWith("tag:") && t.values.includes(i.tags[t.key.slice(4)])));
    }

    /** Managed nodes, associations by name, and inventory, as SSM reports them. */
    private fleet(action: string, input: Record<string, unknown>, account: string, region: string, send: (status: number, payload: unknown) => void): void {
        const nodes = [...this.instances(account, region).values()];
        const associations = [...this.associations(account, region).values()];
        if (action === "DescribeInstanceInformation") {
            const max = input.MaxResults === undefined ? undefined : Number(input.MaxResults);
            if (max !== undefined && (max < 5 || max > 50)) {
                return send(400, { __type: "ValidationException", message: `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value between 5 and 50` });
            }
            const filters = (input.Filters as { Key: string; Values: string[] }[] | undefined) ?? [];
            const known = (k: string): boolean => k.startsWith("tag:") || ["tag-key", "InstanceIds", "PingStatus", "PlatformTypes", "ResourceType", "AssociationStatus", "AgentVersion"].includes(k);
            const bad = filters.find((f) => !known(f.Key));
            if (bad !== undefined) {
                return send(400, { __type: "InvalidFilterKey", message: `The filter key ${bad.Key} is not valid` });
            }
            const field = (n: FakeInstance, key: string): string[] => {
                if (key.startsWith("tag:")) {
                    return n.tags[key.slice(4)] === undefined ? [] : [n.tags[key.slice(4)]];
                }
                return key === "tag-key" ? Object.keys(n.tags) : key === "InstanceIds" ? [n.id] : key === "PingStatus" ? [n.pingStatus ?? "Online"]
                    : key === "PlatformTypes" ? [n.platformType ?? "Linux"] : key === "ResourceType" ? [n.id.startsWith("mi-") ? "ManagedInstance" : "EC2Instance"] : [];
            };
            const rows = nodes.filter((n) => filters.every((f) => field(n, f.Key).some((v) => f.Values.includes(v)))).map((n) => ({
                InstanceId: n.id, PingStatus: n.pingStatus ?? "Online", LastPingDateTime: Date.now() / 1000 - (n.pingStatus === undefined || n.pingStatus === "Online" ? 60 : 86_400),
                AgentVersion: "3.3.1345.0", IsLatestVersion: false, PlatformType: n.platformType ?? "Linux",
                PlatformName: n.platformType === "Windows" ? "Microsoft Windows Server 2022 Datacenter" : "Amazon Linux", PlatformVersion: n.platformType === "Windows" ? "10.0.20348" : "2023",
                ResourceType: n.id.startsWith("mi-") ? "ManagedInstance" : "EC2Instance", IPAddress: "10.0.0.1",
                ComputerName: n.computerName ?? `ip-10-0-${parseInt(n.id.slice(-4), 16) >> 8}-${parseInt(n.id.slice(-4), 16) & 255}.ec2.internal`,
            }));
            const { items, NextToken } = this.page(rows, input, 50);
            return send(200, { InstanceInformationList: items, NextToken });
        }
        if (action === "ListAssociations") {
            const filters = (input.AssociationFilterList as { key: string; value: string }[] | undefined) ?? [];
            const rows = associations.filter((a) => filters.every((f) => (f.key === "AssociationName" ? a.input.associationName === f.value
                : f.key === "Name" ? a.input.name === f.value : f.key === "AssociationId" ? a.id === f.value : false))).map((a) => ({
                Name: a.input.name, AssociationId: a.id, AssociationVersion: String(a.version), AssociationName: a.input.associationName,
                Targets: a.input.targets.map((t) => ({ Key: t.key, Values: t.values })),
                LastExecutionDate: a.executions.length === 0 ? undefined : a.executions[a.executions.length - 1].createdMs / 1000,
            }));
            const { items, NextToken } = this.page(rows, input, 50);
            return send(200, { Associations: items, NextToken });
        }
        // GetInventory: entities of the nodes an inventory association targets, with all their applications, narrowed by name filters.
        const gathering = associations.filter((a) => a.input.name === "AWS-GatherSoftwareInventory");
        const filters = (input.Filters as { Key: string; Values: string[]; Type?: string }[] | undefined) ?? [];
        const bad = filters.find((f) => f.Key !== "AWS:Application.Name" || !["Equal", "BeginWith", undefined].includes(f.Type));
        if (bad !== undefined) {
            return send(400, { __type: "InvalidFilter", Message: `filter ${bad.Key} ${String(bad.Type)} is not supported here` });
        }
        const nameMatches = (app: FakeApplication): boolean => filters.every((f) => f.Values.some((v) => (f.Type === "BeginWith" ? app.Name.startsWith(v) : app.Name === v)));
        const entities = nodes.filter((n) => gathering.some((a) => FakeAws.targets(a.input, n)) && (filters.length === 0 || (n.applications ?? []).some(nameMatches)))
            .map((n) => ({
                Id: n.id,
                Data: { "AWS:Application": { TypeName: "AWS:Application", SchemaVersion: "1.1", CaptureTime: "2026-12-05T23:00:00Z", Content: (n.applications ?? []).map((x) => ({ ...x, InstalledTime: "2026-12-01T00:00:00Z" })) } },
            }));
        const { items, NextToken } = this.page(entities, input, 100);
        send(200, { Entities: items, NextToken });
    }

    /** State Manager: association runs as SSM reports them. */
    private stateManager(action: string, input: Record<string, unknown>, account: string, region: string, send: (status: number, payload: unknown) => void): void {
        const all = this.associations(account, region);
        if (action === "StartAssociationsOnce") {
            const ids = (input.AssociationIds as string[] | undefined) ?? [];
            const missing = ids.filter((id) => !all.has(id));
            if (missing.length > 0) {
                return send(400, { __type: "InvalidAssociation", Message: `Association ${missing[0]} does not exist` });
            }
            ids.forEach((id) => this.startRun(account, region, all.get(id)!));
            return send(200, {});
        }
        const a = all.get(String(input.AssociationId));
        if (a === undefined) {
            return send(400, { __type: "AssociationDoesNotExist", Message: `Association ${String(input.AssociationId)} does not exist` });
        }
        const now = Date.now();
        const started = a.executions.filter((e) => e.createdMs <= now);
        const targetStatus = (t: FakeRunTarget): string => (now < t.startMs ? "Pending" : now < t.endMs ? "InProgress" : t.outcome.status);
        const counts = (e: FakeExecution): Map<string, number> => {
            const m = new Map<string, number>();
            e.targets.forEach((t) => m.set(targetStatus(t), (m.get(targetStatus(t)) ?? 0) + 1));
            return m;
        };
        const runStatus = (e: FakeExecution): string => {
            const m = counts(e);
            return m.has("InProgress") || m.has("Pending") ? "InProgress" : [...m.keys()].some((k) => k !== "Success") ? "Failed" : "Success";
        };
        const epoch = (ms: number): number => ms / 1000;
        const filters = (input.Filters as { Key: string; Value: string; Type?: string }[] | undefined) ?? [];
        const page = <T>(items: T[]): { items: T[]; NextToken?: string } => this.page(items, input, 50);
        if (action === "DescribeAssociation") {
            const latest = started[started.length - 1];
            const aggregated = latest === undefined ? {} : Object.fromEntries(counts(latest));
            return send(200, {
                AssociationDescription: {
                    AssociationId: a.id, AssociationName: a.input.associationName, AssociationVersion: String(a.version), Name: a.input.name,
                    Date: epoch(a.createdMs), LastUpdateAssociationDate: epoch(a.updatedMs),
                    Parameters: Object.fromEntries(Object.entries(a.input.parameters).map(([k, v]) => [k, [v]])),
                    Targets: a.input.targets.map((t) => ({ Key: t.key, Values: t.values })),
                    Overview: { Status: latest === undefined ? "Pending" : runStatus(latest) === "InProgress" ? "Pending" : runStatus(latest), AssociationStatusAggregatedCount: aggregated },
                },
            });
        }
        if (action === "DescribeAssociationExecutions") {
            const bad = filters.find((f) => !["ExecutionId", "Status", "CreatedTime"].includes(f.Key) || (f.Key === "CreatedTime" && Number.isNaN(Date.parse(f.Value))));
            if (bad !== undefined) {
                return send(400, { __type: "InvalidFilterValue", Message: `Filter ${bad.Key}=${bad.Value} is not valid` });
            }
            const rows = [...started].reverse().filter((e) => filters.every((f) => {
                if (f.Key === "ExecutionId") {
                    return e.executionId === f.Value;
                }
                if (f.Key === "Status") {
                    return runStatus(e) === f.Value;
                }
                const at = epoch(e.createdMs);
                const value = Date.parse(f.Value) / 1000;
                return f.Type === "LESS_THAN" ? at < value : f.Type === "GREATER_THAN" ? at > value : at === value;
            })).map((e) => ({
                AssociationId: a.id, AssociationVersion: e.associationVersion, ExecutionId: e.executionId, Status: runStatus(e), DetailedStatus: runStatus(e),
                CreatedTime: epoch(e.createdMs), LastExecutionDate: epoch(e.createdMs),
                ResourceCountByStatus: `{${[...counts(e)].map(([k, n]) => `${k}=${n}`).join(",")}}`,
            }));
            const { items, NextToken } = page(rows);
            return send(200, { AssociationExecutions: items, NextToken });
        }
        if (action === "DescribeAssociationExecutionTargets") {
            const e = started.find((x) => x.executionId === input.ExecutionId);
            if (e === undefined) {
                return send(400, { __type: "AssociationExecutionDoesNotExist", Message: `Execution ${String(input.ExecutionId)} does not exist` });
            }
            const rows = e.targets.filter((t) => this.listsQueuedTargets || t.startMs <= now).map((t) => ({
                AssociationId: a.id, AssociationVersion: e.associationVersion, ExecutionId: e.executionId, ResourceId: t.instanceId, ResourceType: "ManagedInstance",
                Status: targetStatus(t), DetailedStatus: now < t.endMs ? targetStatus(t) : t.outcome.detailedStatus ?? t.outcome.status,
                LastExecutionDate: epoch(e.createdMs), OutputSource: { OutputSourceId: t.commandId, OutputSourceType: "RunCommand" },
            })).filter((row) => filters.every((f) => (f.Key === "Status" ? row.Status === f.Value : f.Key === "ResourceId" ? row.ResourceId === f.Value : row.ResourceType === f.Value)));
            const { items, NextToken } = page(rows);
            return send(200, { AssociationExecutionTargets: items, NextToken });
        }
        send(400, { __type: "UnknownOperationException", message: action });
    }

    private sts(input: Record<string, string>, owner: KeyOwner | undefined, res: http.ServerResponse): void {
        const xml = (status: number, text: string): void => {
            res.writeHead(status, { "content-type": "text/xml" });
            res.end(text);
        };
        const ns = "https://sts.amazonaws.com/doc/2011-06-15/";
        if (owner === undefined) {
            return xml(403, `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
        }
        if (input.Action === "GetCallerIdentity") {
            return xml(200, `<GetCallerIdentityResponse xmlns="${ns}"><GetCallerIdentityResult><Arn>${owner.arn}</Arn><UserId>AIDAFAKE</UserId><Account>${owner.account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`);
        }
        if (input.Action === "AssumeRole") {
            const m = /^arn:aws:iam::([0-9]{12}):role\/(.+)$/.exec(input.RoleArn ?? "");
            if (m === null) {
                return xml(400, `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>bad RoleArn</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
            }
            const key = `ASIAROLE${++this.sessions}`;
            const session = input.RoleSessionName ?? "";
            this.keys.set(key, { account: m[1], arn: `arn:aws:sts::${m[1]}:assumed-role/${m[2]}/${session}` });
            const expiration = new Date(Date.now() + 3600_000).toISOString();
            return xml(200, `<AssumeRoleResponse xmlns="${ns}"><AssumeRoleResult><Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>role-secret-${this.sessions}</SecretAccessKey><SessionToken>role-token-${this.sessions}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAFAKE:${session}</AssumedRoleId><Arn>arn:aws:sts::${m[1]}:assumed-role/${m[2]}/${session}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`);
        }
        xml(400, `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${input.Action}</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
    }
}
