import * as assert from "assert";
import { agentVersionOf, compareAgentVersions, isAgentVersion, offeredAgentVersions } from "../../platforms/version";

describe("platforms/version", () => {
    it("compares dotted versions numerically, not as text", () => {
        assert.ok(compareAgentVersions("5.14.2.21", "5.9.0.2") > 0);
        assert.ok(compareAgentVersions("5.7.0.25", "5.7.0.3") > 0);
        assert.strictEqual(compareAgentVersions("5.7", "5.7.0.0"), 0);
        assert.ok(compareAgentVersions("4.99.99.99", "5.0.0.0") < 0);
    });

    it("parses /osqueryPackages versions and rejects the rest", () => {
        assert.strictEqual(agentVersionOf("5.14.2.21-Uptycs"), "5.14.2.21");
        assert.strictEqual(agentVersionOf("5.14.2.21"), "5.14.2.21");
        for (const bad of ["latest-Uptycs", "", "5", "5.x.1", 5.1, null, "5.1.2.3.4.5.6.7"]) {
            assert.strictEqual(agentVersionOf(bad), undefined, String(bad));
        }
        assert.ok(isAgentVersion("5.14.2.21"));
        assert.ok(!isAgentVersion("5.14.2.21; rm -rf /"));
    });

    it("offers the highest version first whatever the API's order, without duplicates", () => {
        const items = [{ version: "5.13.1.4-Uptycs" }, { version: "5.14.2.21-Uptycs" }, { version: "junk" }, {}, { version: "5.14.2.21-Uptycs" }, { version: "5.9.0.2-Uptycs" }];
        assert.deepStrictEqual(offeredAgentVersions(items), ["5.14.2.21", "5.13.1.4", "5.9.0.2"]);
        assert.deepStrictEqual(offeredAgentVersions([]), []);
    });
});
