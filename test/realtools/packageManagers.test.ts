// The install, uninstall and update scripts against the real package managers (apt/dpkg, dnf,
// zypper, rpm alone), not fakes: in root file systems made from Debian's packages, with an
// os-release of the target, installer packages built at test time with Uptycs' names (unsigned,
// a maintainer script that records itself and starts a service where systemd runs), each zip
// unpacked and its scripts run with `sh` exactly as the SSM agent runs them. One release per
// family; the fast simulation (test/program/distributorAgent.test.ts) covers the OS matrix.
// Each manager's case is one host: a PID namespace with its own /proc in the root file system,
// where the packages' maintainer scripts start the agent through its init script (a daemon named
// osqueryd that the next script sees) and their removal scripts stop it, and no procps; the
// scripts' health check (5 s here) must see the agent run. A broken build installs cleanly but
// its agent exits at once.
// The Protect (`uptycs-protect`) and sensor-only (`osquery`) fixtures ship the same agent files,
// as Uptycs' builds do, so switching a host between them meets the managers' real file conflicts.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { InstallerFamily } from "../../platforms/distributor";
import { renderScripts } from "../../platforms/scripts";
import { writeDeterministicZip } from "../../providers/zip";
import {
    AGENT_FILES, AGENT_LOG, buildDeb, buildRpm, ChrootRun, ensureRootfs, FixturePackage, HOST_IDENTITY, inChroot, MARKER_DIR, realToolsUnavailable,
} from "../support/realRootfs";
import { PidNamespace, pidNamespaceUnavailable } from "../support/pidNamespace";
import { skipUnlessReady } from "../support/tools";
import { readZip } from "../support/zipReader";

const OLD = "5.14.2.20";
const NEW = "5.14.2.21";
/** A build that installs cleanly but whose agent exits at once. */
const BROKEN = "5.14.2.23";
const HEALTH = { enabled: true, timeoutSeconds: 5 };
const NO_HEALTH = { enabled: false, timeoutSeconds: 5 };
/** What Debian's base system has of the process tools minimal images lack (sysvinit-utils' pidof): hidden. */
const PROCPS = ["pidof"];
const FIXTURES = path.join(__dirname, "..", "fixtures", "os-release");

interface ManagerCase {
    /** The package manager the scripts must pick. */
    readonly manager: "apt" | "dnf" | "zypper" | "rpm";
    readonly family: Exclude<InstallerFamily, "msi">;
    /** os-release fixture of the target. */
    readonly osRelease: string;
    /** Managers present in the root file system but hidden for this case, so the scripts' fallback is taken. */
    readonly hide: readonly string[];
    /** A dependency that is installed in the root file system. */
    readonly presentDependency: string;
    /** The manager's own words for a missing dependency. */
    readonly missingDependency: RegExp;
    /** What a pinned downgrade prints. */
    readonly downgrade: RegExp;
    /** What only this manager prints while installing: proof the scripts chose it. */
    readonly signature: RegExp;
    /** The manager's own command installing a local package file, without the scripts. */
    readonly direct: (file: string) => string;
    /** Its words when that package's files are already another package's. */
    readonly conflict: RegExp;
    /** Runs the broken-build cases: the health check runs after whichever manager installed, so apt, dnf and rpm alone show it. */
    readonly brokenBuild: boolean;
}

const APT = (f: string): string => `apt-get install -y ./${f}`;
const DNF = (f: string): string => `dnf install -y ./${f}`;
const APT_CONFLICT = /trying to overwrite '\/(usr\/bin\/osqueryd|etc\/osquery\/osquery\.flags|etc\/init\.d\/osqueryd)', which is also in package uptycs-protect/;
const RPM_CONFLICT = /file \/usr\/bin\/osqueryd from install of osquery\S* conflicts with file from package uptycs-protect/i;
const ZYPPER_CONFLICT = /File \/usr\/bin\/osqueryd\s+from install of\s+osquery\S+ .*\s+conflicts with file from package\s+uptycs-protect/;

const CASES: ManagerCase[] = [
    { manager: "apt", family: "deb", osRelease: "ubuntu-22.04", hide: [], presentDependency: "dpkg", missingDependency: /libuptycs-missing/, downgrade: /DOWNGRADED/, signature: /Reading package lists/, direct: APT, conflict: APT_CONFLICT , brokenBuild: true },
    { manager: "apt", family: "deb", osRelease: "debian-12", hide: [], presentDependency: "dpkg", missingDependency: /libuptycs-missing/, downgrade: /DOWNGRADED/, signature: /Reading package lists/, direct: APT, conflict: APT_CONFLICT , brokenBuild: false },
    { manager: "dnf", family: "rpm", osRelease: "rhel-9", hide: [], presentDependency: "test-base-system", missingDependency: /nothing provides libuptycs-missing/, downgrade: /downgrading from .*Downgraded:/s, signature: /Dependencies resolved/, direct: DNF, conflict: RPM_CONFLICT , brokenBuild: true },
    { manager: "dnf", family: "rpm", osRelease: "amazonlinux-2023", hide: [], presentDependency: "test-base-system", missingDependency: /nothing provides libuptycs-missing/, downgrade: /downgrading from .*Downgraded:/s, signature: /Dependencies resolved/, direct: DNF, conflict: RPM_CONFLICT , brokenBuild: false },
    { manager: "zypper", family: "rpm", osRelease: "sles-15", hide: ["dnf"], presentDependency: "test-base-system", missingDependency: /libuptycs-missing/, downgrade: /downgrading from/, signature: /Loading repository data/, direct: (f) => `zypper --non-interactive --no-gpg-checks install ./${f}`, conflict: ZYPPER_CONFLICT , brokenBuild: false },
    { manager: "rpm", family: "rpm", osRelease: "rhel-9", hide: ["dnf", "zypper"], presentDependency: "test-base-system", missingDependency: /libuptycs-missing is needed by/, downgrade: /downgrading from/, signature: /Preparing\.\.\./, direct: (f) => `rpm -U ./${f}`, conflict: RPM_CONFLICT , brokenBuild: true },
];

const ROOTFS = {
    deb: { name: "deb", include: [] as string[] },
    rpm: { name: "rpm", include: ["rpm", "dnf", "zypper"] },
};

describe("install scripts on real package managers (chroot)", function () {
    this.timeout(900_000);
    const rootfs: Partial<Record<"deb" | "rpm", string>> = {};
    let work: string;
    const installers = new Map<string, string>();

    before(function () {
        skipUnlessReady(this, realToolsUnavailable() ?? pidNamespaceUnavailable());
        for (const family of ["deb", "rpm"] as const) {
            const made = ensureRootfs(ROOTFS[family]);
            rootfs[family] = made.dir;
            console.log(`      root file system ${family}: ${made.seconds > 0 ? `made in ${made.seconds.toFixed(0)} s` : "cached"}`);
        }
        work = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-realtools-"));
        const packages: FixturePackage[] = [
            { name: "uptycs-protect", version: OLD }, { name: "uptycs-protect", version: NEW },
            { name: "uptycs-protect", version: "5.14.2.22", requires: "libuptycs-missing" },
            { name: "uptycs-protect", version: BROKEN, crashes: true },
        ];
        for (const p of packages) {
            installers.set(`deb:${p.version}`, buildDeb(p, work));
            installers.set(`rpm:${p.version}`, buildRpm(p, work));
        }
        // The sensor-only build: its dependency present, or (a switch that cannot complete) missing.
        installers.set("deb:osquery", buildDeb({ name: "osquery", version: NEW, requires: "dpkg" }, work));
        installers.set("rpm:osquery", buildRpm({ name: "osquery", version: NEW, requires: "test-base-system" }, work));
        installers.set("deb:osquery-missing", buildDeb({ name: "osquery", version: "5.14.2.22", requires: "libuptycs-missing" }, work));
        installers.set("rpm:osquery-missing", buildRpm({ name: "osquery", version: "5.14.2.22", requires: "libuptycs-missing" }, work));
        // An rpm database where RPM distributions keep it (Debian's rpm defaults to ~/.rpmdb, which
        // libzypp never reads), fresh each run, listing the distribution's base packages as a real
        // one would (bash provides /bin/sh, which every scriptlet needs).
        const base = buildRpm({ name: "test-base-system", version: "1", provides: "/bin/sh", agent: false }, work);
        fs.copyFileSync(base, path.join(rootfs.rpm!, "tmp", "base.rpm"));
        const r = inChroot(rootfs.rpm!, [
            "mkdir -p /etc/rpm", "echo '%_dbpath /var/lib/rpm' > /etc/rpm/macros.dbpath",
            "rm -rf /root/.rpmdb /var/lib/rpm /var/cache/zypp", "rpm --initdb", "rpm -i --justdb --nodeps /tmp/base.rpm",
        ].join(" && "));
        assert.strictEqual(r.status, 0, r.output);
    });
    after(() => {
        if (work !== undefined) {
            fs.rmSync(work, { recursive: true, force: true });
        }
    });

    for (const c of CASES) {
        describe(`${c.manager} on ${c.osRelease}${c.hide.length > 0 ? ` (no ${c.hide.join(", no ")})` : ""}`, () => {
            let root: string;
            let host: PidNamespace;
            /** A command on this case's host. */
            const sh = (script: string, env: NodeJS.ProcessEnv = {}): ChrootRun => inChroot(root, script, env, host);
            const installed = (name = "uptycs-protect"): string => sh(c.family === "deb"
                ? `dpkg-query -W -f '\${Status} \${Version}' ${name} 2>/dev/null | sed -n 's/^install ok installed //p'`
                : `rpm -q --qf '%{VERSION}' ${name} 2>/dev/null || true`).output.trim().replace(/^package .* is not installed$/, "");

            /**
             * Unpacks the zip of `installer` as Distributor would and runs one of its scripts. The
             * health check (5 s) is on where a case is about it (`checked`); elsewhere off, as its
             * watch of every healthy install would cost the suite a minute.
             */
            const run = async (installerKey: string, script: "install.sh" | "uninstall.sh" | "update.sh" | "validate.sh", checked = false): Promise<ChrootRun> => {
                const installer = installers.get(`${c.family}:${installerKey}`)!;
                const name = path.basename(installer);
                const zip = path.join(work, `${c.manager}-${c.osRelease}-${installerKey}.zip`);
                await writeDeterministicZip([
                    ...Object.entries(renderScripts(c.family, "UptycsAgent", name, checked ? HEALTH : NO_HEALTH)).map(([n, content]) => ({ name: n, content, mode: 0o755 })),
                    { name, stream: fs.createReadStream(installer), mode: 0o644 },
                ], zip);
                const dir = path.join(root, "var", "lib", "amazon", "ssm", "packages", installerKey);
                fs.rmSync(dir, { recursive: true, force: true });
                fs.mkdirSync(dir, { recursive: true });
                for (const entry of await readZip(zip)) {
                    fs.writeFileSync(path.join(dir, entry.name), entry.data, { mode: entry.mode });
                }
                return sh(`cd /var/lib/amazon/ssm/packages/${installerKey} && sh ${script}`);
            };
            const ok = (r: ChrootRun): void => assert.strictEqual(r.status, 0, r.output);
            /** Exactly these builds' versions, as the real database has them. */
            const builds = (): { "uptycs-protect": string; osquery: string } => ({ "uptycs-protect": installed(), osquery: installed("osquery") });
            /** What the agent binary on the host says it is: the build whose files are in place. */
            const agent = (): string => sh(AGENT_FILES.binary).output.trim();
            const identity = (): string => sh(`cat ${HOST_IDENTITY}`).output.trim();
            /** The agent processes on the host: /proc/<pid>/comm of osqueryd. */
            const agentProcesses = (): number => Number(sh('n=0; for c in /proc/[0-9]*/comm; do [ "$(cat "$c" 2>/dev/null)" = osqueryd ] && n=$((n + 1)); done; echo "$n"').output.trim());
            const marker = (): string => fs.readFileSync(path.join(root, MARKER_DIR.slice(1), "uptycs-protect"), "utf8").trim();

            before(() => {
                root = rootfs[c.family]!;
                host = PidNamespace.start(`mount -t proc proc ${root}/proc`);
                fs.copyFileSync(path.join(FIXTURES, c.osRelease), path.join(root, "etc", "os-release"));
                for (const tool of [...c.hide, ...PROCPS]) {
                    ok(sh(`mv /usr/bin/${tool} /usr/bin/${tool}.hidden`));
                }
                // A clean start: nothing of an earlier case installed, no identity left.
                ok(sh(c.family === "deb" ? "dpkg --purge uptycs-protect osquery >/dev/null" : "rpm -e --nodeps uptycs-protect osquery >/dev/null 2>&1 || true"));
                ok(sh(`rm -rf ${path.dirname(HOST_IDENTITY)} ${path.dirname(AGENT_FILES.flags)} ${path.dirname(AGENT_LOG)} /run/osqueryd.pid`));
                // As on minimal images: nothing of procps to find the agent with.
                assert.notStrictEqual(sh("command -v pgrep || command -v pidof || command -v ps").status, 0, "no procps in the root file system");
                assert.strictEqual(agentProcesses(), 0);
                assert.strictEqual(installed(), "");
                assert.strictEqual(installed("osquery"), "");
            });
            after(() => {
                for (const tool of [...c.hide, ...PROCPS]) {
                    sh(`mv /usr/bin/${tool}.hidden /usr/bin/${tool}`);
                }
                // Its processes, and its proc mount (its own mount namespace), end with it.
                host?.stop();
            });

            it("fresh install: the package is in the real database, its maintainer script ran and started the agent, which the health check saw", async () => {
                const t = Date.now();
                const r = await run(OLD, "install.sh", true);
                ok(r);
                assert.match(r.output, c.signature, `installed by ${c.manager}`);
                assert.strictEqual(installed(), OLD);
                assert.strictEqual(marker(), `uptycs-protect ${OLD}`);
                assert.match(r.output, /UptycsAgent: the agent service osqueryd runs \(\/etc\/init\.d\/osqueryd status exited 0\)/);
                assert.ok(Date.now() - t < 5000, "seen running, not the timeout sat out");
                assert.strictEqual(agentProcesses(), 1);
                ok(await run(OLD, "validate.sh", true));
            });

            it("installing the installed version again succeeds and changes nothing", async () => {
                const r = await run(OLD, "install.sh");
                ok(r);
                assert.match(r.output, /already installed/);
                assert.strictEqual(installed(), OLD);
            });

            it("upgrade as Uninstall and reinstall: the old package's uninstall, then the new one's install", async () => {
                ok(await run(OLD, "uninstall.sh"));
                assert.strictEqual(installed(), "");
                ok(await run(NEW, "install.sh"));
                assert.strictEqual(installed(), NEW);
                assert.strictEqual(marker(), `uptycs-protect ${NEW}`);
            });

            it("a pinned downgrade installs the older version over the newer one", async () => {
                const r = await run(OLD, "install.sh");
                ok(r);
                assert.match(r.output, c.downgrade);
                assert.strictEqual(installed(), OLD);
            });

            it("in-place update from the older version", async () => {
                ok(await run(NEW, "update.sh"));
                assert.strictEqual(installed(), NEW);
                assert.strictEqual(marker(), `uptycs-protect ${NEW}`);
            });

            it("uninstall, then uninstall when absent, both succeed", async () => {
                ok(await run(NEW, "uninstall.sh"));
                assert.strictEqual(installed(), "");
                const again = await run(NEW, "uninstall.sh");
                ok(again);
                assert.match(again.output, /not installed; nothing to remove/);
            });

            it("a dependency that is installed is resolved", async () => {
                assert.strictEqual(agentProcesses(), 0, "uninstall left no agent running");
                ok(await run("osquery", "install.sh"));
                assert.strictEqual(installed("osquery"), NEW);
                ok(await run("osquery", "uninstall.sh"));
                assert.strictEqual(installed("osquery"), "");
            });

            it("a missing dependency fails the install, non-zero, with the manager's own message; nothing installed", async () => {
                const r = await run("5.14.2.22", "install.sh");
                assert.notStrictEqual(r.status, 0, r.output);
                assert.match(r.output, c.missingDependency);
                assert.strictEqual(installed(), "");
            });

            it("the fixtures conflict as Uptycs' builds do: the manager alone refuses to put one build beside the other", async () => {
                ok(await run(NEW, "install.sh"));
                const file = path.basename(installers.get(`${c.family}:osquery`)!);
                fs.copyFileSync(installers.get(`${c.family}:osquery`)!, path.join(root, "tmp", file));
                const r = inChroot(root, `cd /tmp && ${c.direct(file)}`);
                assert.notStrictEqual(r.status, 0, r.output);
                assert.match(r.output, c.conflict);
                assert.deepStrictEqual(builds(), { "uptycs-protect": NEW, osquery: "" });
            });

            it("in-place switch Protect → sensor-only → Protect: exactly one build each time, the agent's identity kept", async () => {
                const enrolled = identity();
                assert.notStrictEqual(enrolled, "");
                let r = await run("osquery", "update.sh");
                ok(r);
                assert.match(r.output, /replacing the other build uptycs-protect/);
                assert.deepStrictEqual(builds(), { "uptycs-protect": "", osquery: NEW });
                assert.strictEqual(agent(), `osquery ${NEW}`);
                r = await run(NEW, "update.sh");
                ok(r);
                assert.match(r.output, /replacing the other build osquery/);
                assert.deepStrictEqual(builds(), { "uptycs-protect": NEW, osquery: "" });
                assert.strictEqual(agent(), `uptycs-protect ${NEW}`);
                assert.strictEqual(identity(), enrolled);
            });

            it("install.sh on a host that runs the other build replaces it", async () => {
                const r = await run("osquery", "install.sh");
                ok(r);
                assert.deepStrictEqual(builds(), { "uptycs-protect": "", osquery: NEW });
                assert.strictEqual(agent(), `osquery ${NEW}`);
            });

            it("uninstall removes whichever build is installed (Uninstall and reinstall across a switch)", async () => {
                const r = await run(NEW, "uninstall.sh");
                ok(r);
                assert.match(r.output, /removing osquery/);
                assert.deepStrictEqual(builds(), { "uptycs-protect": "", osquery: "" });
                ok(await run(NEW, "install.sh"));
                assert.deepStrictEqual(builds(), { "uptycs-protect": NEW, osquery: "" });
            });

            it("a switch that cannot complete fails with the manager's reason and leaves the old build installed", async () => {
                for (const script of ["update.sh", "install.sh"] as const) {
                    const r = await run("osquery-missing", script);
                    assert.notStrictEqual(r.status, 0, r.output);
                    assert.match(r.output, /libuptycs-missing/);
                    assert.deepStrictEqual(builds(), { "uptycs-protect": NEW, osquery: "" }, script);
                    assert.strictEqual(agent(), `uptycs-protect ${NEW}`);
                }
                ok(await run(NEW, "uninstall.sh"));
                assert.deepStrictEqual(builds(), { "uptycs-protect": "", osquery: "" });
            });

            // Each sits out the 5 s timeout: one OS per manager.
            if (c.brokenBuild) {
                it("a build that installs cleanly but whose agent exits at once: install and validate fail within the timeout, naming osqueryd, with the agent's last log lines", async () => {
                    const t = Date.now();
                    const r = await run(BROKEN, "install.sh", true);
                    const seconds = (Date.now() - t) / 1000;
                    assert.notStrictEqual(r.status, 0, r.output);
                    assert.strictEqual(installed(), BROKEN, "the package manager installed it");
                    assert.match(r.output, /UptycsAgent: ERROR: the agent service osqueryd is not running 5 s after the package manager finished \(\/etc\/init\.d\/osqueryd status exited 3\)/);
                    assert.match(r.output, new RegExp(`== ${AGENT_LOG}\nosqueryd ${BROKEN}: TLS handshake with the Uptycs endpoint failed`));
                    assert.ok(seconds >= 5 && seconds < 20, `within the timeout (${seconds} s)`);
                    const v = await run(BROKEN, "validate.sh", true);
                    assert.notStrictEqual(v.status, 0, v.output);
                    assert.match(v.output, /the agent service osqueryd is not running/);
                    assert.strictEqual(agentProcesses(), 0);
                });

                it("an in-place update to the broken build fails; uninstall leaves no agent running", async () => {
                    ok(await run(BROKEN, "uninstall.sh"));
                    ok(await run(NEW, "install.sh", true));
                    assert.strictEqual(agentProcesses(), 1);
                    const r = await run(BROKEN, "update.sh", true);
                    assert.notStrictEqual(r.status, 0, r.output);
                    assert.match(r.output, /ERROR: the agent service osqueryd is not running 5 s after/);
                    assert.strictEqual(installed(), BROKEN);
                    assert.strictEqual(agentProcesses(), 0);
                    ok(await run(NEW, "update.sh", true));
                    assert.strictEqual(agentProcesses(), 1, "the healthy build runs again");
                    ok(await run(NEW, "uninstall.sh"));
                    assert.strictEqual(agentProcesses(), 0, "uninstall (the package's prerm) leaves no agent running");
                });
            }
        });
    }
});
