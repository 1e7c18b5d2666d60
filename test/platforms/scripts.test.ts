import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AGENT_BUILD_PACKAGES, renderScripts, scriptsDigest } from "../../platforms/scripts";
import { requireTool } from "../support/tools";

const INSTALLER = { rpm: "assets-uptycs-protect-5.7.0.25-Uptycs.aarch64.rpm", deb: "assets-uptycs-protect-5.7.0.25-Uptycs.deb", msi: "assets-osquery-5.5.1.14-Uptycs-windows.msi" };

describe("platforms/scripts", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-scripts-"));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    for (const family of ["rpm", "deb"] as const) {
        const scripts = renderScripts(family, "UptycsAgent", INSTALLER[family]);

        it(`${family}: install, uninstall and update scripts, POSIX sh without sudo or bashisms`, () => {
            assert.deepStrictEqual(Object.keys(scripts).sort(), ["install.sh", "uninstall.sh", "update.sh"]);
            for (const [name, text] of Object.entries(scripts)) {
                assert.ok(text.startsWith("#!/bin/sh\n"), name);
                assert.match(text, /^set -eu$/m, name);
                assert.ok(text.includes(`INSTALLER='${INSTALLER[family]}'`), `${name} names the installer`);
                assert.ok(!/\bsudo\b|\[\[|\bfunction\b|\$\{[A-Z_]+\/\/|<<<|\bsource\b/.test(text), `${name} has a bashism or sudo`);
                assert.ok(!/rpm -i|dpkg -i/.test(text), `${name} repeats an original defect`);
            }
        });

        it(`${family}: dash parses every script`, function () {
            requireTool(this, "dash");
            for (const [name, text] of Object.entries(scripts)) {
                const file = path.join(tmp, `${family}-${name}`);
                fs.writeFileSync(file, text);
                const dash = spawnSync("dash", ["-n", file], { encoding: "utf8" });
                assert.strictEqual(dash.status, 0, `${family}/${name}: ${dash.stderr}`);
            }
        });

        it(`${family}: shellcheck -s sh is clean`, function () {
            requireTool(this, "shellcheck");
            for (const [name, text] of Object.entries(scripts)) {
                const file = path.join(tmp, `${family}-sc-${name}`);
                fs.writeFileSync(file, text);
                const sc = spawnSync("shellcheck", ["-s", "sh", "-S", "style", file], { encoding: "utf8" });
                assert.strictEqual(sc.status, 0, `${family}/${name}:\n${sc.stdout}`);
            }
        });
    }

    it("rpm: dnf, else yum, else zypper, else rpm -U; reads name and version from the installer", () => {
        const s = renderScripts("rpm", "UptycsAgent", INSTALLER.rpm);
        const order = ["have dnf", "have yum", "have zypper", "rpm -Uvh"].map((x) => s["install.sh"].indexOf(x));
        assert.ok(order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1])), `order ${order}`);
        assert.match(s["install.sh"], /rpm -qp --qf '%\{NAME\}'/);
        assert.match(s["uninstall.sh"], /dnf remove -y "\$@"/);
        assert.match(s["install.sh"], /dnf swap -y "\$1" "\.\/\$INSTALLER"/);
        assert.match(s["install.sh"], /zypper --non-interactive --no-gpg-checks install "\.\/\$INSTALLER" "!\$1"/);
        assert.ok(!/--replacefiles|--force/.test(s["install.sh"].replace("rpm -U --test --replacefiles", "")), "no forced install outside rpm's --test");
    });

    it("deb: apt-get resolves dependencies, non-interactive, replaces the other build in the same run; uninstall keeps the agent's configuration and data", () => {
        const s = renderScripts("deb", "UptycsAgent", INSTALLER.deb);
        assert.match(s["install.sh"], /^export DEBIAN_FRONTEND=noninteractive$/m);
        assert.match(s["install.sh"], /apt-get install -y --allow-downgrades "\.\/\$INSTALLER"/);
        assert.match(s["install.sh"], /dpkg-deb -f "\.\/\$INSTALLER" Package/);
        assert.match(s["install.sh"], /apt-get install -y --allow-downgrades "\.\/\$INSTALLER" "\$1-"/);
        assert.match(s["uninstall.sh"], /apt-get remove -y "\$@"/);
        assert.ok(!s["uninstall.sh"].includes("purge"));
    });

    it("both builds' package names are known to every Linux script", () => {
        for (const family of ["rpm", "deb"] as const) {
            for (const [name, text] of Object.entries(renderScripts(family, "UptycsAgent", INSTALLER[family]))) {
                assert.match(text, new RegExp(`^AGENT_BUILDS='${AGENT_BUILD_PACKAGES.join(" ")}'$`, "m"), name);
            }
        }
        assert.deepStrictEqual([...AGENT_BUILD_PACKAGES].sort(), ["osquery", "uptycs-protect"]);
    });

    it("update scripts make sure osqueryd runs afterwards; install scripts do not touch services", () => {
        for (const family of ["rpm", "deb"] as const) {
            const s = renderScripts(family, "UptycsAgent", INSTALLER[family]);
            assert.match(s["update.sh"], /systemctl start osqueryd/);
            assert.ok(!s["install.sh"].includes("systemctl"));
        }
    });

    it("msi: install, uninstall and update PowerShell scripts with the MSI rendered in", () => {
        const s = renderScripts("msi", "UptycsAgent", INSTALLER.msi);
        assert.deepStrictEqual(Object.keys(s).sort(), ["install.ps1", "uninstall.ps1", "update.ps1"]);
        assert.ok(s["install.ps1"].includes(`Join-Path $PSScriptRoot '${INSTALLER.msi}'`));
        assert.match(s["uninstall.ps1"], /@\('\/x', /);
        assert.match(s["uninstall.ps1"], /\$code -ne 1605\) \{ Stop-WithCode/);
    });

    it("the package name prefixes log lines and is rendered, not hard-coded", () => {
        const s = renderScripts("deb", "Uptycs-Sensor", INSTALLER.deb);
        assert.match(s["install.sh"], /^PKG_NAME='Uptycs-Sensor'$/m);
        assert.ok(!s["install.sh"].includes("UptycsAgent"));
    });

    it("the scripts digest is stable, and changes with the family and the package name", () => {
        assert.strictEqual(scriptsDigest("rpm", "UptycsAgent"), scriptsDigest("rpm", "UptycsAgent"));
        assert.notStrictEqual(scriptsDigest("rpm", "UptycsAgent"), scriptsDigest("deb", "UptycsAgent"));
        assert.notStrictEqual(scriptsDigest("rpm", "UptycsAgent"), scriptsDigest("rpm", "Uptycs-Sensor"));
        assert.match(scriptsDigest("msi", "UptycsAgent"), /^[0-9a-f]{64}$/);
    });
});
