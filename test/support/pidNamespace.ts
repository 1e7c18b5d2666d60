// A PID and mount namespace that outlives the commands run in it, as one host does: daemons a
// command starts (the agent, started by a package's maintainer script) keep running for the next
// command, see only the namespace's processes in /proc, and end when the namespace is stopped.
// Its init (PID 1, under `unshare --pid --fork --mount-proc`) reaps orphans as a host's init does:
// a daemon that exits is gone from /proc, not a zombie still named osqueryd. Perl, because it is
// Essential in Debian. Commands enter with nsenter.
import { spawn, spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";

/** Seconds after which a namespace a test forgot to stop ends by itself. */
const LIFETIME_SECONDS = 1800;

/** util-linux's nsenter, by path: the commands run inside get a PATH of their own. */
const NSENTER = ["/usr/bin/nsenter", "/bin/nsenter"].find((p) => fs.existsSync(p)) ?? "nsenter";

const pause = (ms: number): void => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** Why namespaces cannot be made here (not root, no unshare/nsenter), or undefined when they can. */
export function pidNamespaceUnavailable(): string | undefined {
    const r = spawnSync("unshare", ["--pid", "--fork", "--mount", "--mount-proc", "nsenter", "--version"], { encoding: "utf8" });
    return r.status === 0 ? undefined : `PID namespaces are not available (unshare --pid --mount needs root and util-linux): ${(r.stderr ?? r.error?.message ?? "").trim()}`;
}

export class PidNamespace {
    private static started = 0;
    private constructor(private readonly holder: number, private readonly init: number) {}

    /**
     * Starts a namespace. `setup` runs first inside it, as root, in its own mount namespace (e.g.
     * `mount -t proc proc <rootfs>/proc`, or a tmpfs with `/run/systemd/system` for a systemd host).
     * @throws Error when the namespace does not come up within 10 s (its setup failed).
     */
    static start(setup = ""): PidNamespace {
        const marker = `/tmp/.uptycs-pidns-${process.pid}-${++PidNamespace.started}`;
        const init = `my $end = time + ${LIFETIME_SECONDS}; while (time < $end) { sleep 1 if waitpid(-1, 0) == -1 }`;
        const script = `${setup}${setup ? " && " : ""}touch ${marker}; exec perl -e '${init}'`;
        const child = spawn("unshare", ["--pid", "--fork", "--mount", "--propagation", "private", "--mount-proc", "sh", "-c", script], { stdio: "ignore", detached: true });
        child.unref();
        const holder = child.pid!;
        try {
            for (let waited = 0; waited < 10_000; waited += 20) {
                const init = fs.readFileSync(`/proc/${holder}/task/${holder}/children`, "utf8").trim();
                if (init !== "" && fs.existsSync(marker)) {
                    return new PidNamespace(holder, Number(init));
                }
                pause(20);
            }
        } finally {
            fs.rmSync(marker, { force: true });
        }
        process.kill(holder, "SIGKILL");
        throw new Error(`the PID namespace did not come up (setup: ${setup})`);
    }

    /** Runs `argv` inside (its PID and mount namespaces), in `cwd`, with exactly `env`. */
    run(argv: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 300_000): SpawnSyncReturns<string> {
        return spawnSync(NSENTER, ["-t", String(this.init), "-p", "-m", `--wd=${cwd}`, "--", ...argv], { encoding: "utf8", env, timeout: timeoutMs });
    }

    /** Ends the namespace and every process in it. */
    stop(): void {
        try {
            process.kill(this.init, "SIGKILL");
            process.kill(this.holder, "SIGKILL");
        } catch {
            // Already gone (it outlived its lifetime): nothing left to end.
        }
    }
}
