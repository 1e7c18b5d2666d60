// A local stand-in for the AWS actions this program calls itself, on 127.0.0.1: SSM
// (ListDocumentVersions, DeleteDocument, and UpdateDocumentDefaultVersion as a person runs it;
// AWS JSON 1.1) and STS (GetCallerIdentity, AssumeRole;
// AWS query protocol). Each request is attributed to the access key id in its SigV4
// `Authorization` header; every known key belongs to one account, and as in AWS each account
// has its own documents in each region (the region of the SigV4 credential scope), so a request
// signed with another account's credentials, or for another region, sees another package.
// The real AWS SDK reaches it through AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_STS.
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

interface KeyOwner {
    readonly account: string;
    readonly arn: string;
}

export class FakeAws {
    /** `<account>/<region>` → document name → versions. */
    private readonly accounts = new Map<string, Map<string, FakeDocumentVersion[]>>();
    private readonly keys = new Map<string, KeyOwner>();
    readonly calls: FakeAwsCall[] = [];
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
