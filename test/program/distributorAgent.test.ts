// Every supported OS picks exactly one zip from the published manifest, and that zip's scripts
// leave the instance in the right state in every lifecycle step, run with dash against fake
// package managers. Two package versions are built first (5.13.1.4 and 5.14.2.21), and the
// sensor-only build of the newer one, whose package shares the Protect build's files (the fakes
// refuse one beside the other, as the real managers do).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DistributorManifest } from "../../platforms/manifest";
import { renderScripts } from "../../platforms/scripts";
import { FakeUptycsApi } from "../support/fakeUptycsApi";
import { parseOsRelease, resolvePackageFile, SimulatedInstance } from "../support/distributorAgent";
import { pidNamespaceUnavailable } from "../support/pidNamespace";
import { skipUnlessReady } from "../support/tools";
import { ROOT, TestStack } from "../support/e2e";
import { ProgramRun } from "../support/program";

const OS_RELEASE = path.join(__dirname, "..", "fixtures", "os-release");
const RPM_MANAGERS: Record<string, string[]> = {
    dnf: ["rpm", "dnf", "systemctl"], yum: ["rpm", "yum", "systemctl"], zypper: ["rpm", "zypper", "systemctl"], rpm: ["rpm"],
};
const DEB_MANAGERS = ["dpkg-deb", "dpkg-query", "apt-get", "systemctl"];

interface Case {
    readonly fixture: string;
    readonly arch: "x86_64" | "arm64";
    /** Expected manifest platform, or undefined when Uptycs/Distributor has no package for it. */
    readonly platform?: string;
    /** Package manager of the image (rpm family), "apt", or "msi". */
    readonly manager?: string;
}

// fixture, platform, package manager, architectures Uptycs and Distributor serve there
const SUPPORTED: [string, string, string, ("x86_64" | "arm64")[]][] = [
    ["amazonlinux-2", "amazon", "yum", ["x86_64", "arm64"]],
    ["amazonlinux-2023", "amazon", "dnf", ["x86_64", "arm64"]],
    ["rhel-8", "redhat", "dnf", ["x86_64", "arm64"]],
    ["rhel-9", "redhat", "dnf", ["x86_64"]],
    ["rhel-9", "redhat", "rpm", ["arm64"]], // a minimal image: plain rpm only
    ["centos-7", "centos", "yum", ["x86_64"]],
    ["rocky-9", "rocky", "dnf", ["x86_64", "arm64"]],
    ["almalinux-9", "almalinux", "dnf", ["x86_64", "arm64"]],
    ["oracle-8", "oracle", "dnf", ["x86_64"]],
    ["sles-15", "suse", "zypper", ["x86_64"]],
    ["opensuse-leap-15", "opensuseleap", "zypper", ["x86_64"]],
    ["ubuntu-20.04", "ubuntu", "apt", ["x86_64", "arm64"]],
    ["ubuntu-22.04", "ubuntu", "apt", ["x86_64", "arm64"]],
    ["ubuntu-24.04", "ubuntu", "apt", ["x86_64", "arm64"]],
    ["debian-11", "debian", "apt", ["x86_64"]],
    ["debian-12", "debian", "apt", ["x86_64"]],
    ["windows-server-2019", "windows", "msi", ["x86_64"]],
    ["windows-server-2022", "windows", "msi", ["x86_64"]],
];
// Instances that exist on AWS but get no package: Uptycs or Distributor has no arm64 build there.
const UNSUPPORTED = ["centos-7", "oracle-8", "sles-15", "debian-12"];

const CASES: Case[] = [
    ...SUPPORTED.flatMap(([fixture, platform, manager, archs]) => archs.map((arch) => ({ fixture, arch, platform, manager }))),
    ...UNSUPPORTED.map((fixture): Case => ({ fixture, arch: "arm64" })),
];

/** Images with the same package manager and architecture get the same zip and run the same scripts. */
const lifecycleKey = (c: Case): string => `${c.manager}/${c.arch}`;
/** The first image of each {@link lifecycleKey}: the one whose lifecycle runs. */
const LIFECYCLE_CASES = new Map<string, Case>();
for (const c of CASES.filter((x) => x.platform !== undefined && x.manager !== "msi")) {
    if (!LIFECYCLE_CASES.has(lifecycleKey(c))) {
        LIFECYCLE_CASES.set(lifecycleKey(c), c);
    }
}

interface Built {
    readonly manifest: DistributorManifest;
    readonly zipPaths: Record<string, string>;
}

function built(run: ProgramRun): Built {
    const manifest = JSON.parse(run.one("aws:s3/bucketObjectv2:BucketObjectv2", "uptycs-manifest").inputs.content as string) as DistributorManifest;
    const zipPaths: Record<string, string> = {};
    for (const a of run.byType("pulumi-nodejs:dynamic/uptycs:UptycsAgentArtifact")) {
        zipPaths[a.state.zipFileName as string] = path.join(ROOT, a.state.zipPath as string);
    }
    return { manifest, zipPaths };
}

describe("Distributor agent simulation: every OS, every lifecycle step", function () {
    let api: FakeUptycsApi;
    let stack: TestStack;
    let oldPkg: Built;
    let newPkg: Built;
    let sensorPkg: Built;
    /** The same three with the health check on. */
    let checked: { oldPkg: Built; newPkg: Built };
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-sim-"));
    const instances: SimulatedInstance[] = [];
    /** A fresh instance (its own PID namespace), ended after the suite. */
    const instance = (root: string, managers: readonly string[]): SimulatedInstance => {
        const inst = new SimulatedInstance(root, managers);
        instances.push(inst);
        return inst;
    };
    // The OS matrix runs its scripts with the health check off: it proves zip selection and the
    // package managers, and the check's one-second watch of every healthy install would cost it
    // minutes. The check itself is proven below (and on the real managers) with its shortest
    // timeout, 5 s, so a failing case takes seconds.
    const NO_HEALTH = { healthCheck: JSON.stringify({ enabled: false }) };
    const HEALTH = { healthCheck: JSON.stringify({ timeoutSeconds: 5 }) };

    before(async function () {
        skipUnlessReady(this, pidNamespaceUnavailable());
        api = await FakeUptycsApi.start({ installerSize: 8 * 1024 });
        stack = TestStack.create(api, "sim");
        oldPkg = built(await stack.up({ agentVersion: "5.13.1.4", ...NO_HEALTH }));
        newPkg = built(await stack.up({ agentVersion: "5.14.2.21", ...NO_HEALTH }));
        sensorPkg = built(await stack.up({ agentVersion: "5.14.2.21", sensorOnly: "true", ...NO_HEALTH }));
        checked = {
            oldPkg: built(await stack.up({ agentVersion: "5.13.1.4", ...HEALTH })),
            newPkg: built(await stack.up({ agentVersion: "5.14.2.21", ...HEALTH })),
        };
    });
    after(async () => {
        instances.forEach((i) => i.stop());
        stack?.remove();
        fs.rmSync(tmp, { recursive: true, force: true });
        await api?.stop();
    });

    it("images whose lifecycle runs once per package manager and architecture resolve one and the same zip", () => {
        for (const [key, first] of LIFECYCLE_CASES) {
            const zipOf = (c: Case): string => resolvePackageFile(newPkg.manifest, parseOsRelease(fs.readFileSync(path.join(OS_RELEASE, c.fixture), "utf8")), c.arch);
            const same = CASES.filter((c) => c.platform !== undefined && lifecycleKey(c) === key);
            assert.deepStrictEqual(new Set(same.map(zipOf)), new Set([zipOf(first)]), `${key}: ${same.map((c) => c.fixture).join(", ")}`);
        }
    });

    it("covers every manifest entry with at least one OS fixture", () => {
        const covered = new Set(CASES.filter((c) => c.platform).map((c) => `${c.platform}/${c.arch}`));
        for (const [platform, versions] of Object.entries(newPkg.manifest.packages)) {
            for (const arch of Object.keys(versions._any)) {
                if (platform !== "opensuse") {
                    assert.ok(covered.has(`${platform}/${arch}`), `${platform}/${arch} has no fixture`);
                }
            }
        }
    });

    for (const c of CASES) {
        const title = `${c.fixture} ${c.arch}`;
        const osRelease = (): Record<string, string> => parseOsRelease(fs.readFileSync(path.join(OS_RELEASE, c.fixture), "utf8"));

        if (c.platform === undefined) {
            it(`${title}: not supported, with the agent's clear message`, () => {
                assert.throws(() => resolvePackageFile(newPkg.manifest, osRelease(), c.arch), /no manifest found for platform: \w+, version [\d.]+, architecture arm64/);
            });
            continue;
        }

        it(`${title}: resolves exactly one zip, of ${c.platform}/${c.arch}`, () => {
            const file = resolvePackageFile(newPkg.manifest, osRelease(), c.arch);
            assert.strictEqual(file, newPkg.manifest.packages[c.platform!]._any[c.arch].file);
            assert.ok(newPkg.zipPaths[file], "the zip exists");
        });

        if (c.platform === "windows") {
            it(`${title}: the zip holds one MSI and exactly the PowerShell scripts the Windows suite runs (test/windows)`, async () => {
                const inst = instance(path.join(tmp, `${c.fixture}-${c.arch}`), []);
                const dir = await inst.unpack(checked.newPkg.zipPaths[resolvePackageFile(checked.newPkg.manifest, osRelease(), c.arch)], "new");
                const msis = fs.readdirSync(dir).filter((f) => f.endsWith(".msi"));
                assert.strictEqual(msis.length, 1, fs.readdirSync(dir).join(", "));
                const expected = renderScripts("msi", "UptycsAgent", msis[0], { enabled: true, timeoutSeconds: 5 });
                assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".ps1")).sort(), Object.keys(expected).sort());
                for (const [name, text] of Object.entries(expected)) {
                    assert.strictEqual(fs.readFileSync(path.join(dir, name), "utf8"), text, name);
                }
            });
            continue;
        }

        // The scripts never look at the OS, only at its package and service managers. An arm64
        // image whose x86_64 twin has the same package manager, and an image whose zip (shared
        // among platforms, checked below) and manager an earlier image already has, run the same
        // scripts against the same managers: their zip is resolved above, the lifecycle runs once.
        if ((c.arch === "arm64" && CASES.some((x) => x.fixture === c.fixture && x.manager === c.manager && x.arch === "x86_64")) || LIFECYCLE_CASES.get(lifecycleKey(c)) !== c) {
            continue;
        }

        it(`${title} (${c.manager}): install, reinstall, uninstall, uninstall when absent, upgrade, in-place update and downgrade`, async () => {
            const deb = c.manager === "apt";
            const inst = instance(path.join(tmp, `${c.fixture}-${c.arch}`), deb ? DEB_MANAGERS : RPM_MANAGERS[c.manager!]);
            const newDir = await inst.unpack(newPkg.zipPaths[resolvePackageFile(newPkg.manifest, osRelease(), c.arch)], "new");
            const oldDir = await inst.unpack(oldPkg.zipPaths[resolvePackageFile(oldPkg.manifest, osRelease(), c.arch)], "old");
            const ver = (v: string): string => (deb ? v : `${v}-1`);
            const manager = deb ? "apt-get" : c.manager!;
            const mutating = (calls: string[]): string[] => calls.filter((l) => / (install|remove|purge|downgrade) |^rpm -(U|i|e)/.test(l));
            const ok = (r: { status: number; output: string }, step: string): void => assert.strictEqual(r.status, 0, `${step}: ${r.output}`);

            // fresh install
            let r = inst.run(newDir, "install.sh");
            ok(r, "install");
            assert.deepStrictEqual(inst.packages(), { "uptycs-protect": ver("5.14.2.21") });
            assert.ok(inst.agentRunning(), "the package's maintainer script started the agent");
            const installer = fs.readdirSync(newDir).find((f) => /\.(rpm|deb)$/.test(f))!;
            const expectedInstall = {
                apt: `apt-get install -y --allow-downgrades ./${installer}`,
                dnf: `dnf install -y ./${installer}`,
                yum: `yum install -y ./${installer}`,
                zypper: `zypper --non-interactive --no-gpg-checks install ./${installer}`,
                rpm: `rpm -Uvh ./${installer}`,
            }[c.manager!];
            assert.deepStrictEqual(mutating(r.calls), [expectedInstall]);
            assert.match(r.output, /^UptycsAgent: installing uptycs-protect/m);

            // the same version again: success, nothing changes
            r = inst.run(newDir, "install.sh");
            ok(r, "reinstall");
            assert.deepStrictEqual(mutating(r.calls), []);
            assert.match(r.output, /already installed/);

            // uninstall, then uninstall when absent
            r = inst.run(newDir, "uninstall.sh");
            ok(r, "uninstall");
            assert.deepStrictEqual(inst.packages(), {});
            assert.strictEqual(mutating(r.calls).length, 1);
            assert.ok(mutating(r.calls)[0].startsWith(deb ? "apt-get remove -y uptycs-protect" : manager === "rpm" ? "rpm -e uptycs-protect" : `${manager} `));
            r = inst.run(newDir, "uninstall.sh");
            ok(r, "uninstall when absent");
            assert.deepStrictEqual(mutating(r.calls), []);
            assert.match(r.output, /not installed; nothing to remove/);

            // upgrade as SSM does it: the old package's uninstall, then the new package's install
            ok(inst.run(oldDir, "install.sh"), "install old");
            assert.deepStrictEqual(inst.packages(), { "uptycs-protect": ver("5.13.1.4") });
            ok(inst.run(oldDir, "uninstall.sh"), "old uninstall");
            ok(inst.run(newDir, "install.sh"), "new install");
            assert.deepStrictEqual(inst.packages(), { "uptycs-protect": ver("5.14.2.21") });

            // in-place update from the old version, with the upgrade leaving the service stopped
            ok(inst.run(newDir, "uninstall.sh"), "reset");
            ok(inst.run(oldDir, "install.sh"), "install old again");
            r = inst.run(newDir, "update.sh", { FAKE_UPGRADE_STOPS_SERVICE: "1" });
            ok(r, "in-place update");
            assert.deepStrictEqual(inst.packages(), { "uptycs-protect": ver("5.14.2.21") });
            // Even with the health check off, update starts a stopped agent where a service manager has it.
            assert.strictEqual(inst.agentRunning(), c.manager !== "rpm");
            if (c.manager !== "rpm") {
                assert.ok(r.calls.includes("systemctl start osqueryd"), "update starts the stopped service");
            }
            assert.ok(!r.calls.some((l) => / remove | purge |^rpm -e/.test(l)), "in-place update removes nothing");

            // rollback to a pinned older version in place: the old package's update script downgrades
            r = inst.run(oldDir, "update.sh");
            ok(r, "in-place downgrade");
            assert.deepStrictEqual(inst.packages(), { "uptycs-protect": ver("5.13.1.4") });
            const expectedDowngrade = {
                apt: `apt-get install -y --allow-downgrades ./${fs.readdirSync(oldDir).find((f) => f.endsWith(".deb"))}`,
                dnf: `dnf downgrade -y ./${fs.readdirSync(oldDir).find((f) => f.endsWith(".rpm"))}`,
                yum: `yum downgrade -y ./${fs.readdirSync(oldDir).find((f) => f.endsWith(".rpm"))}`,
                zypper: `zypper --non-interactive --no-gpg-checks install --oldpackage ./${fs.readdirSync(oldDir).find((f) => f.endsWith(".rpm"))}`,
                rpm: `rpm -Uvh --oldpackage ./${fs.readdirSync(oldDir).find((f) => f.endsWith(".rpm"))}`,
            }[c.manager!];
            assert.deepStrictEqual(mutating(r.calls), [expectedDowngrade]);
        });
        it(`${title} (${c.manager}): switch between Protect and sensor-only in place and back, exactly one build each time`, async () => {
            const deb = c.manager === "apt";
            const inst = instance(path.join(tmp, `${c.fixture}-${c.arch}-switch`), deb ? DEB_MANAGERS : RPM_MANAGERS[c.manager!]);
            const zipOf = (b: Built): string => b.zipPaths[resolvePackageFile(b.manifest, osRelease(), c.arch)];
            const protectDir = await inst.unpack(zipOf(newPkg), "protect");
            const sensorDir = await inst.unpack(zipOf(sensorPkg), "sensor");
            const installerIn = (dir: string): string => fs.readdirSync(dir).find((f) => /\.(rpm|deb)$/.test(f))!;
            const ver = deb ? "5.14.2.21" : "5.14.2.21-1";
            const ok = (r: { status: number; output: string }, step: string): void => assert.strictEqual(r.status, 0, `${step}: ${r.output}`);
            const mutating = (calls: string[]): string[] => calls.filter((l) => / (install|remove|swap|downgrade) |^rpm -(U|e)/.test(l));
            const replaceCalls = (other: string, installer: string): string[] => ({
                apt: [`apt-get install -y --allow-downgrades ./${installer} ${other}-`],
                dnf: [`dnf swap -y ${other} ./${installer}`],
                yum: [`yum swap -y ${other} ./${installer}`],
                zypper: [`zypper --non-interactive --no-gpg-checks install ./${installer} !${other}`],
                rpm: [`rpm -e --test ${other}`, `rpm -U --test --replacefiles ./${installer}`, `rpm -e ${other}`, `rpm -Uvh ./${installer}`],
            } as Record<string, string[]>)[c.manager!];

            ok(inst.run(protectDir, "install.sh"), "install Protect");
            // The fixture is faithful: the manager alone refuses the other build beside this one.
            const direct = { apt: "apt-get install -y", dnf: "dnf install -y", yum: "yum install -y", zypper: "zypper --non-interactive install", rpm: "rpm -Uvh" }[c.manager!];
            fs.writeFileSync(path.join(sensorDir, "direct.sh"), `${direct} ./${installerIn(sensorDir)}\n`);
            const refused = inst.run(sensorDir, "direct.sh", { DEBIAN_FRONTEND: "noninteractive" });
            assert.notStrictEqual(refused.status, 0, refused.output);
            assert.match(refused.output, /(trying to overwrite|conflicts with file from package) .*uptycs-protect/);
            assert.deepStrictEqual(inst.packages(), { "uptycs-protect": ver });

            let r = inst.run(sensorDir, "update.sh");
            ok(r, "switch to sensor-only");
            assert.deepStrictEqual(mutating(r.calls), replaceCalls("uptycs-protect", installerIn(sensorDir)));
            assert.deepStrictEqual(inst.packages(), { osquery: ver });
            r = inst.run(protectDir, "update.sh");
            ok(r, "switch back to Protect");
            assert.deepStrictEqual(mutating(r.calls), replaceCalls("osquery", installerIn(protectDir)));
            assert.deepStrictEqual(inst.packages(), { "uptycs-protect": ver });

            // install.sh over the other build; uninstall.sh of either package removes whichever is installed
            ok(inst.run(sensorDir, "install.sh"), "install sensor-only over Protect");
            assert.deepStrictEqual(inst.packages(), { osquery: ver });
            ok(inst.run(protectDir, "uninstall.sh"), "Protect's uninstall");
            assert.deepStrictEqual(inst.packages(), {});

            // a switch that cannot complete: non-zero, the manager's words, the old build kept
            ok(inst.run(protectDir, "install.sh"), "install Protect again");
            r = inst.run(sensorDir, "update.sh", { FAKE_MISSING_DEPENDENCY: "libuptycs-missing" });
            assert.notStrictEqual(r.status, 0, r.output);
            assert.match(r.output, /nothing provides libuptycs-missing/);
            assert.deepStrictEqual(inst.packages(), { "uptycs-protect": ver });
        });
    }

    // A manager that leaves the other build installed when told to replace it in one transaction:
    // the scripts' exactly-one-build check must fail the install, not log and carry on.
    for (const [fixture, managers] of [["ubuntu-22.04", DEB_MANAGERS], ["rhel-9", RPM_MANAGERS.dnf], ["sles-15", RPM_MANAGERS.zypper]] as const) {
        it(`${fixture} (${managers[managers.length - 2]}): a switch that leaves the other build installed fails (install.sh and update.sh share the check)`, async () => {
            const inst = instance(path.join(tmp, `${fixture}-keeps-other`), managers);
            const release = parseOsRelease(fs.readFileSync(path.join(OS_RELEASE, fixture), "utf8"));
            const protectDir = await inst.unpack(newPkg.zipPaths[resolvePackageFile(newPkg.manifest, release, "x86_64")], "protect");
            const sensorDir = await inst.unpack(sensorPkg.zipPaths[resolvePackageFile(sensorPkg.manifest, release, "x86_64")], "sensor");
            for (const script of ["update.sh"]) {
                assert.strictEqual(inst.run(protectDir, "install.sh").status, 0);
                const r = inst.run(sensorDir, script, { FAKE_KEEPS_OTHER_BUILD: "1" });
                assert.notStrictEqual(r.status, 0, r.output);
                assert.match(r.output, /UptycsAgent: ERROR: the other build uptycs-protect is still installed next to osquery/);
                assert.deepStrictEqual(Object.keys(inst.packages()).sort(), ["osquery", "uptycs-protect"], "the fake did leave both");
                assert.strictEqual(inst.run(protectDir, "uninstall.sh").status, 0, "uninstall removes both builds");
            }
        });
    }

    // Managers that report success and change nothing (yum's exit 0 for a local package it will not
    // take, or for a name it does not match): the scripts' own checks must fail the step.
    for (const [fixture, managers] of [["ubuntu-22.04", DEB_MANAGERS], ["rhel-9", RPM_MANAGERS.dnf]] as const) {
        it(`${fixture} (${managers[managers.length - 2]}): an install or update that leaves the old version, and an uninstall that leaves the agent, fail`, async () => {
            const inst = instance(path.join(tmp, `${fixture}-no-change`), managers);
            const release = parseOsRelease(fs.readFileSync(path.join(OS_RELEASE, fixture), "utf8"));
            const oldDir = await inst.unpack(oldPkg.zipPaths[resolvePackageFile(oldPkg.manifest, release, "x86_64")], "old");
            const newDir = await inst.unpack(newPkg.zipPaths[resolvePackageFile(newPkg.manifest, release, "x86_64")], "new");
            assert.strictEqual(inst.run(oldDir, "install.sh").status, 0);
            const before = inst.packages();
            assert.match(before["uptycs-protect"], /^5\.13\.1\.4/);
            for (const script of ["install.sh", "update.sh"]) {
                const r = inst.run(newDir, script, { FAKE_INSTALL_KEEPS_OLD: "1" });
                assert.notStrictEqual(r.status, 0, r.output);
                assert.match(r.output, /UptycsAgent: ERROR: uptycs-protect 5\.14\.2\.21\S* is not installed after the install/, script);
                assert.deepStrictEqual(inst.packages(), before, "the fake did keep the old version");
            }
            const r = inst.run(oldDir, "uninstall.sh", { FAKE_REMOVE_LEAVES: "1" });
            assert.notStrictEqual(r.status, 0, r.output);
            assert.match(r.output, /UptycsAgent: ERROR: uptycs-protect still installed after the removal/);
            assert.deepStrictEqual(inst.packages(), before, "the fake did leave it");
        });
    }

    // The health check against daemons that run or die, with systemd and with no service manager at all.
    const HEALTH_CASES: [fixture: string, arch: "x86_64" | "arm64", managers: string[], how: RegExp, dead: RegExp][] = [
        ["rhel-9", "x86_64", RPM_MANAGERS.dnf, /\(systemctl is-active osqueryd: active\)/, /systemctl is-active osqueryd: failed/],
        ["rhel-9", "arm64", RPM_MANAGERS.rpm, /\(process \/proc\/[0-9]+\)/, /no process named osqueryd/],
    ];
    for (const [fixture, arch, managers, how, dead] of HEALTH_CASES) {
        it(`${fixture} ${arch} (${managers.includes("systemctl") ? "systemd" : "no service manager"}): an install counts when the agent runs; an agent that exits at once fails install, update and validate`, async () => {
            const inst = instance(path.join(tmp, `${fixture}-${arch}-health`), managers);
            const release = parseOsRelease(fs.readFileSync(path.join(OS_RELEASE, fixture), "utf8"));
            const newDir = await inst.unpack(checked.newPkg.zipPaths[resolvePackageFile(checked.newPkg.manifest, release, arch)], "new");
            const oldDir = await inst.unpack(checked.oldPkg.zipPaths[resolvePackageFile(checked.oldPkg.manifest, release, arch)], "old");
            const timed = (dir: string, script: string, env: NodeJS.ProcessEnv = {}): { status: number; output: string; seconds: number } => {
                const t = Date.now();
                const r = inst.run(dir, script, env);
                return { ...r, seconds: (Date.now() - t) / 1000 };
            };
            assert.ok(fs.existsSync(path.join(newDir, "validate.sh")), "every zip carries validate.sh");

            let r = timed(newDir, "install.sh");
            assert.strictEqual(r.status, 0, r.output);
            assert.match(r.output, how);
            assert.ok(r.seconds < 3.5, `a running agent is counted once it kept running 1 s, not after the timeout (${r.seconds} s)`);
            r = timed(newDir, "validate.sh");
            assert.strictEqual(r.status, 0, r.output);
            assert.ok(r.seconds < 3.5);
            assert.strictEqual(inst.run(newDir, "uninstall.sh").status, 0);
            assert.ok(!inst.agentRunning(), "uninstall leaves no agent running");

            // A build that installs cleanly but whose agent exits at once.
            r = timed(newDir, "install.sh", { FAKE_AGENT_CRASHES: "1" });
            assert.notStrictEqual(r.status, 0, r.output);
            assert.match(r.output, new RegExp(`UptycsAgent: ERROR: the agent service osqueryd is not running 5 s after the package manager finished \\([^)]*${dead.source}\\)`));
            assert.ok(r.seconds >= 5 && r.seconds < 15, `fails within the timeout (${r.seconds} s)`);
            assert.strictEqual(Object.keys(inst.packages()).length, 1, "the package manager installed it: only the agent is missing");
            r = timed(newDir, "validate.sh");
            assert.notStrictEqual(r.status, 0, r.output);
            assert.match(r.output, /the agent service osqueryd is not running/);

            // An agent that runs 0.8 s, then dies: seen running once, which does not count.
            assert.strictEqual(inst.run(newDir, "uninstall.sh").status, 0);
            r = timed(newDir, "install.sh", { FAKE_AGENT_CRASHES: "late" });
            assert.notStrictEqual(r.status, 0, r.output);
            assert.match(r.output, /ERROR: the agent service osqueryd is not running 5 s after the package manager finished/);

            // An in-place update from a healthy build to the broken one.
            assert.strictEqual(inst.run(newDir, "uninstall.sh").status, 0);
            assert.strictEqual(inst.run(oldDir, "install.sh").status, 0);
            assert.ok(inst.agentRunning());
            r = timed(newDir, "update.sh", { FAKE_AGENT_CRASHES: "1" });
            assert.notStrictEqual(r.status, 0, r.output);
            assert.match(r.output, /ERROR: the agent service osqueryd is not running 5 s after/);
            assert.ok(!inst.agentRunning());
        });
    }

    it("a package missing its installer fails the install with an error line and installs nothing", async () => {
        const inst = instance(path.join(tmp, "broken"), ["rpm", "dnf"]);
        const c = CASES.find((x) => x.fixture === "rhel-8" && x.arch === "x86_64")!;
        const dir = await inst.unpack(newPkg.zipPaths[resolvePackageFile(newPkg.manifest, parseOsRelease(fs.readFileSync(path.join(OS_RELEASE, c.fixture), "utf8")), c.arch)], "new");
        fs.rmSync(path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith(".rpm"))!));
        const r = inst.run(dir, "install.sh");
        assert.notStrictEqual(r.status, 0);
        assert.match(r.output, /UptycsAgent: ERROR: installer .* is missing from the package/);
        assert.deepStrictEqual(inst.packages(), {});
    });
});
