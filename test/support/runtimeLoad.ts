// A TypeScript module loaded the way the Pulumi CLI's nodejs language host loads a program:
// @pulumi/pulumi's `cmd/run` reads the project's tsconfig with the SDK's own
// `loadTypeScriptCompilerOptions`, takes `transpileOnly` from PULUMI_NODEJS_TRANSPILE_ONLY or else
// from the tsconfig's `noCheck`, and registers ts-node (the project's, found as the SDK finds it)
// with those options and its own compiler defaults under the tsconfig's. The lines below follow
// cmd/run/run.js of @pulumi/pulumi 3.248 (its CommonJS branch); the module runs in a fresh node.
import { spawn } from "child_process";

/** What the child prints last: the mode ts-node ran in and the seconds since the process started. */
const REPORT = "RUNTIME-LOAD ";

const CHILD = `
const tsutils = require("@pulumi/pulumi/tsutils");
const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json";
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
const fromEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
const transpileOnly = fromEnv ? fromEnv === "true" : compilerOptions.noCheck;
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
require(tsnodeRequire).register({
    compiler: typescriptRequire, transpileOnly, project: tsConfigPath, skipProject: false,
    compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});
Promise.resolve(require(process.env.RUNTIME_LOAD_ENTRY).run?.()).then(() => {
    console.log("${REPORT}" + JSON.stringify({ transpileOnly: transpileOnly === true, seconds: performance.now() / 1000 }));
    process.exit(0);
}, (e) => { console.error(e && e.stack || e); process.exit(1); });
`;

/** How one load went. */
export interface RuntimeLoad {
    /** The child's exit status: 0 when the module loaded (and its `run()`, if any, resolved). */
    readonly status: number;
    /** ts-node ran transpile-only (no type-checking). */
    readonly transpileOnly?: boolean;
    /** Seconds from the node process's start to the end of `run()`: all a user waits for. */
    readonly seconds?: number;
    /** Everything the child printed. */
    readonly output: string;
}

/**
 * Loads `entry` (a .ts path) in a fresh node process in `dir` as the Pulumi runtime would, then
 * awaits its exported `run()` if it has one.
 * @param env added to this process's environment (e.g. PULUMI_NODEJS_TRANSPILE_ONLY).
 */
export function loadAsRuntime(dir: string, entry: string, env: NodeJS.ProcessEnv = {}): Promise<RuntimeLoad> {
    // The test runner's own ts-node settings must not leak into the child.
    const { TS_NODE_TRANSPILE_ONLY, ...inherited } = process.env;
    void TS_NODE_TRANSPILE_ONLY;
    const child = spawn(process.execPath, ["-e", CHILD], { cwd: dir, env: { ...inherited, ...env, RUNTIME_LOAD_ENTRY: entry }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => { output += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { output += d.toString(); });
    return new Promise((resolve) => child.on("close", (code) => {
        const line = output.split("\n").find((l) => l.startsWith(REPORT));
        const report = line === undefined ? {} : (JSON.parse(line.slice(REPORT.length)) as { transpileOnly: boolean; seconds: number });
        resolve({ status: code ?? 1, output, ...report });
    }));
}
