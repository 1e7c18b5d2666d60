// The resource graph of a representative program (two regions, two rings, an organization, a
// one-time install, shares), URN by URN: each resource's URN, aliases, provider, dependencies and
// replacement option, and the stack's outputs, against test/fixtures/graph/representative.json.
// A refactoring of the component must leave it unchanged, or existing stacks would see resources
// replaced or lost. After a deliberate change: UPDATE_GRAPH=1 writes the fixture anew.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ARTIFACT_TYPE, mockArtifacts, mockKeyFile, runProgram } from "../support/program";

const FIXTURE = path.join(__dirname, "..", "fixtures", "graph", "representative.json");
const ring = (value: string): { tagKey: string; tagValues: string[] } => ({ tagKey: "uptycs-ring", tagValues: [value] });

describe("the resource graph of a representative program", function () {
    this.timeout(120_000);

    it("is unchanged, URN by URN (aliases, providers, dependencies, options) and output by output", async () => {
        const run = await runProgram({
            config: {
                apiKeyFile: mockKeyFile(),
                regions: JSON.stringify(["us-east-1", "eu-west-1"]),
                shareWithAccounts: JSON.stringify(["123456789013"]),
                organization: JSON.stringify({ organizationalUnitIds: ["ou-ab12-cdef3456"] }),
                association: JSON.stringify({ targets: ring("fleet"), stages: [{ name: "canary", targets: ring("canary") }, { name: "early", targets: ring("early"), maxConcurrency: "1" }] }),
                installOnPublish: JSON.stringify({ targets: ring("fleet") }),
            },
            orgAccounts: { "ou-ab12-cdef3456": [{ id: "210987654321", status: "ACTIVE" }] },
            // Every dynamic resource answers from its inputs, as its provider would on a first up.
            dynamic: async (args: pulumi.runtime.MockResourceArgs) => {
                if (args.type === ARTIFACT_TYPE) {
                    return mockArtifacts(args);
                }
                const extra: Record<string, unknown> = args.type.endsWith(":PackageVersionName") ? { versionName: args.inputs.contentVersion }
                    : args.type.endsWith(":RolloutGate") ? { approvedVersion: args.inputs.version, succeeded: 1, failed: 0, total: 1 } : {};
                return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
            },
        });
        const graph = {
            resources: run.resources.map((r) => ({
                urn: r.options.urn, aliases: [...r.aliases].sort(), aliasTypes: [...r.aliasTypes].sort(), provider: r.options.provider,
                dependencies: [...r.options.dependencies].sort(), deleteBeforeReplace: r.options.deleteBeforeReplace,
            })).sort((a, b) => a.urn.localeCompare(b.urn)),
            outputs: run.outputs,
        };
        if (process.env.UPDATE_GRAPH === "1") {
            fs.writeFileSync(FIXTURE, `${JSON.stringify(graph, null, 2)}\n`);
        }
        const expected = JSON.parse(fs.readFileSync(FIXTURE, "utf8")) as typeof graph;
        assert.deepStrictEqual(graph.resources.map((r) => r.urn), expected.resources.map((r) => r.urn), "the same URNs");
        assert.deepStrictEqual(graph, expected);
    });
});
