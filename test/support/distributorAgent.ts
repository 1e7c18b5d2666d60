// A simulation of what the SSM agent does with a Distributor package on one instance: pick the
// zip for the instance's platform/version/arch from the manifest (AWS Distributor rules), unzip
// it, and run its scripts with `dash` (the /bin/sh of Debian and Ubuntu) against fake package
// managers (test/fixtures/fakebin) that record their calls and keep a package database. Each
// instance is a PID namespace of its own, as a host is: the agent the fakes start is a daemon
// that the next script sees in /proc, and that no other instance sees; an instance whose fakes
// include systemctl runs systemd (`/run/systemd/system` exists there).
import * as fs from "fs";
import * as path from "path";
import { DistributorManifest } from "../../platforms/manifest";
import { platformFromOsReleaseId } from "../../platforms/distributor";
import { PidNamespace } from "./pidNamespace";
import { readZip } from "./zipReader";

const FAKEBIN = path.join(__dirname, "..", "fixtures", "fakebin");
/** Real tools the scripts and fakes may use; nothing else from the host is on PATH. */
const HOST_TOOLS = ["dirname", "basename", "sed", "head", "tail", "tr", "cat", "rm", "mkdir", "sort", "grep", "chmod", "sleep"];

function hostTool(tool: string): string {
    const real = ["/usr/bin", "/bin"].map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
    if (real === undefined) {
        throw new Error(`${tool} is not installed (apt-get install ${tool === "dash" ? "dash" : "coreutils"})`);
    }
    return real;
}

/** KEY=value pairs of an os-release file (quotes removed, comments skipped). */
export function parseOsRelease(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of text.split("\n")) {
        const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
        if (m) {
            out[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
        }
    }
    return out;
}

/**
 * The zip the agent installs: platform from `ID`, then the version key (exact `VERSION_ID`, else
 * the longest key that is a dotted prefix of it, else `_any`), then the arch exactly.
 * @throws Error worded like the agent's "no manifest found for platform: ..., version ..., architecture ...".
 */
export function resolvePackageFile(manifest: DistributorManifest, osRelease: Record<string, string>, arch: string): string {
    const platform = platformFromOsReleaseId(osRelease.ID);
    const version = osRelease.VERSION_ID ?? "";
    const notFound = new Error(`no manifest found for platform: ${platform}, version ${version}, architecture ${arch}`);
    const versions = manifest.packages[platform];
    if (versions === undefined) {
        throw notFound;
    }
    const prefixes = Object.keys(versions).filter((k) => k !== "_any" && version.startsWith(`${k}.`)).sort((a, b) => b.length - a.length);
    const key = version in versions ? version : prefixes[0] ?? "_any";
    const file = versions[key]?.[arch]?.file;
    if (file === undefined) {
        throw notFound;
    }
    return file;
}

/** One instance: a package database, a call log, the package managers it has, and its processes. */
export class SimulatedInstance {
    readonly root: string;
    private readonly bin: string;
    private readonly host: PidNamespace;

    /** Stop it with {@link stop}: that ends its agent. */
    constructor(root: string, managers: readonly string[]) {
        this.root = root;
        this.host = PidNamespace.start(managers.includes("systemctl") ? "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system" : "");
        this.bin = path.join(root, "bin");
        fs.mkdirSync(this.bin, { recursive: true });
        fs.mkdirSync(path.join(root, "fake"), { recursive: true });
        for (const tool of [...managers, "_fake_lib.sh"]) {
            fs.copyFileSync(path.join(FAKEBIN, tool), path.join(this.bin, tool));
            fs.chmodSync(path.join(this.bin, tool), 0o755);
        }
        for (const tool of HOST_TOOLS) {
            fs.symlinkSync(hostTool(tool), path.join(this.bin, tool));
        }
    }

    /** Unzips a package zip into a fresh folder, as the agent does, and returns the folder. */
    async unpack(zipFile: string, name: string): Promise<string> {
        const dir = path.join(this.root, "packages", name);
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir, { recursive: true });
        for (const e of await readZip(zipFile)) {
            fs.writeFileSync(path.join(dir, e.name), e.data, { mode: e.mode });
        }
        return dir;
    }

    /** Runs `dash <script>` in `dir` as the agent runs `sh install.sh`; returns exit code, output and the calls it made. */
    run(dir: string, script: string, env: NodeJS.ProcessEnv = {}): { status: number; output: string; calls: string[] } {
        const log = path.join(this.root, "fake", "calls.log");
        fs.rmSync(log, { force: true });
        const r = this.host.run([hostTool("dash"), script], dir, { PATH: this.bin, FAKE_ROOT: path.join(this.root, "fake"), ...env }, 60_000);
        const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : [];
        return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}`, calls };
    }

    /** Installed packages: name → version. */
    packages(): Record<string, string> {
        const db = path.join(this.root, "fake", "db");
        if (!fs.existsSync(db)) {
            return {};
        }
        return Object.fromEntries(fs.readdirSync(db).map((n) => [n, fs.readFileSync(path.join(db, n), "utf8").trim()]));
    }

    /** Whether the agent's daemon runs on the instance (a process named osqueryd in its /proc). */
    agentRunning(): boolean {
        const r = this.host.run([hostTool("dash"), "-c", 'for c in /proc/[0-9]*/comm; do [ "$(cat "$c" 2>/dev/null)" = osqueryd ] && exit 0; done; exit 1'], this.root, { PATH: this.bin });
        return r.status === 0;
    }

    /** Ends the instance and its processes. */
    stop(): void {
        this.host.stop();
    }
}
