// Real package managers instead of fakes: throw-away root file systems made from Debian's packages
// with mmdebstrap (minbase; plus rpm, dnf and zypper for the RPM families), cached under .rootfs/
// (git-ignored; not under build/, whose files the program makes 0600), and installer packages
// built at test time with rpmbuild and dpkg-deb. Scripts run inside with chroot, as root, the way
// the SSM agent runs them: `sh install.sh` in the unzipped package folder.
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PidNamespace } from "./pidNamespace";
import { missingTools } from "./tools";

const ROOT = path.resolve(__dirname, "..", "..");
const CACHE = path.join(ROOT, ".rootfs");

/** The Debian release the root file systems are made from. */
const SUITE = "bookworm";

/** What a root file system holds. */
export interface RootfsSpec {
    /** Cache name, e.g. `rpm` or `deb`. */
    readonly name: string;
    /** Debian packages added to minbase. */
    readonly include: readonly string[];
}

/**
 * Why the real-tool tests cannot run here (not root, a tool missing, chroot refused), or
 * undefined when they can.
 */
export function realToolsUnavailable(): string | undefined {
    if (process.getuid?.() !== 0) {
        return "the real package manager tests need root (chroot)";
    }
    const missing = missingTools(["mmdebstrap", "chroot", "rpmbuild", "dpkg-deb"]);
    if (missing !== undefined) {
        return missing;
    }
    const probe = spawnSync("chroot", ["/", "true"], { encoding: "utf8" });
    return probe.status === 0 ? undefined : `chroot is not allowed here: ${probe.stderr.trim()}`;
}

/**
 * The root file system for `spec`, made once and cached by content (suite and packages); made
 * in a temporary folder and renamed, so a killed run never leaves half of one in the cache.
 * @returns its path and the seconds it took (0 when cached).
 */
export function ensureRootfs(spec: RootfsSpec): { dir: string; seconds: number } {
    const key = crypto.createHash("sha256").update(JSON.stringify([SUITE, [...spec.include].sort()])).digest("hex").slice(0, 12);
    const dir = path.join(CACHE, `${spec.name}-${key}`);
    if (fs.existsSync(path.join(dir, "etc", "os-release"))) {
        return { dir, seconds: 0 };
    }
    fs.mkdirSync(CACHE, { recursive: true });
    const part = `${dir}.part-${process.pid}`;
    fs.rmSync(part, { recursive: true, force: true });
    const started = Date.now();
    const include = spec.include.length > 0 ? [`--include=${spec.include.join(",")}`] : [];
    const r = spawnSync("mmdebstrap", ["--variant=minbase", "--mode=root", "--quiet", ...include, SUITE, part], { encoding: "utf8", timeout: 600_000 });
    if (r.status !== 0) {
        fs.rmSync(part, { recursive: true, force: true });
        throw new Error(`mmdebstrap ${spec.name} failed (${r.status}): ${r.stderr.slice(-2000)}`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(part, dir);
    return { dir, seconds: (Date.now() - started) / 1000 };
}

/** Result of a command run inside a root file system. */
export interface ChrootRun {
    readonly status: number;
    /** stdout and stderr together, in order of arrival as far as the pipes keep it. */
    readonly output: string;
}

/**
 * Runs `script` with `sh -c` inside `rootfs` as root; `env` replaces the environment. With `host`
 * (a PID namespace whose setup mounted proc at `<rootfs>/proc`), it runs there: daemons it starts
 * outlive it and are seen in the root file system's /proc, as on one host.
 */
export function inChroot(rootfs: string, script: string, env: NodeJS.ProcessEnv = {}, host?: PidNamespace): ChrootRun {
    const argv = ["chroot", rootfs, "/bin/sh", "-c", `${script} 2>&1`];
    const fullEnv = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", ...env };
    const r: SpawnSyncReturns<string> = host !== undefined ? host.run(argv, "/", fullEnv) : spawnSync(argv[0], argv.slice(1), {
        encoding: "utf8",
        timeout: 300_000,
        env: fullEnv,
    });
    if (r.error !== undefined) {
        throw r.error;
    }
    return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** An installer package to build: Uptycs' names, a maintainer script that writes a marker and "starts" a service. */
export interface FixturePackage {
    /** `uptycs-protect` or `osquery`. */
    readonly name: string;
    /** e.g. `5.14.2.21`. */
    readonly version: string;
    /** A package it depends on (one that is installed, or one that exists nowhere). */
    readonly requires?: string;
    /** What it provides besides itself (RPM `Provides`), e.g. `/bin/sh`. */
    readonly provides?: string;
    /** False for a package that is no agent build (owns none of the agent's files). Default true. */
    readonly agent?: boolean;
    /** A build that installs cleanly but whose agent exits at once when started (it cannot reach the Uptycs endpoint). */
    readonly crashes?: boolean;
}

/** What the fixtures' maintainer scripts write: `<name> <version>`, at install and at upgrade. */
export const MARKER_DIR = "/var/lib/uptycs-test";

/**
 * The files every agent build ships, as the real Protect and sensor-only packages do: the same
 * agent binary, flags file (a configuration file in both formats) and init script, so the two
 * builds conflict on the real package managers exactly as Uptycs' do.
 */
export const AGENT_FILES = { binary: "/usr/bin/osqueryd", flags: "/etc/osquery/osquery.flags", initScript: "/etc/init.d/osqueryd" } as const;
/** Where the agent logs, as the real one does. */
export const AGENT_LOG = "/var/log/osquery/osqueryd.results.log";
/** The agent's identity on the host, made at first enrollment by the maintainer script and owned by no package. */
export const HOST_IDENTITY = "/var/osquery/host_identifier";

// Run plainly, it says which build it is; with --daemonize it runs as the agent (a process named
// osqueryd), or, for a broken build, logs why it cannot and exits at once.
const agentBinary = (p: FixturePackage): string => `#!/bin/sh
if [ "\${1:-}" != --daemonize ]; then echo "${p.name} ${p.version}"; exit 0; fi
${p.crashes
        ? `mkdir -p ${path.dirname(AGENT_LOG)}\necho "osqueryd ${p.version}: TLS handshake with the Uptycs endpoint failed; exiting" >> ${AGENT_LOG}\nexit 1`
        : 'trap "exit 0" TERM\nwhile :; do sleep 1 & wait $!; done'}
`;

// An LSB init script, as the agent's packages ship one: start puts the daemon in the background
// and returns (it does not wait to see it live), status says 0 running / 3 not, stop waits.
const INIT_SCRIPT = `#!/bin/sh
PIDFILE=/run/osqueryd.pid
running() { [ -f "$PIDFILE" ] && [ "$(cat "/proc/$(cat "$PIDFILE")/comm" 2>/dev/null)" = osqueryd ]; }
case "$1" in
  start) running || { ${AGENT_FILES.binary} --daemonize </dev/null >/dev/null 2>&1 & echo $! > "$PIDFILE"; } ;;
  stop) if running; then pid=$(cat "$PIDFILE"); kill "$pid"; while [ -e "/proc/$pid" ]; do sleep 0.1; done; fi; rm -f "$PIDFILE" ;;
  restart) "$0" stop; "$0" start ;;
  status) running || exit 3 ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
`;

// As vendor packages do: record the install, enroll once (an identity kept across upgrades and
// switches), (re)start the agent through systemd where it runs the host (never in a chroot, as
// in containers), else through its init script, and never fail for it: a broken agent installs
// cleanly. The removal scripts stop it.
const postInstall = (p: FixturePackage): string => `mkdir -p ${MARKER_DIR} /var/osquery
echo "${p.name} ${p.version}" > ${MARKER_DIR}/${p.name}
[ -s ${HOST_IDENTITY} ] || echo "$(date +%s%N)-$$" > ${HOST_IDENTITY}
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemctl restart osqueryd || true; else ${AGENT_FILES.initScript} restart || true; fi
`;
const preRemove = `${AGENT_FILES.initScript} stop || true
`;

/** The files of `p` under `root` (a package's payload root). */
function writePayload(p: FixturePackage, root: string): string[] {
    const files = p.agent === false ? { [`/opt/${p.name}/VERSION`]: `${p.version}\n` } : {
        [AGENT_FILES.binary]: agentBinary(p),
        [AGENT_FILES.flags]: "--config_refresh=10\n",
        [AGENT_FILES.initScript]: INIT_SCRIPT,
    };
    for (const [file, content] of Object.entries(files)) {
        fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
        fs.writeFileSync(path.join(root, file), content, { mode: file === AGENT_FILES.flags ? 0o644 : 0o755 });
    }
    return Object.keys(files);
}

/** Builds `p` as an unsigned x86_64 RPM with rpmbuild; returns its path (named as Uptycs names it). */
export function buildRpm(p: FixturePackage, outDir: string): string {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-rpmbuild-"));
    try {
        const payload = path.join(top, "payload");
        const files = writePayload(p, payload);
        const spec = path.join(top, "p.spec");
        fs.writeFileSync(spec, [
            `Name: ${p.name}`, `Version: ${p.version}`, "Release: 1", "Summary: test stand-in for an Uptycs agent", "License: Proprietary",
            "BuildArch: x86_64", "AutoReqProv: no", ...(p.requires ? [`Requires: ${p.requires}`] : []), ...(p.provides ? [`Provides: ${p.provides}`] : []),
            "%description", "test stand-in", "%install", `cp -a ${payload}/. %{buildroot}/`,
            // %preun of the old package runs after %post of the new one in an upgrade: stop only on erase ($1 = 0), as vendor specs do.
            "%post", p.agent === false ? "true" : postInstall(p), ...(p.agent === false ? [] : ["%preun", `if [ "$1" -eq 0 ]; then ${preRemove.trim()}; fi`]), "%files", ...files.map((f) => (f === AGENT_FILES.flags ? `%config(noreplace) ${f}` : f)), "",
        ].join("\n"));
        const r = spawnSync("rpmbuild", ["--define", `_topdir ${top}`, "--quiet", "-bb", spec], { encoding: "utf8" });
        if (r.status !== 0) {
            throw new Error(`rpmbuild ${p.name}-${p.version} failed: ${r.stderr}`);
        }
        const built = path.join(top, "RPMS", "x86_64", `${p.name}-${p.version}-1.x86_64.rpm`);
        const file = path.join(outDir, `assets-${p.name}-${p.version}-Uptycs${p.requires ? "-dep" : ""}.x86_64.rpm`);
        fs.copyFileSync(built, file);
        return file;
    } finally {
        fs.rmSync(top, { recursive: true, force: true });
    }
}

/** Builds `p` as a .deb with dpkg-deb; returns its path. */
export function buildDeb(p: FixturePackage, outDir: string): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-deb-"));
    try {
        fs.mkdirSync(path.join(root, "DEBIAN"));
        const files = writePayload(p, root);
        fs.writeFileSync(path.join(root, "DEBIAN", "control"), [
            `Package: ${p.name}`, `Version: ${p.version}`, "Architecture: amd64", "Maintainer: tests <tests@example.invalid>",
            ...(p.requires ? [`Depends: ${p.requires}`] : []), "Description: test stand-in for an Uptycs agent", "",
        ].join("\n"));
        const conffiles = files.filter((f) => f.startsWith("/etc/"));
        if (conffiles.length > 0) {
            fs.writeFileSync(path.join(root, "DEBIAN", "conffiles"), conffiles.map((f) => `${f}\n`).join(""));
        }
        fs.writeFileSync(path.join(root, "DEBIAN", "postinst"), `#!/bin/sh\nset -e\n${postInstall(p)}`, { mode: 0o755 });
        fs.writeFileSync(path.join(root, "DEBIAN", "prerm"), `#!/bin/sh\n${preRemove}`, { mode: 0o755 });
        const file = path.join(outDir, `assets-${p.name}-${p.version}-Uptycs${p.requires ? "-dep" : ""}.deb`);
        const r = spawnSync("dpkg-deb", ["--root-owner-group", "--build", root, file], { encoding: "utf8" });
        if (r.status !== 0) {
            throw new Error(`dpkg-deb ${p.name}-${p.version} failed: ${r.stderr}`);
        }
        return file;
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}
