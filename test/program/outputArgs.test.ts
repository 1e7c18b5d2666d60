// Arguments as outputs, as a program in another language hands them over through Construct (or
// a TypeScript program passing other resources' outputs): the same package, and the same
// validation messages once the values are known.
import * as assert from "assert";
import * as path from "path";
import { COMPONENT_TYPE, LEGACY_COMPONENT_TYPE } from "../../distributorPackage";
import { ROOT } from "../support/e2e";
import { mockArtifacts, ProgramRun, runProgram, unsecret } from "../support/program";

const PROGRAM = { dir: path.join(ROOT, "test", "fixtures", "output-args"), project: "output-args" };

function run(args: Record<string, unknown>, asOutputs: boolean, preview = false): Promise<ProgramRun> {
    return runProgram({ program: PROGRAM, config: { args: JSON.stringify(args), asOutputs: String(asOutputs) }, artifacts: mockArtifacts, preview });
}

/**
 * The message a run fails with. An output that fails reaches the run through what waits for it:
 * the SDK then names that property first (`error serializing property "outputs": ...`).
 */
async function failure(args: Record<string, unknown>, asOutputs: boolean): Promise<string> {
    try {
        await run(args, asOutputs);
    } catch (e) {
        return (e as Error).message.replace(/^error serializing property "[^"]*": /, "");
    }
    assert.fail(`${JSON.stringify(args)} was accepted`);
}

const ENTRY = { upt_package: "centos", dir: "UPT_PRO_REDHAT_x86_64", name: "redhat", major_version: "_any", minor_version: "", arch_type: "x86_64" };

describe("arguments given as outputs", function () {
    this.timeout(120_000);

    it("build the same package as plain values", async () => {
        const args = {
            packageName: "EdrAgent", mapping: [ENTRY], tags: { team: "secops" }, regions: ["us-east-1", "eu-west-1"], keepVersions: 5,
            association: { targets: { tagKey: "Baseline", tagValues: ["security"] }, installationType: "In-place update" },
            shareWithAccounts: ["111122223333"], installerSource: "api",
            // Its fields known only later: checked then, and handed to each region's provider.
            awsCredentials: { profile: "secops", assumeRoles: [{ roleArn: "arn:aws:iam::123456789012:role/publisher", sessionName: "uptycs" }] },
        };
        const plain = await run(args, false);
        const outputs = await run(args, true);
        const shape = (r: ProgramRun): string[] => r.resources.map((x) => `${x.type}::${x.name}`).sort();
        assert.deepStrictEqual(shape(outputs), shape(plain));
        assert.deepStrictEqual(outputs.outputs, plain.outputs);
        assert.deepStrictEqual(Object.keys(outputs.outputs.regions as object), ["us-east-1", "eu-west-1"]);
        const association = (r: ProgramRun): unknown => r.byType("aws:ssm/association:Association").map((a) => a.inputs);
        assert.deepStrictEqual(association(outputs), association(plain));
        assert.strictEqual(outputs.byType("aws:ssm/document:Document").length, 2);
        const providers = (r: ProgramRun): unknown[] => r.byType("pulumi:providers:aws").map((p) => Object.fromEntries(Object.entries(p.inputs).map(([k, v]) => [k, unsecret(v)])));
        assert.deepStrictEqual(providers(outputs), providers(plain));
        assert.deepStrictEqual(outputs.byType("pulumi:providers:aws").map((p) => p.secretInputs), plain.byType("pulumi:providers:aws").map((p) => p.secretInputs));
        assert.deepStrictEqual(providers(outputs).map((p) => (p as { profile?: string }).profile), ["secops", "secops"]);
        // The type other languages construct it by, aliased from the one existing stacks hold.
        assert.deepStrictEqual(plain.one(COMPONENT_TYPE, "uptycs").aliasTypes, [LEGACY_COMPONENT_TYPE]);
    });

    it("are checked once known, with the messages plain values get", async () => {
        const cases: [string, Record<string, unknown>][] = [
            ["keepVersions", { keepVersions: 99 }],
            ["packageName", { packageName: "AWS-Reserved" }],
            ["installerSource", { installerSource: "ftp" }],
            ["regions", { regions: ["mars-1"] }],
            ["mapping", { mapping: [{ ...ENTRY, arch_type: "sparc" }] }],
            ["tags", { tags: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"])) }],
            ["association", { association: { targets: "some" } }],
            ["organization", { organization: { organizationalUnitIds: ["nope"] } }],
            ["awsCredentials.assumeRoles[0].roleArn", { awsCredentials: { assumeRoles: [{ roleArn: "admin" }] } }],
        ];
        for (const [argument, args] of cases) {
            const plain = await failure(args, false);
            assert.ok(plain.startsWith(`args.${argument} `), `${argument}: ${plain}`);
            assert.strictEqual(await failure(args, true), plain, argument);
        }
    });
});
