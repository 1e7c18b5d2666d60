// One `pulumi up` as the engine would run it, without the engine: the program under mocks, each
// UptycsAgentArtifact executed by a fresh dynamic-provider host against the local Uptycs API, its
// state kept between runs like a stack's state.
import * as fs from "fs";
import * as path from "path";
import { FakeUptycsApi } from "./fakeUptycsApi";
import { ProgramRun, runProgram } from "./program";
import { Props, ProviderHost } from "./providerHost";

export const ROOT = path.resolve(__dirname, "..", "..");

/** Keys read as the package's provider settings, `uptycs:<key>`, as a user sets them. */
const PROVIDER_SETTINGS = ["apiKey", "apiKeyFile", "requestTimeout", "requestRetries", "requestBackoff"];
/** The full config key a test's short key stands for: a provider setting, or this project's. */
const configKey = (k: string): string => (k.includes(":") ? k : PROVIDER_SETTINGS.includes(k) ? `uptycs:${k}` : `uptycs-distributor:${k}`);

/** A stack: its config, its artifact state, and what each run did. */
export class TestStack {
    readonly state = new Map<string, { id: string; outs: Props }>();
    hostLog = "";
    /** Peak RSS of the last run's provider host, bytes. */
    lastHostPeakRss?: number;
    /** CPU seconds (user + system) of the last run's provider host. */
    lastHostCpuSeconds?: number;
    lastChanged: string[] = [];

    constructor(readonly api: FakeUptycsApi, readonly buildDir: string, readonly keyFile: string) {}

    /** A stack building into `buildDir` (relative to the project; default a fresh test folder). */
    static create(api: FakeUptycsApi, name: string, buildDir = path.join("build", `test-${name}-${process.pid}`)): TestStack {
        fs.rmSync(path.join(ROOT, buildDir), { recursive: true, force: true });
        const keyFile = path.join(ROOT, buildDir, "key.json");
        fs.mkdirSync(path.dirname(keyFile), { recursive: true });
        fs.writeFileSync(keyFile, JSON.stringify(api.apiKey()));
        return new TestStack(api, buildDir, keyFile);
    }

    /** Runs `use` with a fresh stack, then removes its build folder whatever happened. */
    static async using<T>(api: FakeUptycsApi, name: string, use: (stack: TestStack) => Promise<T>): Promise<T> {
        const stack = TestStack.create(api, name);
        try {
            return await use(stack);
        } finally {
            stack.remove();
        }
    }

    /** Another stack of the same checkout (same build folder), with `api`'s key file in `keyFileName`. */
    static share(api: FakeUptycsApi, other: TestStack, keyFileName: string): TestStack {
        const keyFile = path.join(ROOT, other.buildDir, keyFileName);
        fs.writeFileSync(keyFile, JSON.stringify(api.apiKey()));
        return new TestStack(api, other.buildDir, keyFile);
    }

    private host?: ProviderHost;

    /** SIGKILLs the provider host of the run in progress. */
    killHost(): void {
        this.host?.kill();
    }

    /** Replaces the key file's content (an object is written as JSON). */
    writeKey(content: Record<string, unknown> | string): void {
        fs.writeFileSync(this.keyFile, typeof content === "string" ? content : JSON.stringify(content));
    }

    /** Files under the build folder (relative paths), for checking what a failed run left. */
    files(): string[] {
        const root = path.join(ROOT, this.buildDir);
        return fs.existsSync(root) ? (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(root, f)).isFile()) : [];
    }

    /**
     * Runs `pulumi up` (or, with `preview`, `pulumi preview`: check and diff only) with `config`
     * (plus the key file and build folder; short keys are provider settings or this project's)
     * and returns the run. `program`: another program than index.ts, in a folder of its own.
     */
    async up(config: Record<string, string> = {}, secretKeys: string[] = [], env: NodeJS.ProcessEnv = {}, preview = false,
        program?: { dir: string; project: string }): Promise<ProgramRun> {
        const credentials: Record<string, string> = "apiKey" in config || "uptycs:apiKey" in config ? {} : { apiKeyFile: this.keyFile };
        const full = Object.fromEntries(Object.entries({ ...credentials, buildDir: this.buildDir, requestTimeout: "2", requestRetries: "2", requestBackoff: "0.02", ...config })
            .map(([k, v]) => [configKey(k), v]));
        const host = await ProviderHost.start(ROOT, env);
        this.host = host;
        this.lastChanged = [];
        // Like the engine, a failed run still lets the operations in flight finish.
        const inFlight: Promise<unknown>[] = [];
        try {
            await host.configure(full);
            return await runProgram({
                program,
                config: full,
                secretKeys: secretKeys.map(configKey),
                preview,
                artifacts: async (args) => {
                    const op = host.step(args.type, args.name, args.inputs as Props, this.state, preview);
                    inFlight.push(op);
                    const r = await op;
                    if (r.changed) {
                        this.lastChanged.push(args.name);
                    }
                    return { id: r.id, state: r.outs };
                },
            });
        } finally {
            await Promise.allSettled(inFlight);
            this.lastHostPeakRss = host.peakRssBytes();
            this.lastHostCpuSeconds = host.cpuSeconds();
            await host.stop();
            this.hostLog += host.stderr;
        }
    }

    remove(): void {
        fs.rmSync(path.join(ROOT, this.buildDir), { recursive: true, force: true });
    }
}
