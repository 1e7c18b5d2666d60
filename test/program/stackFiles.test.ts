// The shipped project and stack files: every key is one the program reads, and each example
// stack's config runs the program (its secret replaced by a test key file).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { ROOT } from "../support/e2e";
import { ARTIFACT_TYPE, mockArtifacts, runProgram } from "../support/program";

type Yaml = Record<string, unknown>;
const load = (file: string): Yaml => yaml.load(fs.readFileSync(path.join(ROOT, file), "utf8")) as Yaml;
const OBJECT_KEYS = ["tags", "association", "installOnPublish", "healthCheck", "organization"];
/** The provider settings, read as `uptycs:<key>` in any project. */
const PROVIDER_KEYS = ["apiKey", "apiKeyFile", "requestTimeout", "requestRetries", "requestBackoff"]; // set with --path, not declarable in Pulumi.yaml
// Where stack config is read: the program's config, and the artifact provider's `configure` and its settings.
const configTs = ["config.ts", "providers/uptycsAgentArtifact.ts", "providers/artifactSettings.ts"].map((f) => fs.readFileSync(path.join(ROOT, f), "utf8")).join("\n");

describe("Pulumi.yaml and the example stack files", () => {
    const project = load("Pulumi.yaml");
    const declared = Object.keys(project.config as Yaml);

    it("the project is uptycs-distributor on the nodejs runtime with TypeScript", () => {
        assert.strictEqual(project.name, "uptycs-distributor");
        assert.deepStrictEqual(project.runtime, { name: "nodejs", options: { typescript: true } });
    });

    it("every declared key has a type and a description, and the program reads it", () => {
        for (const key of declared) {
            const spec = (project.config as Record<string, Yaml>)[key];
            assert.ok(spec.type && spec.description, key);
            assert.ok(configTs.includes(`"${key}"`) || configTs.includes(`:${key}"`), `${key} is declared but never read`);
        }
    });

    for (const stackFile of fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
        it(`${stackFile}: only known keys, and the program accepts its config`, async () => {
            const config = (load(stackFile).config ?? {}) as Yaml;
            const flat: Record<string, string> = {};
            for (const [k, v] of Object.entries(config)) {
                const [ns, key] = k.split(":");
                assert.ok(ns === "aws" || (ns === "uptycs" && PROVIDER_KEYS.includes(key)) || (ns === "uptycs-distributor" && (declared.includes(key) || OBJECT_KEYS.includes(key))), `unknown key ${k}`);
                flat[k] = typeof v === "string" ? v : JSON.stringify(v);
            }
            const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-stack-"));
            const keyJson = JSON.stringify({ customerId: "c", key: "k", secret: "s", domain: "t", domainSuffix: ".uptycs.io" });
            const secretKeys: string[] = [];
            for (const ns of ["uptycs", "uptycs-distributor"]) {
                if (`${ns}:apiKey` in config) {
                    flat[`${ns}:apiKey`] = keyJson;
                    secretKeys.push(`${ns}:apiKey`);
                }
                if (`${ns}:apiKeyFile` in config) {
                    flat[`${ns}:apiKeyFile`] = path.join(tmp, "key.json");
                    fs.writeFileSync(flat[`${ns}:apiKeyFile`], keyJson);
                }
            }
            const run = await runProgram({
                config: flat,
                secretKeys,
                artifacts: mockArtifacts,
            });
            assert.strictEqual(run.byType(ARTIFACT_TYPE).length, 17);
            fs.rmSync(tmp, { recursive: true, force: true });
        });
    }
});
