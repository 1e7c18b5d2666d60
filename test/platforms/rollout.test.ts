import * as assert from "assert";
import {
    chooseVersionName, manualRollbackProblem, parseAssociation, parseShareAccounts, sendCommandInput, shareAccountIds, ssmTargets, versionsToPrune,
} from "../../platforms/rollout";

/** `n` distinct 12-digit account ids from `from`. */
const accounts = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => String(100000000000 + from + i));

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

    it("share limit at the parser: 1000 distinct accounts pass, 1001 are refused, duplicates count once", () => {
        assert.strictEqual(parseShareAccounts(accounts(0, 1000)).length, 1000);
        assert.strictEqual(parseShareAccounts([...accounts(0, 1000), ...accounts(0, 10)]).length, 1000);
        assert.throws(() => parseShareAccounts(accounts(0, 1001)), /lists 1001 distinct accounts; .* at most 1000/);
    });

    it("share limit across shareWithAccounts and the OUs' accounts: duplicates once, suspended accounts and the publishing account not at all", () => {
        const active = (ids: string[]): { id: string; status: string }[] => ids.map((id) => ({ id, status: "ACTIVE" }));
        // 600 listed + 600 in the OUs, 200 of them the same: 1000.
        assert.strictEqual(shareAccountIds(accounts(0, 600), active(accounts(400, 600)), "999999999999").length, 1000);
        assert.throws(() => shareAccountIds(accounts(0, 600), active(accounts(400, 601)), "999999999999"),
            /organization\.organizationalUnitIds and shareWithAccounts come to 1001 accounts; a document can be shared with at most 1000 per region/);
        // The publishing account and suspended accounts are not counted.
        const own = accounts(0, 1)[0];
        assert.strictEqual(shareAccountIds(accounts(0, 500), [...active(accounts(500, 500)), { id: accounts(1000, 1)[0], status: "SUSPENDED" }, ...active([own])], own).length, 999);
        assert.deepStrictEqual(shareAccountIds(["222222222222", "111111111111"], active(["111111111111"]), "333333333333"), ["111111111111", "222222222222"]);
    });

    it("a default version set by hand is a problem only when a new version would be published over it", () => {
        const history = [
            { documentVersion: "1", versionName: "A", isDefault: true },
            { documentVersion: "2", versionName: "B", isDefault: false },
        ];
        const intent = { packageName: "UptycsAgent", region: "us-east-1", published: "B", next: "C" };
        assert.match(manualRollbackProblem(intent, history)!, /default version of Distributor package UptycsAgent in us-east-1 is A, set by hand; this stack published B and would now publish C/);
        assert.strictEqual(manualRollbackProblem({ ...intent, next: "A" }, history), undefined, "publishing the hand-set content again");
        assert.strictEqual(manualRollbackProblem({ ...intent, published: "A" }, history), undefined, "the stack's own default");
        assert.strictEqual(manualRollbackProblem({ ...intent, published: undefined }, history), undefined, "the stack's first publish");
        assert.strictEqual(manualRollbackProblem(intent, []), undefined, "no package yet");
        // A publish that failed after the name was chosen: the stack's state says C, the package's
        // latest version (B) is still its default. Not a rollback: the next publish goes ahead.
        const failedPublish = [{ documentVersion: "1", versionName: "A", isDefault: false }, { documentVersion: "2", versionName: "B", isDefault: true }];
        assert.strictEqual(manualRollbackProblem({ ...intent, published: "C", next: "D" }, failedPublish), undefined);
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
