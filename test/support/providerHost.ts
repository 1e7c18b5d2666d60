// Drives @pulumi/pulumi's own dynamic-provider host (the process the engine starts for dynamic
// resources) over gRPC, with a `__provider` captured from a mock run of the program.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import { SECRET_SIG } from "./program";

export type Props = Record<string, unknown>;

/**
 * `value` with every secret replaced by its plain value: what the engine sends a provider that
 * does not accept secrets, as the dynamic-provider host does not (it marks the outputs secret again).
 */
export function withoutSecretMarkers(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(withoutSecretMarkers);
    }
    if (value !== null && typeof value === "object") {
        const v = value as Record<string, unknown>;
        if (v[SECRET_SIG.key] === SECRET_SIG.secret) {
            return withoutSecretMarkers(v.value);
        }
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutSecretMarkers(x)]));
    }
    return value;
}

/**
 * The port a provider process the SDK serves (`provider.main`) listens on: the number it prints
 * on stdout once its gRPC server is up. Rejects with its stderr when it exits first.
 */
export function servingPort(child: ChildProcess, stderr: () => string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (d: Buffer) => {
            out += d.toString();
            const m = /^(\d+)\s*$/m.exec(out);
            if (m) {
                resolve(m[1]);
            }
        });
        child.once("exit", (code) => reject(new Error(`provider process exited with ${code}: ${stderr()}`)));
    });
}

/** The dynamic-provider host of the @pulumi/pulumi that a program in `dir` loads. */
const hostScript = (dir: string): string => path.join(path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [dir] })), "cmd", "dynamic-provider", "index.js");

interface ChangeRequest {
    setId(id: string): void;
    setUrn(urn: string): void;
    setOlds(s: Struct): void;
    setNews(s: Struct): void;
}

/** Fills the id, urn, old state and new inputs shared by Diff and Update requests. */
function withChange<R extends ChangeRequest>(req: R, id: string, urn: string, olds: Props, news: Props): R {
    req.setId(id);
    req.setUrn(urn);
    req.setOlds(Struct.fromJavaScript(olds as never));
    req.setNews(Struct.fromJavaScript(news as never));
    return req;
}

/** Everything the host printed on stderr (checked for leaked secrets). */
export class ProviderHost {
    stderr = "";
    private constructor(private readonly child: ChildProcess, private readonly client: provrpc.ResourceProviderClient) {}

    /**
     * Starts the host of the program in `cwd` in plain node (no ts-node), as the engine would.
     * `env` adds to this process's environment (which carries NODE_EXTRA_CA_CERTS).
     */
    static async start(cwd: string, env: NodeJS.ProcessEnv = {}, project = "uptycs-distributor"): Promise<ProviderHost> {
        const child = spawn(process.execPath, [hostScript(cwd), "127.0.0.1:1"], {
            cwd,
            env: { ...process.env, PULUMI_NODEJS_PROJECT: project, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stderr = "";
        child.stderr!.on("data", (d: Buffer) => { stderr += d.toString(); });
        const port = await servingPort(child, () => stderr);
        const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        const host = new ProviderHost(child, client);
        child.stderr!.removeAllListeners("data");
        host.stderr = stderr;
        child.stderr!.on("data", (d: Buffer) => { host.stderr += d.toString(); });
        return host;
    }

    private call<Req, Res>(method: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req): Promise<Res> {
        return new Promise((resolve, reject) => {
            method.call(this.client, req, (err, res) => (err ? reject(new Error(err.details || err.message)) : resolve(res)));
        });
    }

    /** Configure with stack config (`project:key` → value), as the engine does. */
    async configure(config: Record<string, string>): Promise<void> {
        const req = new provproto.ConfigureRequest();
        req.setArgs(Struct.fromJavaScript(config as never));
        await this.call(this.client.configure, req);
    }

    async check(urn: string, olds: Props, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }> {
        const req = new provproto.CheckRequest();
        req.setUrn(urn);
        req.setOlds(Struct.fromJavaScript(olds as never));
        req.setNews(Struct.fromJavaScript(news as never));
        const res = await this.call<provproto.CheckRequest, provproto.CheckResponse>(this.client.check, req);
        return {
            inputs: res.getInputs()!.toJavaScript() as Props,
            failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
        };
    }

    /** The engine's view of the diff: DIFF_SOME / DIFF_NONE. */
    async diff(id: string, urn: string, olds: Props, news: Props): Promise<{ changes: boolean; replaces: string[] }> {
        const req = withChange(new provproto.DiffRequest(), id, urn, olds, news);
        const res = await this.call<provproto.DiffRequest, provproto.DiffResponse>(this.client.diff, req);
        return { changes: res.getChanges() === provproto.DiffResponse.DiffChanges.DIFF_SOME, replaces: res.getReplacesList() };
    }

    async create(urn: string, props: Props): Promise<{ id: string; outs: Props }> {
        const req = new provproto.CreateRequest();
        req.setUrn(urn);
        req.setProperties(Struct.fromJavaScript(props as never));
        const res = await this.call<provproto.CreateRequest, provproto.CreateResponse>(this.client.create, req);
        return { id: res.getId(), outs: res.getProperties()!.toJavaScript() as Props };
    }

    async update(id: string, urn: string, olds: Props, news: Props): Promise<Props> {
        const req = withChange(new provproto.UpdateRequest(), id, urn, olds, news);
        const res = await this.call<provproto.UpdateRequest, provproto.UpdateResponse>(this.client.update, req);
        return res.getProperties()!.toJavaScript() as Props;
    }

    async delete(id: string, urn: string, props: Props): Promise<void> {
        const req = new provproto.DeleteRequest();
        req.setId(id);
        req.setUrn(urn);
        req.setProperties(Struct.fromJavaScript(props as never));
        await this.call(this.client.delete, req);
    }

    /** Check as the engine sends it (secrets unwrapped); a failure throws, naming each property. */
    private async checked(urn: string, inputs: Props, old?: { outs: Props }): Promise<{ inputs: Props }> {
        const checked = await this.check(urn, old?.outs ?? {}, withoutSecretMarkers(inputs) as Props);
        if (checked.failures.length > 0) {
            throw new Error(`check failed: ${checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
        }
        return checked;
    }

    /**
     * What the engine does for one dynamic resource in `pulumi up`: check, then create (no old
     * state) or diff and, when it changed, update. Returns the new state and whether it changed.
     */
    async up(urn: string, inputs: Props, old?: { id: string; outs: Props }): Promise<{ id: string; outs: Props; changed: boolean }> {
        const checked = await this.checked(urn, inputs, old);
        if (old === undefined) {
            return { ...(await this.create(urn, checked.inputs)), changed: true };
        }
        const { changes } = await this.diff(old.id, urn, old.outs, checked.inputs);
        if (!changes) {
            return { ...old, changed: false };
        }
        return { id: old.id, outs: await this.update(old.id, urn, old.outs, checked.inputs), changed: true };
    }

    /**
     * What the engine does for one dynamic resource in `pulumi preview`: check, and diff against
     * the old state; nothing is created or updated. Returns what preview shows: the old state
     * when unchanged, else the checked inputs.
     */
    async preview(urn: string, inputs: Props, old?: { id: string; outs: Props }): Promise<{ id: string; outs: Props; changed: boolean }> {
        const checked = await this.checked(urn, inputs, old);
        if (old === undefined) {
            return { id: "", outs: checked.inputs, changed: true };
        }
        const { changes } = await this.diff(old.id, urn, old.outs, checked.inputs);
        return changes ? { id: old.id, outs: checked.inputs, changed: true } : { ...old, changed: false };
    }

    /**
     * One dynamic resource of a program run, as the engine steps it in `pulumi up` (or, with
     * `preview`, `pulumi preview`), against the stack's `state` (by resource name), which an up
     * updates.
     */
    async step(type: string, name: string, inputs: Props, state: Map<string, { id: string; outs: Props }>, preview: boolean): Promise<{ id: string; outs: Props; changed: boolean }> {
        const urn = `urn:pulumi:test::uptycs-distributor::${type}::${name}`;
        const r = preview ? await this.preview(urn, inputs, state.get(name)) : await this.up(urn, inputs, state.get(name));
        if (!preview) {
            state.set(name, { id: r.id, outs: r.outs });
        }
        return r;
    }

    /** The host's peak resident set size so far in bytes (Linux VmHWM), or undefined elsewhere. */
    peakRssBytes(): number | undefined {
        try {
            const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${this.child.pid}/status`, "utf8"));
            return m ? Number(m[1]) * 1024 : undefined;
        } catch {
            return undefined;
        }
    }

    /** CPU seconds (user + system) the host has used so far (Linux /proc), or undefined elsewhere. */
    cpuSeconds(): number | undefined {
        try {
            const stat = fs.readFileSync(`/proc/${this.child.pid}/stat`, "utf8");
            // Fields after the command name: state is field 3, utime 14, stime 15 (clock ticks, 100 a second).
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            return (Number(fields[11]) + Number(fields[12])) / 100;
        } catch {
            return undefined;
        }
    }

    /** Kills the host at once, as a crash would. */
    kill(): void {
        this.child.kill("SIGKILL");
    }

    async stop(): Promise<void> {
        this.client.close();
        // A host killed by a signal has signalCode set and exitCode null: it has exited already.
        if (this.child.exitCode === null && this.child.signalCode === null) {
            const exited = new Promise((resolve) => this.child.once("exit", resolve));
            this.child.kill();
            await exited;
        }
    }
}
