// Test tools that come from Debian rather than npm. Where one is missing, a check that needs it is
// reported as skipped with the command that installs it, except under CI=true, where .ci/run
// installs them and a missing tool is a failure.
import { spawnSync } from "child_process";

/** Debian package providing each tool. */
const DEBIAN_PACKAGE: Readonly<Record<string, string>> = { shellcheck: "shellcheck", dash: "dash", openssl: "openssl" };

/** Whether `tool` runs on this machine (looked up on PATH). */
export function hasTool(tool: string): boolean {
    return spawnSync(tool, ["--version"], { stdio: "ignore" }).error === undefined;
}

/**
 * Skips the running test (with a line saying how to install the tool) when `tool` is missing;
 * under CI=true fails it instead.
 */
export function requireTool(ctx: Mocha.Context, tool: string): void {
    if (hasTool(tool)) {
        return;
    }
    const install = `apt-get install ${DEBIAN_PACKAGE[tool] ?? tool}`;
    if (process.env.CI === "true") {
        throw new Error(`${tool} is not installed; CI requires it (${install}; .ci/run does)`);
    }
    console.log(`      skipped: ${tool} is not installed (${install})`);
    ctx.skip();
}
