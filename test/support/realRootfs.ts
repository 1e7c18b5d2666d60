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

/** Runs `script` with `sh -c` inside `rootfs` as root; `env` replaces the environment. */
export function inChroot(rootfs: string, script: string, env: NodeJS.ProcessEnv = {}): ChrootRun {
    const r: SpawnSyncReturns<string> = spawnSync("chroot", [rootfs, "/bin/sh", "-c", `${script} 2>&1`], {
        encoding: "utf8",
        timeout: 300_000,
        env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", ...env },
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
}

/** What the fixtures' maintainer scripts write: `<name> <version>`, at install and at upgrade. */
export const MARKER_DIR = "/var/lib/uptycs-test";

// As vendor packages do: record the install, start the service where systemd runs (it never does
// in a chroot, as in containers), and never fail for the lack of it.
const postInstall = (p: FixturePackage): string => `mkdir -p ${MARKER_DIR}
echo "${p.name} ${p.version}" > ${MARKER_DIR}/${p.name}
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemctl restart ${p.name === "osquery" ? "osqueryd" : "uptycs"} || true; fi
`;

/** Builds `p` as an unsigned x86_64 RPM with rpmbuild; returns its path (named as Uptycs names it). */
export function buildRpm(p: FixturePackage, outDir: string): string {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-rpmbuild-"));
    try {
        const spec = path.join(top, "p.spec");
        fs.writeFileSync(spec, [
            `Name: ${p.name}`, `Version: ${p.version}`, "Release: 1", "Summary: test stand-in for an Uptycs agent", "License: Proprietary",
            "BuildArch: x86_64", "AutoReqProv: no", ...(p.requires ? [`Requires: ${p.requires}`] : []), ...(p.provides ? [`Provides: ${p.provides}`] : []),
            "%description", "test stand-in", "%install", `mkdir -p %{buildroot}/opt/${p.name}`, `echo ${p.version} > %{buildroot}/opt/${p.name}/VERSION`,
            "%post", postInstall(p), "%files", `/opt/${p.name}/VERSION`, "",
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
        fs.mkdirSync(path.join(root, "opt", p.name), { recursive: true });
        fs.writeFileSync(path.join(root, "opt", p.name, "VERSION"), `${p.version}\n`);
        fs.writeFileSync(path.join(root, "DEBIAN", "control"), [
            `Package: ${p.name}`, `Version: ${p.version}`, "Architecture: amd64", "Maintainer: tests <tests@example.invalid>",
            ...(p.requires ? [`Depends: ${p.requires}`] : []), "Description: test stand-in for an Uptycs agent", "",
        ].join("\n"));
        fs.writeFileSync(path.join(root, "DEBIAN", "postinst"), `#!/bin/sh\nset -e\n${postInstall(p)}`, { mode: 0o755 });
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
