// A local stand-in for the two SSM API actions the package-version resources call
// (ListDocumentVersions, DeleteDocument), speaking the AWS JSON 1.1 protocol on 127.0.0.1, so the
// serialized providers can run in the real dynamic-provider host with the real AWS SDK
// (pointed here by AWS_ENDPOINT_URL_SSM).
import * as http from "http";
import { AddressInfo } from "net";

export interface FakeDocumentVersion {
    DocumentVersion: string;
    VersionName: string;
    IsDefaultVersion: boolean;
}

export class FakeSsm {
    /** Document name → versions. */
    readonly documents = new Map<string, FakeDocumentVersion[]>();
    readonly calls: { action: string; input: Record<string, unknown> }[] = [];
    private server?: http.Server;

    static async start(): Promise<FakeSsm> {
        const ssm = new FakeSsm();
        ssm.server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (d: Buffer) => { body += d.toString(); });
            req.on("end", () => ssm.handle(String(req.headers["x-amz-target"] ?? ""), body, res));
        });
        await new Promise<void>((resolve) => ssm.server!.listen(0, "127.0.0.1", resolve));
        return ssm;
    }

    get endpoint(): string {
        return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    }

    /** Environment for a process whose AWS SDK should talk to this server. */
    env(): NodeJS.ProcessEnv {
        return { AWS_ENDPOINT_URL_SSM: this.endpoint, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" };
    }

    async stop(): Promise<void> {
        await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    }

    private handle(target: string, body: string, res: http.ServerResponse): void {
        const action = target.replace(/^AmazonSSM\./, "");
        const input = JSON.parse(body || "{}") as Record<string, unknown>;
        this.calls.push({ action, input });
        const send = (status: number, payload: unknown): void => {
            res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
            res.end(JSON.stringify(payload));
        };
        const versions = this.documents.get(String(input.Name));
        if (versions === undefined) {
            return send(400, { __type: "InvalidDocument", message: `Document ${String(input.Name)} does not exist.` });
        }
        if (action === "ListDocumentVersions") {
            return send(200, { DocumentVersions: versions.map((v) => ({ Name: input.Name, ...v })) });
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
}
