import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    AGENT_BUILD_PACKAGES, fillScripts, INSTALLER_PLACEHOLDER, parseHealthCheck, renderScripts, scriptsDigest, scriptTemplates,
} from "../../platforms/scripts";
import { requireTool } from "../support/tools";

const INSTALLER = { rpm: "assets-uptycs-protect-5.7.0.25-Uptycs.aarch64.rpm", deb: "assets-uptycs-protect-5.7.0.25-Uptycs.deb", msi: "assets-osquery-5.5.1.14-Uptycs-windows.msi" };

describe("platforms/scripts", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-scripts-"));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    for (const family of ["rpm", "deb"] as const) {
        const scripts = renderScripts(family, "UptycsAgent", INSTALLER[family]);

        it(`${family}: install, uninstall, update and validate scripts, POSIX sh without sudo or bashisms`, () => {
            assert.deepStrictEqual(Object.keys(scripts).sort(), ["install.sh", "uninstall.sh", "update.sh", "validate.sh"]);
            for (const [name, text] of Object.entries(scripts)) {
                assert.ok(text.startsWith("#!/bin/sh\n"), name);
                assert.match(text, /^set -eu$/m, name);
                assert.ok(text.includes(`INSTALLER='${INSTALLER[family]}'`) || name === "validate.sh", `${name} names the installer`);
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

    it("both builds' package names are known to every Linux script that installs or removes", () => {
        for (const family of ["rpm", "deb"] as const) {
            for (const [name, text] of Object.entries(renderScripts(family, "UptycsAgent", INSTALLER[family])).filter(([n]) => n !== "validate.sh")) {
                assert.match(text, new RegExp(`^AGENT_BUILDS='${AGENT_BUILD_PACKAGES.join(" ")}'$`, "m"), name);
            }
        }
        assert.deepStrictEqual([...AGENT_BUILD_PACKAGES].sort(), ["osquery", "uptycs-protect"]);
    });

    it("install, update and validate wait for osqueryd (systemd, else its init script, else /proc), for the timeout given; uninstall does not", () => {
        for (const family of ["rpm", "deb"] as const) {
            const s = renderScripts(family, "UptycsAgent", INSTALLER[family], { enabled: true, timeoutSeconds: 300 });
            for (const name of ["install.sh", "update.sh", "validate.sh"]) {
                assert.match(s[name], /^HEALTH_TIMEOUT=300$/m, name);
                assert.match(s[name], /\nwait_for_agent\n$/, `${name} ends waiting for the agent`);
                const [systemd, init, proc] = ["[ -d /run/systemd/system ] && have systemctl", '"/etc/init.d/$SERVICE" status', "/proc/[0-9]*/comm"].map((x) => s[name].indexOf(x));
                assert.ok(systemd > 0 && systemd < init && init < proc, `${name}: systemd, then the init script, then /proc`);
                assert.ok(!/\b(pgrep|pidof|ps)\b /.test(s[name]), `${name} needs no procps`);
            }
            assert.match(s["install.sh"], /^SERVICE=osqueryd$/m);
            assert.ok(!s["uninstall.sh"].includes("wait_for_agent"));
            // validate: the check and nothing else.
            assert.ok(!/install_installer|replace_with_installer|remove_packages|apt-get|dnf |zypper /.test(s["validate.sh"]), "validate changes nothing");
        }
    });

    it("with the health check disabled: no wait, no validate script; update still starts a stopped agent", () => {
        for (const family of ["rpm", "deb"] as const) {
            const s = renderScripts(family, "UptycsAgent", INSTALLER[family], { enabled: false, timeoutSeconds: 120 });
            assert.deepStrictEqual(Object.keys(s).sort(), ["install.sh", "uninstall.sh", "update.sh"]);
            assert.ok(!s["install.sh"].includes("wait_for_agent") && !s["install.sh"].includes("systemctl"));
            assert.match(s["update.sh"], /\nagent_runs \|\| start_agent\n$/);
            assert.match(s["update.sh"], /systemctl start "\$SERVICE"/);
        }
        assert.deepStrictEqual(Object.keys(renderScripts("msi", "UptycsAgent", INSTALLER.msi, { enabled: false, timeoutSeconds: 120 })).sort(), ["install.ps1", "uninstall.ps1", "update.ps1"]);
    });

    it("healthCheck config: defaults, range, and unknown fields refused by name", () => {
        assert.deepStrictEqual(parseHealthCheck({}), { enabled: true, timeoutSeconds: 120 });
        assert.deepStrictEqual(parseHealthCheck({ enabled: false, timeoutSeconds: 5 }), { enabled: false, timeoutSeconds: 5 });
        assert.deepStrictEqual(parseHealthCheck({ timeoutSeconds: 1800 }), { enabled: true, timeoutSeconds: 1800 });
        assert.throws(() => parseHealthCheck({ timeoutSeconds: 4 }), /timeoutSeconds must be a whole number of seconds from 5 to 1800, got 4/);
        assert.throws(() => parseHealthCheck({ timeoutSeconds: 1801 }), /from 5 to 1800, got 1801/);
        assert.throws(() => parseHealthCheck({ timeoutSeconds: "60" }), /timeoutSeconds/);
        assert.throws(() => parseHealthCheck({ enabled: "yes" }), /enabled must be true or false/);
        assert.throws(() => parseHealthCheck({ timeout: 60 }), /unknown field timeout \(known: enabled, timeoutSeconds\)/);
        assert.throws(() => parseHealthCheck([]), /must be an object/);
    });

    it("the health check is part of the scripts: another timeout is another digest, so other zips", () => {
        assert.notStrictEqual(scriptsDigest(scriptTemplates("rpm", "UptycsAgent", { enabled: true, timeoutSeconds: 120 })),
            scriptsDigest(scriptTemplates("rpm", "UptycsAgent", { enabled: true, timeoutSeconds: 300 })));
        assert.notStrictEqual(scriptsDigest(scriptTemplates("msi", "UptycsAgent", { enabled: true, timeoutSeconds: 120 })),
            scriptsDigest(scriptTemplates("msi", "UptycsAgent", { enabled: false, timeoutSeconds: 120 })));
    });

    it("msi: install, uninstall, update and validate PowerShell scripts with the MSI and the timeout rendered in (test/windows runs them)", () => {
        const s = renderScripts("msi", "UptycsAgent", INSTALLER.msi);
        assert.deepStrictEqual(Object.keys(s).sort(), ["install.ps1", "uninstall.ps1", "update.ps1", "validate.ps1"]);
        assert.match(s["validate.ps1"], /^\$HealthTimeout = 120$/m);
        for (const name of ["install.ps1", "uninstall.ps1", "update.ps1"]) {
            assert.ok(s[name].includes(`Join-Path $PSScriptRoot '${INSTALLER.msi}'`), name);
            assert.match(s[name], /^\$PackageName = 'UptycsAgent'$/m, name);
        }
    });

    it("the package name prefixes log lines and is rendered, not hard-coded", () => {
        const s = renderScripts("deb", "Uptycs-Sensor", INSTALLER.deb);
        assert.match(s["install.sh"], /^PKG_NAME='Uptycs-Sensor'$/m);
        assert.ok(!s["install.sh"].includes("UptycsAgent"));
    });

    it("templates rendered in the program, filled with the installer's name, are exactly the scripts; the placeholder stands nowhere else", () => {
        for (const family of ["rpm", "deb", "msi"] as const) {
            const templates = scriptTemplates(family, "UptycsAgent");
            assert.deepStrictEqual(fillScripts(templates, INSTALLER[family]), renderScripts(family, "UptycsAgent", INSTALLER[family]));
            // The placeholder stands exactly where the installer's name does.
            const rendered = renderScripts(family, "UptycsAgent", INSTALLER[family]);
            for (const [name, text] of Object.entries(templates)) {
                const count = (t: string, what: string): number => t.split(what).length - 1;
                assert.ok(count(text, INSTALLER_PLACEHOLDER) > 0 || name.startsWith("validate."), name);
                assert.strictEqual(count(text, INSTALLER_PLACEHOLDER), count(rendered[name], INSTALLER[family]), name);
                assert.strictEqual(count(rendered[name], INSTALLER_PLACEHOLDER), 0, name);
            }
        }
    });

    it("the scripts digest is stable, and changes with the family and the package name", () => {
        const digest = (family: "rpm" | "deb" | "msi", name: string): string => scriptsDigest(scriptTemplates(family, name));
        assert.strictEqual(digest("rpm", "UptycsAgent"), digest("rpm", "UptycsAgent"));
        assert.notStrictEqual(digest("rpm", "UptycsAgent"), digest("deb", "UptycsAgent"));
        assert.notStrictEqual(digest("rpm", "UptycsAgent"), digest("rpm", "Uptycs-Sensor"));
        assert.match(digest("msi", "UptycsAgent"), /^[0-9a-f]{64}$/);
    });
});
