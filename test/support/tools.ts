// Test prerequisites that npm does not install (Debian tools, root, the example project). Where
// one is missing, the tests that need it are reported as skipped with how to get it, except under
// CI=true, where .ci/run provides them all and a missing one is a failure.
import { spawnSync } from "child_process";

/** Debian package providing each tool. */
const DEBIAN_PACKAGE: Readonly<Record<string, string>> = {
    shellcheck: "shellcheck", dash: "dash", openssl: "openssl", mmdebstrap: "mmdebstrap", rpmbuild: "rpm", "dpkg-deb": "dpkg", chroot: "coreutils",
};

/** Whether `tool` runs on this machine (looked up on PATH). */
export function hasTool(tool: string): boolean {
    return spawnSync(tool, ["--version"], { stdio: "ignore" }).error === undefined;
}

/** Which of `tools` are missing, with the command that installs them; undefined when none is. */
export function missingTools(tools: readonly string[]): string | undefined {
    const missing = tools.filter((t) => !hasTool(t));
    return missing.length === 0 ? undefined
        : `${missing.join(", ")} not installed (apt-get install ${[...new Set(missing.map((t) => DEBIAN_PACKAGE[t] ?? t))].join(" ")})`;
}

/**
 * Skips the running test or hook when `problem` says what is missing (printing it), or under
 * CI=true fails it; does nothing when `problem` is undefined.
 */
export function skipUnlessReady(ctx: Mocha.Context, problem: string | undefined): void {
    if (problem === undefined) {
        return;
    }
    if (process.env.CI === "true") {
        throw new Error(`${problem}; CI requires it (.ci/run provides it)`);
    }
    console.log(`      skipped: ${problem}`);
    ctx.skip();
}

/** Skips (or under CI=true fails) the running test when `tool` is missing. */
export function requireTool(ctx: Mocha.Context, tool: string): void {
    skipUnlessReady(ctx, missingTools([tool]));
}
