import * as assert from "assert";
import { chooseVersionName, parseAssociation, sendCommandInput, ssmTargets, versionsToPrune } from "../../platforms/rollout";

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

    it("chooseVersionName never reuses a VersionName and keeps the current one for unchanged content", () => {
        const v = (n: number, name: string, isDefault = false) => ({ documentVersion: String(n), versionName: name, isDefault });
        const A = "5.14.2.21-aaaa1111";
        const B = "5.14.2.21-bbbb2222";
        assert.strictEqual(chooseVersionName(A, []), A, "first publish");
        assert.strictEqual(chooseVersionName(A, [v(1, A, true)]), A, "unchanged");
        assert.strictEqual(chooseVersionName(B, [v(1, A, true)]), B, "new content");
        assert.strictEqual(chooseVersionName(A, [v(1, A), v(2, B, true)]), `${A}-r3`, "flip back: named after the document version it becomes");
        assert.strictEqual(chooseVersionName(A, [v(1, A), v(2, B), v(3, `${A}-r3`, true)]), `${A}-r3`, "flip back, unchanged since");
        assert.strictEqual(chooseVersionName(A, [v(1, A), v(3, `${A}-r3`), v(4, B, true)]), `${A}-r5`, "flip back twice");
        assert.strictEqual(chooseVersionName(A, [v(7, A), v(9, B, true)]), `${A}-r10`, "numbers past pruned versions");
        assert.throws(() => chooseVersionName("9".repeat(130), []), /does not match/);
    });
});
