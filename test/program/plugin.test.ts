// The component served to programs in other languages: this checkout as `pulumi package add`
// leaves a source-based plugin package (its files, `npm install`'s node_modules, and dist/ built
// by `prepare`), its schema inferred by the SDK's component provider, the plugin started as the
// CLI starts it and asked for that schema over gRPC, and a Construct with inputs as a Python
// program sends them, which must publish what the TypeScript program publishes.
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import { COMPONENT_TYPE, LEGACY_COMPONENT_TYPE } from "../../distributorPackage";
import { ROOT, TestStack } from "../support/e2e";
import { FakeUptycsApi } from "../support/fakeUptycsApi";
import { ARTIFACT_TYPE, mockArtifacts, mockKeyFile, ProgramRun, runProgram, unsecret } from "../support/program";
import { servingPort } from "../support/providerHost";
import { requireTool } from "../support/tools";

const PACKAGE = "uptycs-distributor";
const PYTHON_EXAMPLE = path.join(ROOT, "examples", "python-baseline", "__main__.py");

/**
 * What a Python program takes from the generated SDK, read with Python's own parser: the modules
 * it imports (alias → module), the calls of `module.Name(...)` with their keyword arguments, and
 * the `variable.attribute` reads of variables assigned from such calls.
 */
const PYTHON_USES = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
imports = {a.asname or a.name: a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
calls, made_by = [], {}
for n in ast.walk(tree):
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name):
        calls.append({"module": n.func.value.id, "name": n.func.attr, "keywords": [k.arg for k in n.keywords]})
    if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Attribute) and isinstance(n.value.func.value, ast.Name):
        made_by[n.targets[0].id] = n.value.func.value.id + "." + n.value.func.attr
reads = [{"of": made_by[n.value.id], "attribute": n.attr} for n in ast.walk(tree)
         if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in made_by]
print(json.dumps({"imports": imports, "calls": calls, "reads": reads}))
`;
/** The Python SDK's name for a schema property (\`agentVersion\` → \`agent_version\`). */
const pythonName = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const MANIFEST = "aws:s3/bucketObjectv2:BucketObjectv2";

interface SchemaProperty {
    type?: string;
    $ref?: string;
    items?: SchemaProperty;
    additionalProperties?: SchemaProperty;
    description?: string;
}
interface SchemaType {
    type: string;
    properties?: Record<string, SchemaProperty>;
    required?: string[];
    enum?: { name: string; value: string; description?: string }[];
}
interface Schema {
    name: string;
    resources: Record<string, { inputProperties: Record<string, SchemaProperty>; requiredInputs: string[]; properties: Record<string, SchemaProperty>; required: string[]; description?: string }>;
    types: Record<string, SchemaType>;
}

/** A property's type in short: `string`, `array<string>`, `map<PublishedRegion>`, `AgentMappingEntry`. */
function typeOf(p: SchemaProperty): string {
    if (p.$ref !== undefined) {
        return p.$ref.split(":").pop()!;
    }
    if (p.type === "array") {
        return `array<${typeOf(p.items!)}>`;
    }
    if (p.type === "object" && p.additionalProperties !== undefined) {
        return `map<${typeOf(p.additionalProperties)}>`;
    }
    return p.type!;
}

/** Every argument (all optional) and its type; the descriptions must say what the TSDoc says. */
const INPUTS: Record<string, [type: string, descriptionSays: RegExp]> = {
    agentVersion: ["string", /`latest`.*pinned version/],
    sensorOnly: ["boolean", /sensor-only/],
    packageName: ["string", /Distributor package \(SSM document\) name/],
    bucketName: ["string", /existing bucket.*\{region\}/s],
    mapping: ["array<AgentMappingEntry>", /mapping entries/],
    mappingFile: ["string", /mapping file/],
    installerSource: ["InstallerSource", /`api` \(default\)/],
    installerDir: ["string", /installers for `local`/],
    buildDir: ["string", /build folder/],
    tags: ["map<string>", /Tags/],
    shareWithAccounts: ["array<string>", /shared with/],
    association: ["Association", /State Manager association/],
    installOnPublish: ["InstallOnPublish", /Run Command/],
    keepVersions: ["number", /versions kept/],
    overrideManualRollback: ["boolean", /set by hand/],
    healthCheck: ["HealthCheck", /agent runs/],
    regions: ["array<string>", /Regions to publish in/],
    organization: ["Organization", /organizational units/],
    apiKey: ["string", /API key.*secret/s],
    awsCredentials: ["AwsCredentials", /credentials of the explicit aws provider/],
};
/** Every output (all present) and its type. */
const OUTPUTS: Record<string, [type: string, descriptionSays: RegExp]> = {
    packageName: ["string", /package \(SSM document\) name/],
    documentVersion: ["string", /default version/],
    agentVersion: ["string", /agent version published/],
    agentBuild: ["string", /`protect` \(Uptycs Protect\) or `sensor-only`/],
    bucketName: ["string", /bucket holding the zips/],
    zips: ["map<string>", /platform\/version\/arch/],
    regions: ["map<PublishedRegion>", /Region →/],
    rollout: ["map<RegionRollout>", /ring's version/],
};
/** The string choices, as the Uptycs API and AWS take them (written out: the code derives its checks from its enums). */
const ENUMS: Record<string, string[]> = {
    InstallerSource: ["api", "local"],
    InstallationType: ["Uninstall and reinstall", "In-place update"],
    CallAs: ["SELF", "DELEGATED_ADMIN"],
    RegionConcurrencyType: ["SEQUENTIAL", "PARALLEL"],
    UptPackage: ["centos", "debian", "windows"],
    Arch: ["x86_64", "arm64"],
};

/** What a checkout holds that is not the package's source: installs, builds, caches. */
const NOT_SOURCE = new Set([".git", "node_modules", "build", "dist", "bin", ".rootfs", ".uptycs"]);

/**
 * Copies the files `pulumi package add` would get from this repository: those git tracks or
 * does not ignore, or outside a git checkout every file but installs, builds and caches.
 */
function copyCheckout(into: string): void {
    const ls = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
    const files = ls.status === 0 ? ls.stdout.split("\0")
        : (fs.readdirSync(ROOT, { recursive: true }) as string[]).filter((f) => !f.split(path.sep).some((part) => NOT_SOURCE.has(part)));
    for (const file of files.filter((f) => f !== "" && fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).isFile())) {
        fs.mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
        fs.copyFileSync(path.join(ROOT, file), path.join(into, file));
    }
}

describe("the component for Python, Go, C# and YAML programs (source-based plugin package)", function () {
    this.timeout(600_000);
    let plugin: string;
    let schema: Schema;
    let schemaText: string;

    before(() => {
        plugin = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-plugin-"));
        copyCheckout(plugin);
        assert.ok(fs.existsSync(path.join(plugin, "PulumiPlugin.yaml")), "PulumiPlugin.yaml at the package root");
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(plugin, "node_modules"));
        // What `npm install` runs in the plugin's folder: `prepare`, the build of dist/.
        const build = spawnSync("npm", ["run", "build", "--silent"], { cwd: plugin, encoding: "utf8" });
        assert.strictEqual(build.status, 0, build.stdout + build.stderr);
    });
    after(() => fs.rmSync(plugin, { recursive: true, force: true }));

    it("infers a complete schema from the installed package: every argument and output, typed and described", async () => {
        const components = getPulumiComponents(require(plugin));
        assert.deepStrictEqual(components.map((c) => c.name), ["UptycsDistributorPackage"]);
        schemaText = await new ComponentProvider({ name: PACKAGE, dirname: plugin, components }).getSchema();
        schema = JSON.parse(schemaText) as Schema;
        assert.strictEqual(schema.name, PACKAGE);
        assert.deepStrictEqual(Object.keys(schema.resources), [COMPONENT_TYPE]);
        const component = schema.resources[COMPONENT_TYPE];
        assert.match(component.description ?? "", /Distributor package/);

        assert.deepStrictEqual(Object.keys(component.inputProperties).sort(), Object.keys(INPUTS).sort());
        assert.deepStrictEqual(component.requiredInputs, [], "every argument has a default");
        for (const [name, [type, says]] of Object.entries(INPUTS)) {
            const p = component.inputProperties[name];
            assert.strictEqual(typeOf(p), type, `input ${name}`);
            assert.match(p.description ?? "", says, `input ${name}'s description`);
        }
        assert.deepStrictEqual(Object.keys(component.properties).sort(), Object.keys(OUTPUTS).sort());
        assert.deepStrictEqual(component.required, Object.keys(OUTPUTS).sort());
        for (const [name, [type, says]] of Object.entries(OUTPUTS)) {
            assert.strictEqual(typeOf(component.properties[name]), type, `output ${name}`);
            assert.match(component.properties[name].description ?? "", says, `output ${name}'s description`);
        }

        // Nested types: every field described; the string choices are enums of what is accepted.
        for (const [token, t] of Object.entries(schema.types)) {
            for (const [field, p] of Object.entries(t.properties ?? {})) {
                assert.ok((p.description ?? "").length > 10, `${token}.${field} has a description`);
            }
            for (const member of t.enum ?? []) {
                assert.ok((member.description ?? "").length > 5, `${token} ${member.name} has a description`);
            }
        }
        for (const [name, values] of Object.entries(ENUMS)) {
            assert.deepStrictEqual(schema.types[`${PACKAGE}:index:${name}`]?.enum?.map((m) => m.value), values, name);
        }
        const type = (name: string): SchemaType => schema.types[`${PACKAGE}:index:${name}`];
        assert.deepStrictEqual(type("Association").required, ["targets"]);
        assert.strictEqual(typeOf(type("Association").properties!.targets), "InstanceTarget");
        assert.strictEqual(typeOf(type("Association").properties!.stages), "array<RolloutStage>");
        assert.deepStrictEqual(type("RolloutStage").required, ["name", "targets"]);
        assert.strictEqual(typeOf(type("RegionRollout").properties!.stages), "array<StageRollout>");
        assert.deepStrictEqual(type("Organization").required, ["organizationalUnitIds"]);
        assert.strictEqual(typeOf(type("Organization").properties!.callAs), "CallAs");
        assert.strictEqual(typeOf(type("AwsCredentials").properties!.assumeRoles), "array<AwsAssumeRole>");
        assert.deepStrictEqual(type("AgentMappingEntry").required, ["arch_type", "dir", "major_version", "minor_version", "name", "upt_package"]);
    });

    it("serves that schema over gRPC when started as the CLI starts a nodejs plugin", async () => {
        assert.ok(schemaText, "the schema test ran");
        // The language host runs `node <sdk>/cmd/run-plugin <plugin folder> <engine>` in the
        // consumer's folder (here an empty one, as a Python project's is to Node.js).
        const consumer = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-python-consumer-"));
        const runPlugin = path.join(path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [plugin] })), "cmd", "run-plugin");
        const child = spawn(process.execPath, [runPlugin, plugin, "127.0.0.1:1"], { cwd: consumer, stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
        try {
            const port = await servingPort(child, () => stderr);
            const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
            const response = await new Promise<provproto.GetSchemaResponse>((resolve, reject) => {
                client.getSchema(new provproto.GetSchemaRequest(), (err, res) => (err ? reject(err) : resolve(res!)));
            });
            client.close();
            assert.deepStrictEqual(JSON.parse(response.getSchema()), schema);
        } finally {
            child.kill();
            fs.rmSync(consumer, { recursive: true, force: true });
        }
    });

    it("has a Python example that compiles and uses only the names the schema gives the SDK", function () {
        requireTool(this, "python3");
        assert.ok(schema, "the schema test ran");
        const compiled = spawnSync("python3", ["-m", "py_compile", PYTHON_EXAMPLE], {
            encoding: "utf8", env: { ...process.env, PYTHONPYCACHEPREFIX: fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-pycache-")) },
        });
        assert.strictEqual(compiled.status, 0, compiled.stderr);
        const read = spawnSync("python3", ["-c", PYTHON_USES, PYTHON_EXAMPLE], { encoding: "utf8" });
        assert.strictEqual(read.status, 0, read.stderr);
        const uses = JSON.parse(read.stdout) as {
            imports: Record<string, string>; calls: { module: string; name: string; keywords: string[] }[]; reads: { of: string; attribute: string }[];
        };
        // `pulumi package add` names the Python package pulumi_<schema name>.
        const sdk = Object.entries(uses.imports).find(([, module]) => module === `pulumi_${schema.name.replace(/-/g, "_")}`)?.[0];
        assert.ok(sdk, `the example imports pulumi_${schema.name.replace(/-/g, "_")}`);
        const component = schema.resources[COMPONENT_TYPE];
        const componentCalls = uses.calls.filter((c) => c.module === sdk);
        assert.ok(componentCalls.length > 0, "the example calls the SDK");
        for (const call of componentCalls) {
            // The component, or an input type (`<Type>Args`), with the SDK's snake_case fields.
            const properties = call.name === COMPONENT_TYPE.split(":")[2] ? component.inputProperties
                : schema.types[`${PACKAGE}:index:${call.name.replace(/Args$/, "")}`]?.properties;
            assert.ok(properties, `${sdk}.${call.name} is in the schema`);
            const names = Object.keys(properties).map(pythonName);
            for (const keyword of call.keywords) {
                assert.ok(names.includes(keyword), `${sdk}.${call.name}(${keyword}=...) is an argument of the schema (${names.join(", ")})`);
            }
        }
        const outputs = Object.keys(component.properties).map(pythonName);
        const reads = uses.reads.filter((r) => r.of === `${sdk}.${COMPONENT_TYPE.split(":")[2]}`);
        assert.ok(reads.length > 0, "the example reads the component's outputs");
        for (const r of reads) {
            assert.ok(outputs.includes(r.attribute), `.${r.attribute} is an output of the schema (${outputs.join(", ")})`);
        }
    });

    describe("Construct with inputs as a Python program sends them", () => {
        let api: FakeUptycsApi;
        let typescript: ProgramRun;
        let constructed: ProgramRun;
        let consumer: string;

        before(async () => {
            api = await FakeUptycsApi.start();
            const config = { tags: JSON.stringify({ team: "secops" }), regions: JSON.stringify(["us-east-1"]) };
            typescript = await TestStack.using(api, "plugin-ts", (stack) => stack.up(config));
            consumer = path.join(plugin, "consumer");
            fs.mkdirSync(consumer);
            fs.copyFileSync(path.join(ROOT, "test", "fixtures", "construct", "index.ts"), path.join(consumer, "index.ts"));
            constructed = await TestStack.using(api, "plugin-construct", (stack) => stack.up({}, [], {}, false, { dir: consumer, project: PACKAGE }));
        });
        after(async () => api.stop());

        it("publishes the same 17 zips (by sha256) and the same manifest as the TypeScript program", () => {
            const zips = (run: ProgramRun): Record<string, string> =>
                Object.fromEntries(run.byType(ARTIFACT_TYPE).map((a) => [a.name, a.state.zipSha256 as string]));
            assert.strictEqual(Object.keys(zips(constructed)).length, 17);
            assert.deepStrictEqual(zips(constructed), zips(typescript));
            const manifest = (run: ProgramRun): unknown => JSON.parse(run.one(MANIFEST, "uptycs-manifest-us-east-1").inputs.content as string);
            assert.deepStrictEqual(manifest(constructed), manifest(typescript));
            const doc = (run: ProgramRun): Record<string, unknown> => run.one("aws:ssm/document:Document").inputs;
            assert.deepStrictEqual(doc(constructed).tags, { team: "secops" });
            assert.deepStrictEqual(doc(constructed), doc(typescript));
        });

        it("returns the component's outputs to the engine, and keeps the API key secret", () => {
            const state = constructed.outputs.state as Record<string, unknown>;
            assert.strictEqual(state.documentVersion, typescript.outputs.documentVersion);
            assert.deepStrictEqual(state.zips, typescript.outputs.zips);
            assert.deepStrictEqual(Object.keys(state.regions as object), ["us-east-1"]);
            assert.match(constructed.outputs.urn as string, new RegExp(`::${COMPONENT_TYPE.replace(/[$:]/g, "\\$&")}::uptycs$`));
            const component = constructed.one(COMPONENT_TYPE, "uptycs");
            assert.ok(component.aliasTypes.includes(LEGACY_COMPONENT_TYPE), "aliased from the type existing stacks hold");
            for (const a of constructed.byType(ARTIFACT_TYPE)) {
                assert.ok(a.secretInputs.includes("apiKey"), `${a.name} gets the key as a secret`);
                assert.match(unsecret<string>(a.inputs.apiKey), /"customerId"/);
            }
        });

        it("honours the aws provider the program gives it (Construct's provider reference)", async () => {
            const run = await runProgram({
                program: { dir: consumer, project: PACKAGE },
                config: { "aws:region": "us-east-1", buildDir: "build/test-plugin-provider", providerRegion: "eu-west-1", "uptycs:apiKeyFile": mockKeyFile() },
                artifacts: mockArtifacts,
            });
            const state = run.outputs.state as { regions: Record<string, unknown> };
            assert.deepStrictEqual(Object.keys(state.regions), ["eu-west-1"]);
            for (const type of ["pulumi-nodejs:dynamic/uptycs:PackageVersionName", "pulumi-nodejs:dynamic/uptycs:DistributorVersionPruner"]) {
                assert.strictEqual(run.one(type).inputs.region, "eu-west-1", type);
            }
            const getRegion = run.invokes.filter((i) => i.token === "aws:index/getRegion:getRegion");
            assert.ok(getRegion.length > 0 && getRegion.every((i) => i.provider?.includes("::consumer-aws::")), "the region is asked of the program's provider");
        });
    });
});
