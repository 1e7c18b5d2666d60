import * as assert from "assert";
import { packageNameProblem, platformFromOsReleaseId } from "../../platforms/distributor";

describe("platforms/distributor", () => {
    it("validates package names against the SSM document naming rules", () => {
        for (const ok of ["UptycsAgent", "Uptycs_Agent-1.0", "abc"]) {
            assert.strictEqual(packageNameProblem(ok), undefined, ok);
        }
        assert.match(packageNameProblem("ab") ?? "", /3 to 128 characters/);
        assert.match(packageNameProblem("Uptycs Agent") ?? "", /3 to 128 characters/);
        assert.match(packageNameProblem("x".repeat(129)) ?? "", /3 to 128/);
        assert.match(packageNameProblem("AWS-Uptycs") ?? "", /must not start with 'aws'/);
        assert.match(packageNameProblem("amazonUptycs") ?? "", /'amazon'/);
        assert.match(packageNameProblem("AMZN-x") ?? "", /'amzn'/);
        assert.match(packageNameProblem("AWSSupport-x") ?? "", /'aws'/);
    });

    it("maps os-release ids to Distributor platform codes as the SSM agent does", () => {
        assert.strictEqual(platformFromOsReleaseId("rhel"), "redhat");
        assert.strictEqual(platformFromOsReleaseId("ol"), "oracle");
        assert.strictEqual(platformFromOsReleaseId("amzn"), "amazon");
        assert.strictEqual(platformFromOsReleaseId("sles"), "suse");
        assert.strictEqual(platformFromOsReleaseId("opensuse-leap"), "opensuseleap");
        assert.strictEqual(platformFromOsReleaseId("almalinux"), "almalinux");
        assert.strictEqual(platformFromOsReleaseId("ubuntu"), "ubuntu");
    });
});
