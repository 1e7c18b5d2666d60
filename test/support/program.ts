// Runs the Pulumi program (index.ts) under pulumi.runtime.setMocks with a given stack config and
// records every registered resource. The dynamic artifacts are handed to `artifacts`, which the
// end-to-end tests implement with the real provider host.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

export const PROJECT = "uptycs-distributor";
export const ARTIFACT_TYPE = "pulumi-nodejs:dynamic/uptycs:UptycsAgentArtifact";
/** The resource name of the program's artifact (and, with `-zip`, zip object) for mapping `dir`. */
export const named = (dir: string): string => `uptycs-${dir}`;
/** The account the mocked stack's aws provider deploys to. */
export const TEST_ACCOUNT = "123456789012";
const ROOT = path.resolve(__dirname, "..", "..");

export interface Registered {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    readonly state: Record<string, unknown>;
    /** Input names the program sent as Pulumi secrets (the mock hands `inputs` over unwrapped). */
    readonly secretInputs: string[];
    /** The names of its aliases (the names it had before, under the same parent and type). */
    readonly aliases: string[];
    /** The types its aliases give (the type tokens it had before), where they give one. */
    readonly aliasTypes: string[];
    /** Resource options as the program asked the engine for them (the mock hands newResource none). */
    readonly options: RegisteredOptions;
}

/** What a registration asks of the engine besides inputs: read off the request the monitor receives. */
export interface RegisteredOptions {
    /** Its URN, from its parent's (the engine's rule: the parent's type chain, `$`, its type, `::`, its name). */
    readonly urn: string;
    /** Its explicit provider reference (`urn::id`), if any. */
    readonly provider: string;
    readonly deleteBeforeReplace: boolean;
    /** URNs of the resources it depends on (`dependsOn`, and those its inputs come from). */
    readonly dependencies: string[];
}

/** The alias specs of one registration, as the monitor receives them. */
interface AliasProto {
    getUrn(): string;
    getSpec(): { getName(): string; getType(): string } | undefined;
}
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getAliasesList(): AliasProto[];
    getDeletebeforereplace(): boolean;
    getDependenciesList(): string[];
    getParent(): string;
    getProvider(): string;
}

/** A resource's URN as the engine makes it from its parent's URN (none: the stack), type and name. */
function urnOf(project: string, parent: string, type: string, name: string): string {
    const parentType = parent === "" ? "" : parent.split("::")[2];
    const qualified = parentType === "" || parentType === "pulumi:pulumi:Stack" ? type : `${parentType}$${type}`;
    return `urn:pulumi:test::${project}::${qualified}::${name}`;
}
type MonitorWithRegister = { registerResource(req: RegisterRequest, callback: unknown): Promise<void> };

/** A registered input's value: the mock hands some secret inputs over still wrapped. */
export function unsecret<T = unknown>(value: unknown): T {
    const v = value as Record<string, unknown> | null;
    return (v !== null && typeof v === "object" && v[SECRET_SIG.key] === SECRET_SIG.secret ? v.value : value) as T;
}

// The mock monitor deserializes each registration's inputs, dropping the secret markers. Wrap the
// runtime's deserializer once to remember which top-level inputs arrived as secrets.
/** The wire form of a secret value: `{ [key]: secret, value }`. */
export const SECRET_SIG = { key: "4dabf18193072939515e22adb298388d", secret: "1b47061264138c4ac30d75fd1eb44270" };
const secretInputsOf = new WeakMap<object, string[]>();
type Rpc = { deserializeProperties: (s: { toJavaScript(): Record<string, unknown> }, keep?: boolean) => Record<string, unknown>; __secretsTracked?: boolean };

/**
 * The @pulumi/pulumi that the program in `programDir` loads (another project has its own copy),
 * its deserializer wrapped once to remember secret inputs.
 */
function pulumiOf(programDir: string): typeof pulumi {
    const sdk = require(require.resolve("@pulumi/pulumi", { paths: [programDir] })) as typeof pulumi;
    const rpc = require(require.resolve("@pulumi/pulumi/runtime/rpc", { paths: [programDir] })) as Rpc;
    if (!rpc.__secretsTracked) {
        const deserialize = rpc.deserializeProperties;
        rpc.deserializeProperties = (struct, keep) => {
            const result = deserialize(struct, keep);
            const raw = struct.toJavaScript();
            secretInputsOf.set(result, Object.keys(raw).filter((k) => (raw[k] as Record<string, unknown> | null)?.[SECRET_SIG.key] === SECRET_SIG.secret));
            return result;
        };
        rpc.__secretsTracked = true;
    }
    return sdk;
}

/** The run failed, as `pulumi up` would; `resources` were registered before it did. */
export class ProgramFailure extends Error {
    constructor(message: string, readonly resources: Registered[]) {
        super(message);
    }
}

export type ArtifactHandler = (args: pulumi.runtime.MockResourceArgs) => Promise<{ id: string; state: Record<string, unknown> }>;

/**
 * Artifacts for runs that test the graph, not the zips: the state a built zip would have
 * (agent 5.14.2.21; as the real provider does, one zip per installer package and arch, each
 * entry its own path), without building or downloading anything.
 */
export const mockArtifacts: ArtifactHandler = async (args) => {
    const entry = args.inputs.entry as { dir: string; upt_package: string; arch_type: string };
    const sha = Buffer.from(`${entry.upt_package}/${entry.arch_type}`).toString("hex").padEnd(64, "a").slice(0, 64);
    return {
        id: entry.dir,
        state: { ...args.inputs, version: "5.14.2.21", zipFileName: `${entry.upt_package}-${entry.arch_type}-5.14.2.21-${sha.slice(0, 12)}.zip`, zipPath: `${entry.dir}.zip`, zipSha256: sha, zipSize: 100 },
    };
};

/** Writes a key file for mock runs (no Uptycs API is reached under mocks) in a fresh temp folder; returns its path. */
export function mockKeyFile(fields: Record<string, unknown> = {}): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-key-"));
    const file = path.join(dir, "key.json");
    fs.writeFileSync(file, JSON.stringify({ customerId: "c", key: "k", secret: "s", domain: "t", domainSuffix: ".uptycs.io", ...fields }));
    return file;
}

/** A provider function call (invoke) the program made. */
export interface Invoke {
    readonly token: string;
    readonly inputs: Record<string, unknown>;
    /** The provider reference (`urn::id`), when explicit. */
    readonly provider?: string;
}

export interface ProgramRun {
    readonly resources: Registered[];
    readonly invokes: Invoke[];
    readonly outputs: Record<string, unknown>;
    byType(type: string): Registered[];
    one(type: string, name?: string): Registered;
}

/**
 * Stand-ins for provider-computed properties AWS would fill in. `versionName` plays the
 * package's history: by default a first publish (the content-derived name is free).
 */
function awsState(args: pulumi.runtime.MockResourceArgs, versionName: (contentVersion: string, region: string) => string): Record<string, unknown> {
    switch (args.type) {
        case "aws:s3/bucket:Bucket":
            return { bucket: `${args.name}-0a1b2c3`, arn: `arn:aws:s3:::${args.name}-0a1b2c3` };
        case "aws:ssm/document:Document":
            return { defaultVersion: "1", latestVersion: "1", arn: `arn:aws:ssm:region:${TEST_ACCOUNT}:document/${String(args.inputs.name)}#${args.name}` };
        case "pulumi-nodejs:dynamic/uptycs:PackageVersionName":
            return { versionName: versionName(args.inputs.contentVersion as string, args.inputs.region as string) };
        default:
            return {};
    }
}

// Output.promise() is internal to @pulumi/pulumi but is how its own tests await outputs.
function settle(value: unknown): Promise<unknown> {
    return pulumi.Output.isInstance(value) ? (value as unknown as { promise(): Promise<unknown> }).promise() : Promise.resolve(value);
}

/**
 * Runs index.ts afresh with `config` (keys without the project prefix are put under it).
 * @param secretKeys config keys (unprefixed) marked secret.
 */
export async function runProgram(opts: {
    config: Record<string, string>;
    /** The program's folder and project name. Default this project. */
    program?: { dir: string; project: string };
    secretKeys?: string[];
    artifacts?: ArtifactHandler;
    /** Every dynamic resource (artifacts, version names, pruners), e.g. through a provider host; overrides `artifacts`. */
    dynamic?: ArtifactHandler;
    preview?: boolean;
    /** The VersionName the package's history in `region` gives `contentVersion`. Default: `contentVersion`. */
    versionName?: (contentVersion: string, region: string) => string;
    /** The account `aws.getCallerIdentity` answers. Default {@link TEST_ACCOUNT}. */
    accountId?: string;
    /** Explicit aws provider (resource name) → the account `aws.getCallerIdentity` through it answers. Default `accountId`. */
    providerAccounts?: Record<string, string>;
    /**
     * Plays the AWS provider for some resources (e.g. creates an association in a State Manager
     * stand-in): state merged over the stand-ins, given the registered inputs. Undefined: none.
     */
    awsResource?: (args: pulumi.runtime.MockResourceArgs) => Promise<Record<string, unknown> | undefined>;
    /** OU id → the accounts `aws.organizations.getOrganizationalUnitDescendantAccounts` answers. */
    orgAccounts?: Record<string, { id: string; status: string; name?: string; arn?: string; email?: string }[]>;
}): Promise<ProgramRun> {
    const resources: Registered[] = [];
    const invokes: Invoke[] = [];
    // Under mocks a failed registration leaves its outputs pending forever; the engine would end
    // the deployment with the resource's error instead, so the run races its outputs with this.
    let fail: (e: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
        fail = reject;
    });
    failed.catch(() => undefined);
    // An apply that throws fails `pulumi up` (the language host reports the unhandled error); under
    // mocks nothing else would notice, and the outputs that wait for it would never settle.
    const unhandled = (e: unknown): void => fail(new ProgramFailure((e as Error).message, resources));
    process.on("unhandledRejection", unhandled);
    const programDir = opts.program?.dir ?? ROOT;
    const project = opts.program?.project ?? PROJECT;
    const sdk = pulumiOf(programDir);
    const qualify = (k: string): string => (k.includes(":") ? k : `${project}:${k}`);
    // Explicit aws providers' regions by their id: `aws.getRegion` through one answers its region.
    const providerRegions = new Map<string, string>();
    // The mock hands newResource no aliases or options: read them off each registration request.
    const requests = new Map<string, RegisterRequest>();
    const aliasesFor = (type: string, name: string): Pick<Registered, "aliases" | "aliasTypes" | "options"> => {
        const req = requests.get(`${type}::${name}`);
        const specs = req?.getAliasesList() ?? [];
        return {
            aliases: specs.map((a) => a.getSpec()?.getName() ?? a.getUrn().split("::").pop() ?? ""),
            aliasTypes: specs.map((a) => a.getSpec()?.getType() ?? "").filter((t) => t !== ""),
            options: {
                urn: urnOf(project, req?.getParent() ?? "", type, name),
                provider: req?.getProvider() ?? "",
                deleteBeforeReplace: req?.getDeletebeforereplace() ?? false,
                dependencies: req?.getDependenciesList() ?? [],
            },
        };
    };
    sdk.runtime.setMocks({
        newResource: async (args) => {
            const handler = args.type.startsWith("pulumi-nodejs:dynamic/") && opts.dynamic ? opts.dynamic : args.type === ARTIFACT_TYPE ? opts.artifacts : undefined;
            if (handler) {
                try {
                    const { id, state } = await handler(args);
                    resources.push({ type: args.type, name: args.name, inputs: args.inputs, state, secretInputs: secretInputsOf.get(args.inputs) ?? [], ...aliasesFor(args.type, args.name) });
                    return { id, state };
                } catch (e) {
                    fail(new ProgramFailure(`${args.name}: ${(e as Error).message}`, resources));
                    throw e;
                }
            }
            let played: Record<string, unknown> | undefined;
            try {
                played = await opts.awsResource?.(args);
            } catch (e) {
                fail(new ProgramFailure(`${args.name}: ${(e as Error).message}`, resources));
                throw e;
            }
            const state = { ...args.inputs, ...awsState(args, opts.versionName ?? ((v) => v)), ...played };
            resources.push({ type: args.type, name: args.name, inputs: args.inputs, state, secretInputs: secretInputsOf.get(args.inputs) ?? [], ...aliasesFor(args.type, args.name) });
            if (args.type === "pulumi:providers:aws") {
                providerRegions.set(`${args.name}-id`, String(args.inputs.region));
            }
            return { id: `${args.name}-id`, state };
        },
        call: async (args) => {
            invokes.push({ token: args.token, inputs: args.inputs, provider: args.provider });
            switch (args.token) {
                case "aws:index/getCallerIdentity:getCallerIdentity": {
                    const provider = args.provider?.split("::").pop()?.replace(/-id$/, "");
                    const account = (provider === undefined ? undefined : opts.providerAccounts?.[provider]) ?? opts.accountId ?? TEST_ACCOUNT;
                    return { accountId: account, arn: `arn:aws:iam::${account}:user/test`, userId: "AIDATEST", id: account };
                }
                case "aws:index/getRegion:getRegion": {
                    // The default provider's region is the stack's aws:region.
                    const id = args.provider?.split("::").pop();
                    const region = id === undefined ? sdk.runtime.getConfig("aws:region") : providerRegions.get(id);
                    if (region === undefined) {
                        throw new Error(`aws.getRegion: no region for provider ${args.provider ?? "(default)"}`);
                    }
                    return { region, name: region, id: region, endpoint: `ec2.${region}.amazonaws.com`, description: region };
                }
                case "aws:organizations/getOrganizationalUnitDescendantAccounts:getOrganizationalUnitDescendantAccounts": {
                    const parentId = args.inputs.parentId as string;
                    return { parentId, id: parentId, accounts: opts.orgAccounts?.[parentId] ?? [] };
                }
                default:
                    return args.inputs;
            }
        },
    }, project, "test", opts.preview ?? false);
    const settings = require(require.resolve("@pulumi/pulumi/runtime/settings", { paths: [programDir] })) as { getMonitor(): MonitorWithRegister };
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        requests.set(`${req.getType()}::${req.getName()}`, req);
        return register(req, callback);
    };
    sdk.runtime.setAllConfig(
        Object.fromEntries(Object.entries({ "aws:region": "us-east-1", ...opts.config }).map(([k, v]) => [qualify(k), v])),
        (opts.secretKeys ?? []).map(qualify),
    );
    // A fresh program: this project's modules, and everything of a program outside it (a
    // consumer with the package installed in its own node_modules).
    for (const id of Object.keys(require.cache)) {
        const ours = id.startsWith(ROOT) && !id.includes(`${path.sep}node_modules${path.sep}`) && !id.includes(`${path.sep}test${path.sep}`);
        const theProgram = programDir !== ROOT && id.startsWith(programDir + path.sep) && !id.includes(`${path.sep}node_modules${path.sep}`);
        if (ours || theProgram) {
            delete require.cache[id];
        }
    }
    const outputs: Record<string, unknown> = {};
    try {
        const program = require(path.join(programDir, "index.ts")) as Record<string, unknown>;
        for (const [k, v] of Object.entries(program)) {
            outputs[k] = await Promise.race([settle(v), failed]);
        }
        // Resources no export depends on (association, pruner, command) register later: drain them.
        await Promise.race([sdk.runtime.disconnect(), failed]);
    } catch (e) {
        // A failed program leaves promises pending; the engine would end the process. Forget
        // them, or the runtime's exit check fails the whole mocha process for this expected failure.
        (require(require.resolve("@pulumi/pulumi/runtime/debuggable", { paths: [programDir] })) as { leakedPromises(): unknown }).leakedPromises();
        // The rest of what the failure rejects settles within a few turns: let this run's
        // listener take it, not the next run's.
        await new Promise((resolve) => setTimeout(resolve, 100));
        throw e;
    } finally {
        process.off("unhandledRejection", unhandled);
    }
    return {
        resources,
        invokes,
        outputs,
        byType: (type) => resources.filter((r) => r.type === type),
        one: (type, name) => {
            const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
            if (found.length !== 1) {
                throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
            }
            return found[0];
        },
    };
}
