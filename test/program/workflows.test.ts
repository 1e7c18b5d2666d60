// examples/github-actions: each workflow is valid against GitHub's workflow schema (the
// @action-validator/cli command, as a user would run it), covers every Pulumi.<stack>.yaml, takes
// AWS credentials only through OIDC, and holds no secret value.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { ROOT } from "../support/e2e";

const DIR = path.join(ROOT, "examples", "github-actions");
const WORKFLOWS = ["preview.yml", "publish.yml", "drift.yml"];
const STACKS = fs.readdirSync(ROOT).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort();

interface Step { readonly uses?: string; readonly run?: string; readonly with?: Record<string, unknown>; readonly env?: Record<string, string> }
interface Job {
    readonly permissions?: Record<string, string>;
    readonly strategy?: { matrix?: { stack?: string[] } };
    readonly concurrency?: { group: string; "cancel-in-progress"?: boolean };
    readonly steps: Step[];
}
interface Workflow { readonly on: Record<string, unknown>; readonly permissions: Record<string, string>; readonly jobs: Record<string, Job> }

const load = (file: string): Workflow => yaml.load(fs.readFileSync(path.join(DIR, file), "utf8")) as Workflow;
/** @action-validator/cli on `file`: its exit status and what it printed. */
const validate = (file: string): { status: number; output: string } => {
    const r = spawnSync(process.execPath, [require.resolve("@action-validator/cli/cli.mjs"), file], { encoding: "utf8" });
    return { status: r.status ?? 1, output: r.stdout + r.stderr };
};
const steps = (w: Workflow): Step[] => Object.values(w.jobs).flatMap((j) => j.steps);

describe("examples/github-actions", () => {
    it("the three workflows, and nothing else, are there", () => {
        assert.deepStrictEqual(fs.readdirSync(DIR).sort(), [...WORKFLOWS].sort());
        assert.ok(STACKS.length >= 3, STACKS.join(","));
    });

    for (const file of WORKFLOWS) {
        describe(file, () => {
            const w = load(file);

            it("is valid against the GitHub Actions workflow schema", () => {
                const r = validate(path.join(DIR, file));
                assert.strictEqual(r.status, 0, r.output);
            });

            it("runs every stack of the project (one matrix entry per Pulumi.<stack>.yaml)", () => {
                for (const job of Object.values(w.jobs)) {
                    assert.deepStrictEqual([...(job.strategy?.matrix?.stack ?? [])].sort(), STACKS);
                }
            });

            it("gets AWS credentials through OIDC only, and the Uptycs key from a secret into secret config", () => {
                assert.strictEqual(w.permissions["id-token"], "write");
                const aws = steps(w).filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
                assert.strictEqual(aws.length, 1);
                assert.match(String(aws[0].with?.["role-to-assume"]), /^\$\{\{ vars\.AWS_ROLE_ARN \}\}$/);
                assert.deepStrictEqual(Object.keys(aws[0].with ?? {}).filter((k) => /access-key|secret|session-token/.test(k)), [], "no long-lived keys");
                const key = steps(w).find((s) => s.run?.includes("uptycs:apiKey"))!;
                assert.match(key.run!, /pulumi config set --secret uptycs:apiKey/);
                assert.strictEqual(key.env?.UPTYCS_API_KEY, "${{ secrets.UPTYCS_API_KEY }}");
            });

            it("holds no secret value: secrets only as ${{ secrets.* }} expressions", () => {
                const text = fs.readFileSync(path.join(DIR, file), "utf8");
                assert.doesNotMatch(text, /\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key id");
                assert.doesNotMatch(text, /aws_secret_access_key|BEGIN [A-Z ]*PRIVATE KEY|pul-[0-9a-f]{40}/i);
                assert.doesNotMatch(text, /"(customerId|secret)"\s*:/, "an Uptycs key file");
                for (const [, name] of text.matchAll(/secrets\.([A-Za-z_]+)/g)) {
                    assert.ok(["PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "UPTYCS_API_KEY", "GITHUB_TOKEN"].includes(name), name);
                }
            });
        });
    }

    it("preview: on pull requests, commenting the result; no more permissions than that", () => {
        const w = load("preview.yml");
        assert.ok("pull_request" in w.on);
        assert.deepStrictEqual(w.permissions, { contents: "read", "id-token": "write", "pull-requests": "write" });
        const preview = steps(w).find((s) => s.with?.command === "preview")!;
        assert.strictEqual(preview.with?.["comment-on-pr"], true);
    });

    it("publish: daily and by hand, pulumi up, one run at a time per stack, never cancelling one", () => {
        const w = load("publish.yml");
        assert.ok("schedule" in w.on && "workflow_dispatch" in w.on);
        assert.deepStrictEqual(w.permissions, { contents: "read", "id-token": "write" });
        assert.ok(steps(w).some((s) => s.with?.command === "up"));
        for (const job of Object.values(w.jobs)) {
            assert.deepStrictEqual(job.concurrency, { group: "pulumi-${{ matrix.stack }}", "cancel-in-progress": false });
        }
    });

    it("drift: nightly refresh expecting no changes; on drift, fails and opens or updates an issue; same lock as publish", () => {
        const w = load("drift.yml");
        assert.ok("schedule" in w.on);
        assert.deepStrictEqual(w.permissions, { contents: "read", "id-token": "write", issues: "write" });
        const refresh = steps(w).find((s) => s.with?.command === "refresh")!;
        assert.strictEqual(refresh.with?.["expect-no-changes"], true);
        const report = steps(w).find((s) => s.uses?.startsWith("actions/github-script@"))! as Step & { if?: string };
        assert.match(String(report.if), /failure\(\)/);
        assert.match(String(report.with?.script), /issues\.create\(/);
        assert.match(String(report.with?.script), /issues\.createComment\(/);
        assert.deepStrictEqual(Object.values(w.jobs)[0].concurrency, Object.values(load("publish.yml").jobs)[0].concurrency);
        // Drift or not, the coverage report goes to the job summary, and fails the job below the minimum (exit 2).
        const coverage = steps(w).find((s) => s.run?.includes("npm run --silent coverage"))! as Step & { if?: string };
        assert.match(String(coverage.if), /!cancelled\(\)/);
        assert.match(coverage.run!, /--stack "\$\{\{ matrix\.stack \}\}" --markdown --min-coverage "\$MIN_COVERAGE" > coverage\.md\n/);
        assert.match(coverage.run!, /cat coverage\.md >> "\$GITHUB_STEP_SUMMARY"\nexit \$code/);
        assert.strictEqual(coverage.env?.UPTYCS_API_KEY, "${{ secrets.UPTYCS_API_KEY }}");
    });

    it("the validator itself refuses a broken workflow: the schema check can fail", () => {
        const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-wf-")), "broken.yml");
        fs.writeFileSync(broken, fs.readFileSync(path.join(DIR, "publish.yml"), "utf8").replace("runs-on:", "runs_on:"));
        const r = validate(broken);
        assert.notStrictEqual(r.status, 0);
        assert.match(r.output, /runs_on/);
        fs.rmSync(path.dirname(broken), { recursive: true, force: true });
    });
});
