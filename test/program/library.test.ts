// The component as a library in a program of its own (test/fixtures/consumer): uptycs-distributor
// installed there from `npm pack`'s tarball (its dependencies linked from this checkout's
// lockfile install), type-checked with tsc, run under mocks with every dynamic resource through
// the consumer's own dynamic-provider host, against local Uptycs tenants and a local SSM/STS that
// keeps package versions per account and region, as AWS does.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FakeAws, FakeDocumentVersion } from "../support/fakeAws";
import { FakeUptycsApi, FakeUptycsOptions } from "../support/fakeUptycsApi";
import { ARTIFACT_TYPE, ProgramFailure, ProgramRun, runProgram, TEST_ACCOUNT } from "../support/program";
import { Props, ProviderHost } from "../support/providerHost";
import { ROOT } from "../support/e2e";
import { readZip } from "../support/zipReader";

const PROJECT = "uptycs-consumer";
const NAME_TYPE = "pulumi-nodejs:dynamic/uptycs:PackageVersionName";
const DOC = "aws:ssm/document:Document";
/** The account behind the machine's default credentials: never the provider's. */
const OTHER_ACCOUNT = "999988887777";
const MAPPING = {
    linux: [{ upt_package: "centos", id: "rhel", dir: "UPT_PRO_REDHAT_x86_64", name: "redhat", major_version: "_any", minor_version: "", arch_type: "x86_64" }],
    windows: [{ upt_package: "windows", id: "windows", dir: "UPT_PRO_WINDOWS", name: "windows", major_version: "_any", minor_version: "", arch_type: "x86_64" }],
};
const TENANT_B: FakeUptycsOptions = {
    customerId: "bbbbbbbb-0000-4000-8000-00000000000b", key: "KEY-B", secret: "secret-of-tenant-B-9c8d", installerTenantMark: "enroll-B;",
    groups: [{ id: "group-b", name: "assets" }],
};
const history = (n: number): FakeDocumentVersion[] =>
    Array.from({ length: n }, (_, i) => ({ DocumentVersion: String(i + 1), VersionName: `v${i + 1}`, IsDefaultVersion: i === 0 }));
const sha256 = (b: Buffer): string => crypto.createHash("sha256").update(b).digest("hex");

describe("the component as a library, installed from npm pack's tarball", function () {
    this.timeout(300_000);
    let consumer: string;
    let aws: FakeAws;
    let api: FakeUptycsApi;
    let credentialsFile: string;
    const hosts: ProviderHost[] = [];

    before(async () => {
        consumer = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-consumer-"));
        // `npm pack` runs `prepare` (the build), so the tarball holds this checkout's code.
        const pack = spawnSync("npm", ["pack", "--silent", "--pack-destination", consumer], { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(pack.status, 0, pack.stderr);
        const tarball = path.join(consumer, pack.stdout.trim().split("\n").pop()!);
        const installed = path.join(consumer, "node_modules", "uptycs-distributor");
        fs.mkdirSync(installed, { recursive: true });
        const untar = spawnSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components", "1"], { encoding: "utf8" });
        assert.strictEqual(untar.status, 0, untar.stderr);
        assert.ok(!fs.existsSync(path.join(installed, "providers")), "the tarball holds dist/, not the sources");
        for (const dep of fs.readdirSync(path.join(ROOT, "node_modules"))) {
            if (!dep.startsWith(".")) {
                fs.symlinkSync(path.join(ROOT, "node_modules", dep), path.join(consumer, "node_modules", dep));
            }
        }
        for (const f of ["index.ts", "tsconfig.json"]) {
            fs.copyFileSync(path.join(ROOT, "test", "fixtures", "consumer", f), path.join(consumer, f));
        }
        fs.writeFileSync(path.join(consumer, "mapping.json"), JSON.stringify(MAPPING));
        credentialsFile = path.join(consumer, "credentials");
        fs.writeFileSync(credentialsFile, [
            "[default]", "aws_access_key_id = AKIADEFAULT", "aws_secret_access_key = default-secret",
            "[prod]", "aws_access_key_id = AKIAPROD", "aws_secret_access_key = prod-secret", "",
        ].join("\n"));
        aws = await FakeAws.start();
        aws.addUser("AKIADEFAULT", OTHER_ACCOUNT);
        aws.addUser("AKIAPROD", TEST_ACCOUNT);
        aws.addUser("AKIASTATIC", TEST_ACCOUNT);
        api = await FakeUptycsApi.start();
    });
    beforeEach(() => {
        aws.calls.length = 0;
        for (const account of [TEST_ACCOUNT, OTHER_ACCOUNT]) {
            for (const region of ["us-east-1", "eu-west-1"]) {
                aws.documents(account, region).set("UptycsAgent", history(6));
            }
        }
    });
    after(async () => {
        await Promise.all(hosts.map((h) => h.stop()));
        await aws?.stop();
        await api?.stop();
        if (consumer !== undefined) {
            fs.rmSync(consumer, { recursive: true, force: true });
        }
    });

    /**
     * One `pulumi up` of the consumer with stack `config` (unprefixed keys are the consumer's);
     * the host's default AWS credentials are the machine's (account {@link OTHER_ACCOUNT}).
     */
    async function up(config: Record<string, string>, secretKeys: string[] = []): Promise<{ run: ProgramRun; host: ProviderHost }> {
        const stack = { mappingFile: path.join(consumer, "mapping.json"), keepVersions: "3", ...config };
        const qualified = Object.fromEntries(Object.entries(stack).map(([k, v]) => [k.includes(":") ? k : `${PROJECT}:${k}`, v]));
        const host = await ProviderHost.start(consumer, { ...aws.env(), AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: path.join(consumer, "no-config") }, PROJECT);
        hosts.push(host);
        await host.configure(qualified);
        const run = await runProgram({
            program: { dir: consumer, project: PROJECT },
            config: stack,
            secretKeys,
            dynamic: async (args) => {
                const r = await host.up(`urn:pulumi:test::${PROJECT}::${args.type}::${args.name}`, args.inputs as Props);
                return { id: r.id, state: r.outs };
            },
        });
        return { run, host };
    }
    const key = (a: FakeUptycsApi): string => JSON.stringify(a.apiKey());

    it("type-checks against the tarball's declarations", () => {
        const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", consumer], { encoding: "utf8" });
        assert.strictEqual(tsc.status, 0, tsc.stdout + tsc.stderr);
    });

    it("an explicit provider in eu-west-1 with aws:region us-east-1: every SSM call in eu-west-1, us-east-1 keeps its 6 versions", async () => {
        const creds = JSON.stringify({ profile: "prod", sharedCredentialsFiles: [credentialsFile] });
        const { run } = await up({ scenario: "explicit-provider", "aws:region": "us-east-1", awsCredentials: creds, "uptycs:apiKey": key(api) }, ["uptycs:apiKey"]);
        assert.deepStrictEqual(Object.keys((run.outputs.documents as Record<string, Record<string, unknown>>).UptycsAgent), ["eu-west-1"]);
        const ssm = aws.calls.filter((c) => c.service === "ssm");
        assert.ok(ssm.length >= 3, `SSM calls: ${ssm.map((c) => c.action).join(", ")}`);
        assert.deepStrictEqual([...new Set(ssm.map((c) => `${c.region} ${c.accessKeyId}`))], ["eu-west-1 AKIAPROD"], "the provider's region, the given credentials");
        assert.strictEqual(aws.documents(TEST_ACCOUNT, "us-east-1").get("UptycsAgent")!.length, 6, "the stack's region untouched");
        assert.deepStrictEqual(aws.documents(TEST_ACCOUNT, "eu-west-1").get("UptycsAgent")!.map((v) => v.VersionName), ["v1", "v5", "v6"], "pruned to keepVersions, the default kept");
        assert.strictEqual(aws.documents(OTHER_ACCOUNT, "eu-west-1").get("UptycsAgent")!.length, 6, "nothing in the default credentials' account");
        const named = run.one(NAME_TYPE);
        assert.ok(named.secretInputs.includes("credentials"), "the credentials travel as a secret");
        assert.strictEqual(named.state.credentials, undefined, "and are no output");
        assert.strictEqual(named.state.region, "eu-west-1");
    });

    it("static keys whose secret is an Output (config.requireSecret): every call signed with them; the secret in no plain input or log", async () => {
        const secret = "static-secret-of-the-provider-4e1f";
        const { run, host } = await up({ scenario: "explicit-provider", "aws:region": "us-east-1", awsAccessKey: "AKIASTATIC", awsSecretKey: secret, "uptycs:apiKey": key(api) }, ["uptycs:apiKey", "awsSecretKey"]);
        assert.deepStrictEqual([...new Set(aws.calls.filter((c) => c.service === "ssm").map((c) => `${c.region} ${c.accessKeyId}`))], ["eu-west-1 AKIASTATIC"]);
        for (const r of run.resources) {
            assert.ok(!JSON.stringify(Object.entries(r.inputs).filter(([k]) => !r.secretInputs.includes(k))).includes(secret), `${r.name}: the secret key in a plain input`);
            assert.ok(!JSON.stringify(r.state).includes(secret), `${r.name}: the secret key in its state`);
        }
        assert.ok(run.one(NAME_TYPE).secretInputs.includes("credentials"));
        assert.ok(!host.stderr.includes(secret));
    });

    it("no aws:region at all, only the explicit provider: publishes in the provider's region", async () => {
        const creds = JSON.stringify({ profile: "prod", sharedCredentialsFiles: [credentialsFile] });
        const { run } = await up({ scenario: "explicit-provider", "aws:region": "", awsCredentials: creds, "uptycs:apiKey": key(api) }, ["uptycs:apiKey"]);
        assert.strictEqual(run.byType(DOC).length, 1);
        assert.deepStrictEqual([...new Set(aws.calls.filter((c) => c.service === "ssm").map((c) => c.region))], ["eu-west-1"]);
    });

    it("an explicit provider whose credentials the component is not given: the account guard fails naming both accounts and awsCredentials; nothing read or deleted", async () => {
        await assert.rejects(up({ scenario: "explicit-provider", "aws:region": "us-east-1", "uptycs:apiKey": key(api) }, ["uptycs:apiKey"]), (e: Error) => {
            assert.ok(e instanceof ProgramFailure, e.message);
            assert.match(e.message, new RegExp(`reach account ${OTHER_ACCOUNT}, but the component's aws provider deploys to account ${TEST_ACCOUNT}.*awsCredentials argument`, "s"));
            return true;
        });
        assert.deepStrictEqual(aws.calls.filter((c) => c.service === "ssm"), []);
        for (const account of [TEST_ACCOUNT, OTHER_ACCOUNT]) {
            assert.strictEqual(aws.documents(account, "eu-west-1").get("UptycsAgent")!.length, 6);
        }
    });

    it("two packages (prod and lab) in one program: no two resources share a type and name; each document has its own zips", async () => {
        const { run } = await up({ scenario: "prod-and-lab", "aws:region": "us-east-1", "aws:profile": "prod", "aws:sharedCredentialsFiles": JSON.stringify([credentialsFile]), "uptycs:apiKey": key(api) }, ["uptycs:apiKey"]);
        const ids = run.resources.map((r) => `${r.type}::${r.name}`);
        assert.strictEqual(new Set(ids).size, ids.length, "unique URNs");
        const docs = run.byType(DOC);
        assert.deepStrictEqual(docs.map((d) => d.inputs.name).sort(), ["UptycsAgent", "UptycsAgentLab"]);
        for (const doc of docs) {
            const component = doc.inputs.name === "UptycsAgent" ? "prod" : "lab";
            const own = run.byType(ARTIFACT_TYPE).filter((a) => a.name.startsWith(`${component}-`));
            assert.strictEqual(own.length, 2);
            const manifest = JSON.parse(doc.inputs.content as string) as { files: Record<string, unknown> };
            assert.deepStrictEqual(Object.keys(manifest.files).sort(), own.map((a) => a.state.zipFileName as string).sort(), `${doc.inputs.name} lists its own zips`);
            for (const a of own) {
                assert.match(a.state.installerFileName as string, component === "lab" ? /^assets-osquery-/ : /^assets-uptycs-protect-/);
            }
        }
    });

    it("two tenants' keys as arguments: each package's zips hold exactly its own tenant's installers; no key in plain text in any input", async () => {
        const apiB = await FakeUptycsApi.start(TENANT_B);
        try {
            const { run, host } = await up({ scenario: "two-tenants", "aws:region": "us-east-1", "aws:profile": "prod", "aws:sharedCredentialsFiles": JSON.stringify([credentialsFile]), "tenantKey-a": key(api), "tenantKey-b": key(apiB) }, ["tenantKey-a", "tenantKey-b"]);
            for (const [tenant, server] of [["a", api], ["b", apiB]] as const) {
                const artifacts = run.byType(ARTIFACT_TYPE).filter((a) => a.name.startsWith(`customer-${tenant}-`));
                assert.strictEqual(artifacts.length, 2);
                for (const a of artifacts) {
                    assert.ok(a.secretInputs.includes("apiKey"), "the key reaches the artifact as a secret");
                    assert.strictEqual(a.state.apiKey, undefined, "and is no output");
                    const entries = await readZip(path.join(consumer, a.state.zipPath as string));
                    const installer = entries.find((e) => e.name === a.state.installerFileName)!.data;
                    const dir = (a.inputs.entry as { dir: string }).dir;
                    const spec = { uptPackage: dir.includes("WINDOWS") ? "windows" : "centos", arch: "x86_64" as const, version: a.state.version as string, protect: true };
                    assert.strictEqual(sha256(installer), sha256(server.installerBytes(spec)), `${a.name} holds tenant ${tenant}'s installer`);
                }
            }
            assert.strictEqual(apiB.downloads(), 2);
            for (const secret of [String(api.apiKey().secret), String(TENANT_B.secret)]) {
                for (const r of run.resources) {
                    const plain = Object.entries(r.inputs).filter(([k]) => !r.secretInputs.includes(k));
                    assert.ok(!JSON.stringify(plain).includes(secret), `${r.name}: a key in a plain input`);
                    assert.ok(!JSON.stringify(r.state).includes(secret), `${r.name}: a key in its state`);
                }
                assert.ok(!host.stderr.includes(secret));
            }
        } finally {
            await apiB.stop();
        }
    });
});
