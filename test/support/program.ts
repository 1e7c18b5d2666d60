// Runs the Pulumi program (index.ts) under pulumi.runtime.setMocks with a given stack config and
// records every registered resource. The dynamic artifacts are handed to `artifacts`, which the
// end-to-end tests implement with the real provider host.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

export const PROJECT = "uptycs-distributor";
export const ARTIFACT_TYPE = "pulumi-nodejs:dynamic/uptycs:UptycsAgentArtifact";
const ROOT = path.resolve(__dirname, "..", "..");

export interface Registered {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    readonly state: Record<string, unknown>;
}

/** The run failed, as `pulumi up` would; `resources` were registered before it did. */
export class ProgramFailure extends Error {
    constructor(message: string, readonly resources: Registered[]) {
        super(message);
    }
}

export type ArtifactHandler = (args: pulumi.runtime.MockResourceArgs) => Promise<{ id: string; state: Record<string, unknown> }>;

export interface ProgramRun {
    readonly resources: Registered[];
    readonly outputs: Record<string, unknown>;
    byType(type: string): Registered[];
    one(type: string, name?: string): Registered;
}

/**
 * Stand-ins for provider-computed properties AWS would fill in. `versionName` plays the
 * package's history: by default a first publish (the content-derived name is free).
 */
function awsState(args: pulumi.runtime.MockResourceArgs, versionName: (contentVersion: string) => string): Record<string, unknown> {
    switch (args.type) {
        case "aws:s3/bucket:Bucket":
            return { bucket: `${args.name}-0a1b2c3` };
        case "aws:ssm/document:Document":
            return { defaultVersion: "1", latestVersion: "1" };
        case "pulumi-nodejs:dynamic/uptycs:PackageVersionName":
            return { versionName: versionName(args.inputs.contentVersion as string) };
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
    secretKeys?: string[];
    artifacts?: ArtifactHandler;
    preview?: boolean;
    versionName?: (contentVersion: string) => string;
}): Promise<ProgramRun> {
    const resources: Registered[] = [];
    // Under mocks a failed registration leaves its outputs pending forever; the engine would end
    // the deployment with the resource's error instead, so the run races its outputs with this.
    let fail: (e: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
        fail = reject;
    });
    failed.catch(() => undefined);
    const qualify = (k: string): string => (k.includes(":") ? k : `${PROJECT}:${k}`);
    pulumi.runtime.setMocks({
        newResource: async (args) => {
            if (args.type === ARTIFACT_TYPE && opts.artifacts) {
                try {
                    const { id, state } = await opts.artifacts(args);
                    resources.push({ type: args.type, name: args.name, inputs: args.inputs, state });
                    return { id, state };
                } catch (e) {
                    fail(new ProgramFailure(`${args.name}: ${(e as Error).message}`, resources));
                    throw e;
                }
            }
            const state = { ...args.inputs, ...awsState(args, opts.versionName ?? ((v) => v)) };
            resources.push({ type: args.type, name: args.name, inputs: args.inputs, state });
            return { id: `${args.name}-id`, state };
        },
        call: async (args) => args.inputs,
    }, PROJECT, "test", opts.preview ?? false);
    pulumi.runtime.setAllConfig(
        Object.fromEntries(Object.entries({ "aws:region": "us-east-1", ...opts.config }).map(([k, v]) => [qualify(k), v])),
        (opts.secretKeys ?? []).map(qualify),
    );
    for (const id of Object.keys(require.cache)) {
        if (id.startsWith(ROOT) && !id.includes(`${path.sep}node_modules${path.sep}`) && !id.includes(`${path.sep}test${path.sep}`)) {
            delete require.cache[id];
        }
    }
    const program = require(path.join(ROOT, "index.ts")) as Record<string, unknown>;
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(program)) {
        outputs[k] = await Promise.race([settle(v), failed]);
    }
    // Resources no export depends on (association, pruner, command) register later: drain them.
    await Promise.race([pulumi.runtime.disconnect(), failed]);
    return {
        resources,
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
