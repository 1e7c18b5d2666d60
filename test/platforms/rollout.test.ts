import * as assert from "assert";
import { parseAssociation, sendCommandInput, ssmTargets, versionsToPrune } from "../../platforms/rollout";

describe("platforms/rollout", () => {
    it("versionsToPrune keeps the newest, never the default, and rejects a keep outside 1..25", () => {
        const v = (n: number, def = false) => ({ documentVersion: String(n), versionName: `v${n}`, isDefault: def });
        assert.deepStrictEqual(versionsToPrune([v(3), v(1), v(2, true), v(4)], 2).map((x) => x.versionName), ["v1", "v3"]);
        assert.deepStrictEqual(versionsToPrune([v(1), v(2)], 2), []);
        assert.deepStrictEqual(versionsToPrune([v(10), v(9)], 1).map((x) => x.versionName), ["v9"], "numeric, not text, order");
        assert.throws(() => versionsToPrune([], 0), /from 1 to 25/);
        assert.throws(() => versionsToPrune([], 26), /from 1 to 25/);
    });

    it("targets: tag key/values, or every managed instance", () => {
        assert.deepStrictEqual(ssmTargets("all"), [{ key: "InstanceIds", values: ["*"] }]);
        assert.deepStrictEqual(ssmTargets({ tagKey: "env", tagValues: ["prod", "dev"] }), [{ key: "tag:env", values: ["prod", "dev"] }]);
    });

    it("association defaults", () => {
        assert.deepStrictEqual(parseAssociation({ targets: "all" }), {
            scheduleExpression: "rate(1 day)", targets: "all", installationType: "Uninstall and reinstall", maxConcurrency: "10%", maxErrors: "5%", complianceSeverity: "HIGH",
        });
    });

    it("send-command input is JSON for --cli-input-json", () => {
        const input = JSON.parse(sendCommandInput("UptycsAgent", "5.14.2.21-abcd1234", { targets: "all", installationType: "In-place update" }));
        assert.deepStrictEqual(input.Parameters.version, ["5.14.2.21-abcd1234"]);
        assert.deepStrictEqual(input.Parameters.installationType, ["In-place update"]);
        assert.ok(input.Comment.length <= 100);
    });
});
