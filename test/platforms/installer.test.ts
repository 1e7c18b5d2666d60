import * as assert from "assert";
import { fileNameFromContentDisposition, installerNameProblem } from "../../platforms/installer";

describe("platforms/installer", () => {
    it("accepts the installer names the Uptycs API sends", () => {
        assert.strictEqual(installerNameProblem("assets-uptycs-protect-5.7.0.25-Uptycs.aarch64.rpm", "centos"), undefined);
        assert.strictEqual(installerNameProblem("assets-uptycs-protect-5.7.0.25-Uptycs.deb", "debian"), undefined);
        assert.strictEqual(installerNameProblem("assets-osquery-5.5.1.14-Uptycs-windows.msi", "windows"), undefined);
    });

    const hostile: [string, string, RegExp][] = [
        ["../etc/cron.d/x.rpm", "centos", /characters other than/],
        ["dir/x.rpm", "centos", /characters other than/],
        ["x..rpm", "centos", /'\.\.'/],
        ["", "centos", /is empty/],
        [`${"a".repeat(300)}.rpm`, "centos", /304 characters long/],
        ["installer.deb", "centos", /does not end in '\.rpm'/],
        [".rpm", "centos", /characters other than|does not end/],
        ["a b.msi", "windows", /characters other than/],
        ["x'; rm -rf /;'.deb", "debian", /characters other than/],
        ["x$(id).deb", "debian", /characters other than/],
    ];
    for (const [name, pkg, problem] of hostile) {
        it(`rejects '${name.slice(0, 40)}' for ${pkg}`, () => {
            assert.match(installerNameProblem(name, pkg as never) ?? "accepted", problem);
        });
    }

    it("reads quoted, unquoted and RFC 5987 file names from Content-Disposition", () => {
        assert.strictEqual(fileNameFromContentDisposition('attachment; filename="a-1.rpm"'), "a-1.rpm");
        assert.strictEqual(fileNameFromContentDisposition("attachment; filename=a-1.rpm"), "a-1.rpm");
        assert.strictEqual(fileNameFromContentDisposition("attachment; filename*=UTF-8''a-1.rpm"), "a-1.rpm");
        assert.throws(() => fileNameFromContentDisposition(undefined), /no Content-Disposition header/);
        assert.throws(() => fileNameFromContentDisposition("attachment"), /names no filename/);
        assert.throws(() => fileNameFromContentDisposition("attachment; filename=\"unterminated"), /does not parse/);
    });
});
