// `pulumi preview` and `pulumi up` start the program without type-checking it (the runtime reads
// the tsconfig's `noCheck`), while `npm run typecheck`, which `npm test` and CI run first, still
// fails on a type error. Both are shown on one module with a type error, in a folder holding this
// project's own tsconfig.json and package.json's typecheck command.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "../support/e2e";
import { loadAsRuntime } from "../support/runtimeLoad";

const TYPE_ERROR = 'export const port: number = "8080";\nexport function run(): void { console.log(`port ${port}`); }\n';
const WELL_TYPED = "export const port: number = 8080;\n";

describe("the program as the Pulumi runtime loads it, and the typecheck", function () {
    this.timeout(120_000);
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-runtime-load-"));
        fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(dir, "tsconfig.json"));
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
        fs.writeFileSync(path.join(dir, "index.ts"), TYPE_ERROR);
        // The same tsconfig as it was before noCheck: what every run paid.
        const checked = fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8").replace(/"noCheck": true/, '"noCheck": false');
        assert.notStrictEqual(checked, fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8"), "tsconfig.json sets noCheck");
        fs.writeFileSync(path.join(dir, "tsconfig.checked.json"), checked);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** package.json's typecheck command, run in the folder as npm would run it. */
    const typecheck = (): { status: number; output: string } => {
        const command = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.typecheck;
        const r = spawnSync("sh", ["-c", command], { cwd: dir, encoding: "utf8", env: { ...process.env, PATH: `${path.join(ROOT, "node_modules", ".bin")}:${process.env.PATH}` } });
        return { status: r.status ?? 1, output: r.stdout + r.stderr };
    };

    it("the runtime's ts-node settings skip type-checking: a module with a type error runs", async () => {
        const load = await loadAsRuntime(dir, "./index.ts");
        assert.strictEqual(load.status, 0, load.output);
        assert.strictEqual(load.transpileOnly, true);
        assert.match(load.output, /port 8080/);
    });

    it("with noCheck false the same module fails to load: the check above can fail", async () => {
        const load = await loadAsRuntime(dir, "./index.ts", { PULUMI_NODEJS_TSCONFIG_PATH: "tsconfig.checked.json" });
        assert.notStrictEqual(load.status, 0, load.output);
        assert.match(load.output, /TS2322/);
    });

    it("npm run typecheck fails on the type error, and passes once it is fixed", () => {
        const bad = typecheck();
        assert.notStrictEqual(bad.status, 0, bad.output);
        assert.match(bad.output, /index\.ts\(1,14\): error TS2322/);
        fs.writeFileSync(path.join(dir, "index.ts"), WELL_TYPED);
        const good = typecheck();
        assert.strictEqual(good.status, 0, good.output);
        fs.writeFileSync(path.join(dir, "index.ts"), TYPE_ERROR);
        // The same tsconfig as it was before noCheck: what every run paid.
        const checked = fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8").replace(/"noCheck": true/, '"noCheck": false');
        assert.notStrictEqual(checked, fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8"), "tsconfig.json sets noCheck");
        fs.writeFileSync(path.join(dir, "tsconfig.checked.json"), checked);
    });

    it("npm test runs the typecheck first", () => {
        const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
        assert.match(scripts.test, /^npm run typecheck && /);
    });
});
