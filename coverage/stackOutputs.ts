/**
 * What the coverage report reads of a stack: its outputs as `pulumi stack output --json` prints
 * them (`packageName`, `agentVersion`, `build`, `regions`, `rollout`), from a file or from the
 * Pulumi CLI. Checked against a JSON schema (ajv): a missing or mistyped output is named.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import Ajv, { ErrorObject } from "ajv";
import { Build } from "../platforms/coverage";
import { agentVersionOf } from "../platforms/version";

/** What the report needs of the stack. */
export interface CoverageStack {
    readonly packageName: string;
    /** The agent version published (`agentVersion`). */
    readonly agentVersion: string;
    readonly build: Build;
    /** Region → the agent version its fleet association installs, and the association's name (absent: the stack installs nothing). */
    readonly regions: Readonly<Record<string, { readonly fleetVersion: string; readonly fleetAssociation?: string }>>;
}

interface StackOutputs {
    packageName: string;
    agentVersion: string;
    build: Build;
    regions: Record<string, { documentVersion: string; fleetAssociation?: string }>;
    rollout?: Record<string, { fleetVersion: string }>;
}

const SCHEMA = {
    type: "object",
    required: ["packageName", "agentVersion", "build", "regions"],
    properties: {
        packageName: { type: "string", minLength: 1 },
        agentVersion: { type: "string", pattern: "^[0-9]+(\\.[0-9]+){1,5}$" },
        build: { enum: ["protect", "sensor-only"] },
        regions: {
            type: "object", minProperties: 1,
            additionalProperties: {
                type: "object", required: ["documentVersion"],
                properties: { documentVersion: { type: "string" }, fleetAssociation: { type: "string", minLength: 1 } },
            },
        },
        rollout: { type: "object", additionalProperties: { type: "object", required: ["fleetVersion"], properties: { fleetVersion: { type: "string" } } } },
    },
} as const;

const validate = new Ajv({ allErrors: false }).compile<StackOutputs>(SCHEMA);

function schemaProblem(e: ErrorObject): string {
    const at = e.instancePath.replace(/^\//, "").replace(/\//g, ".");
    if (e.keyword === "required") {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        return `output '${at === "" ? missing : `${at}.${missing}`}' is missing${at === "" ? " (a stack last updated before its outputs had it: run pulumi up once)" : ""}`;
    }
    return `output '${at}' ${e.message ?? "is not valid"}`;
}

/**
 * The report's view of the stack outputs. Each region's fleet version is the agent version of the
 * package version its fleet association is pinned to (`rollout.<region>.fleetVersion`, mid-rollout
 * older than the one published), else the published one.
 * @throws Error naming `source` and the output that is missing or wrong.
 */
export function parseStackOutputs(outputs: unknown, source: string): CoverageStack {
    if (!validate(outputs)) {
        throw new Error(`${source}: ${schemaProblem(validate.errors![0])}`);
    }
    const regions: Record<string, { fleetVersion: string; fleetAssociation?: string }> = {};
    for (const [region, r] of Object.entries(outputs.regions)) {
        const pinned = outputs.rollout?.[region]?.fleetVersion;
        regions[region] = {
            fleetVersion: (pinned === undefined ? undefined : agentVersionOf(pinned)) ?? outputs.agentVersion,
            ...(r.fleetAssociation === undefined ? {} : { fleetAssociation: r.fleetAssociation }),
        };
    }
    return Object.freeze({ packageName: outputs.packageName, agentVersion: outputs.agentVersion, build: outputs.build, regions: Object.freeze(regions) });
}

/**
 * The stack outputs: from `file`, or from `pulumi stack output --json [--stack <stack>]` run in
 * the current directory.
 * @throws Error naming the file or the command, and what failed.
 */
export async function readStackOutputs(file: string | undefined, stack: string | undefined): Promise<CoverageStack> {
    if (file !== undefined) {
        let text: string;
        try {
            text = await fs.promises.readFile(file, "utf8");
        } catch (e) {
            throw new Error(`--outputs ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
        }
        return parseStackOutputs(parseJson(text, `--outputs ${file}`), `--outputs ${file}`);
    }
    const args = ["stack", "output", "--json", ...(stack === undefined ? [] : ["--stack", stack])];
    const command = `pulumi ${args.join(" ")}`;
    const text = await new Promise<string>((resolve, reject) => {
        execFile("pulumi", args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error !== null) {
                const why = (error as NodeJS.ErrnoException).code === "ENOENT" ? "the Pulumi CLI is not on PATH (or pass --outputs <file>)" : (stderr.trim() || error.message);
                reject(new Error(`${command} failed: ${why}`));
            } else {
                resolve(stdout);
            }
        });
    });
    return parseStackOutputs(parseJson(text, command), command);
}

function parseJson(text: string, source: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        throw new Error(`${source} is not JSON`);
    }
}
