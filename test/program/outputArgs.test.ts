// Arguments as outputs, as a program in another language hands them over through Construct (or
// a TypeScript program passing other resources' outputs): the same package, and the same
// validation messages once the values are known.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { COMPONENT_TYPE, LEGACY_COMPONENT_TYPE } from "../../distributorPackage";
import { SHAPING_ARGUMENTS } from "../../packageArgs";
import { ROOT } from "../support/e2e";
import { mockArtifacts, ProgramRun, runProgram, TEST_ACCOUNT, unsecret } from "../support/program";

const PROGRAM = { dir: path.join(ROOT, "test", "fixtures", "output-args"), project: "output-args" };

type Given = "plain" | "outputs" | "promises";

function run(args: Record<string, unknown>, given: Given, preview = false): Promise<ProgramRun> {
    return runProgram({ program: PROGRAM, config: { args: JSON.stringify(args), as: given }, artifacts: mockArtifacts, preview, orgAccounts: { "ou-ab12-cdef3456": [{ id: "210987654321", status: "ACTIVE" }] } });
}

/** Every resource as registered: type, name and inputs (secrets unwrapped, the serialized provider left out). */
const registered = (r: ProgramRun): string[] => r.resources.map((x) => `${x.type}::${x.name}::${JSON.stringify(Object.fromEntries(Object.entries(x.inputs)
    .filter(([k]) => k !== "__provider").map(([k, v]) => [k, unsecret(v)])))}`).sort();

/**
 * The message a run fails with. An output that fails reaches the run through what waits for it:
 * the SDK then names that property first (`error serializing property "outputs": ...`).
 */
async function failure(args: Record<string, unknown>, given: Given): Promise<string> {
    try {
        await run(args, given);
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
        const plain = await run(args, "plain");
        const outputs = await run(args, "outputs");
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

    // Every argument that shapes the package, given as an output and as a promise: the same
    // resources with the same inputs, and the same outputs, as plain values. mapping and
    // mappingFile exclude each other: two sets.
    const mappingFile = path.join(ROOT, "build", `output-args-mapping-${process.pid}.json`);
    const everything: Record<string, unknown> = {
        packageName: "EdrAgent", mapping: [ENTRY], installerSource: "api", installerDir: "installers", buildDir: "build/output-args",
        tags: { team: "secops" }, association: { targets: "all" }, installOnPublish: { targets: { tagKey: "Ring", tagValues: ["canary"] } },
        keepVersions: 7, healthCheck: { timeoutSeconds: 300 }, regions: ["us-east-1", "eu-west-1"], organization: { organizationalUnitIds: ["ou-ab12-cdef3456"] },
        shareWithAccounts: ["111122223333"], overrideManualRollback: true, sensorOnly: true, agentVersion: "5.14.2.21",
    };
    const sets: [string, Record<string, unknown>][] = [
        ["mapping", everything],
        ["mappingFile", { ...Object.fromEntries(Object.entries(everything).filter(([k]) => k !== "mapping")), mappingFile }],
    ];
    before(() => {
        fs.mkdirSync(path.dirname(mappingFile), { recursive: true });
        fs.writeFileSync(mappingFile, JSON.stringify({ linux: [ENTRY], windows: [] }));
    });
    after(() => fs.rmSync(mappingFile, { force: true }));

    it("the sets below give every shaping argument", () => {
        assert.deepStrictEqual(SHAPING_ARGUMENTS.filter((k) => !sets.some(([, args]) => k in args)), []);
    });
    for (const [name, args] of sets) {
        // Promises take the same path as outputs once known: once, with mapping.
        for (const given of name === "mapping" ? ["outputs", "promises"] as const : ["outputs"] as const) {
            it(`every shaping argument as ${given} (with ${name}): the same resources, inputs and outputs as plain values`, async () => {
                const plain = await run(args, "plain");
                const other = await run(args, given);
                assert.deepStrictEqual(registered(other), registered(plain));
                assert.deepStrictEqual(other.outputs, plain.outputs);
                assert.ok(plain.byType("command:local:Command").length === 2 && plain.byType("aws:cloudformation/stackSet:StackSet").length === 1, "installOnPublish and organization took effect");
            });
        }
    }

    it("an explicit provider in another account: the version name, the pruner and the share list's own-account exclusion all use its account", async () => {
        const EXPLICIT = "222233334444";
        const r = await runProgram({
            program: PROGRAM, artifacts: mockArtifacts, providerAccounts: { explicit: EXPLICIT },
            config: { args: JSON.stringify({ mapping: [ENTRY], shareWithAccounts: [EXPLICIT, "111122223333", TEST_ACCOUNT] }), as: "plain", providerRegion: "eu-west-1" },
        });
        assert.strictEqual(r.one("pulumi-nodejs:dynamic/uptycs:PackageVersionName").inputs.accountId, EXPLICIT);
        assert.strictEqual(r.one("pulumi-nodejs:dynamic/uptycs:DistributorVersionPruner").inputs.accountId, EXPLICIT);
        assert.deepStrictEqual(r.one("aws:ssm/document:Document").inputs.permissions, { type: "Share", accountIds: ["111122223333", TEST_ACCOUNT].join(",") },
            "shared with the default provider's account too, never with the publishing one");
        assert.ok(r.invokes.filter((i) => i.token === "aws:index/getCallerIdentity:getCallerIdentity").every((i) => i.provider?.includes("explicit")), "asked through the component's provider only");
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
            const plain = await failure(args, "plain");
            assert.ok(plain.startsWith(`args.${argument} `), `${argument}: ${plain}`);
            assert.strictEqual(await failure(args, "outputs"), plain, argument);
        }
    });
});
