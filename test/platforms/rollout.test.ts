import * as assert from "assert";
import {
    chooseVersionName, judgeStageRun, manualRollbackProblem, parseAssociation, parseShareAccounts, RunTarget, runProgress, runsSinceFilter, sendCommandInput, shareAccountIds, ssmTargets,
    stagesOverlappingFleet, stageTimeoutProblem, versionsToPrune,
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
            scheduleExpression: "rate(1 day)", targets: "all", installationType: "Uninstall and reinstall", maxConcurrency: "10%", maxErrors: "5%", complianceSeverity: "HIGH", stages: [],
        });
    });

    it("stages: defaults (the fleet's maxConcurrency, maxErrors 100%), fractions of minutes, names and fields checked", () => {
        const canary = { name: "canary", targets: { tagKey: "ring", tagValues: ["canary"] } };
        assert.deepStrictEqual(parseAssociation({ targets: "all", maxConcurrency: "5", stages: [canary, { name: "early-2", targets: "all", minSuccessPercent: 95.5, minTargets: 3, timeoutMinutes: 0.5, maxErrors: "2", requireCheckIn: true }] }).stages, [
            { name: "canary", targets: { tagKey: "ring", tagValues: ["canary"] }, minSuccessPercent: 100, minTargets: 1, timeoutMinutes: 30, maxConcurrency: "5", maxErrors: "100%", requireCheckIn: false },
            { name: "early-2", targets: "all", minSuccessPercent: 95.5, minTargets: 3, timeoutMinutes: 0.5, maxConcurrency: "5", maxErrors: "2", requireCheckIn: true },
        ]);
        const refused: [unknown, RegExp][] = [
            [{ targets: "all", stage: [canary] }, /unknown field stage \(known: .*stages/],
            [{ targets: "all", stages: canary }, /stages must be a list/],
            [{ targets: "all", stages: [{ ...canary, minSucessPercent: 90 }] }, /stages\[0\] has unknown field minSucessPercent/],
            [{ targets: "all", stages: [{ ...canary, name: "Canary" }] }, /stages\[0\] name "Canary" must be 1 to 32 lowercase letters/],
            [{ targets: "all", stages: [{ ...canary, name: "a".repeat(33) }] }, /stages\[0\] name/],
            [{ targets: "all", stages: [canary, { ...canary }] }, /unique names; canary appear/],
            [{ targets: "all", stages: [{ ...canary, minSuccessPercent: 101 }] }, /stages\[0\] minSuccessPercent must be a number from 0 to 100, got 101/],
            [{ targets: "all", stages: [{ ...canary, minTargets: 1.5 }] }, /stages\[0\] minTargets must be a whole number/],
            [{ targets: "all", stages: [{ ...canary, timeoutMinutes: 0 }] }, /timeoutMinutes must be a number from 0.01 to 1440, got 0/],
            [{ targets: "all", stages: [{ ...canary, timeoutMinutes: "5" }] }, /timeoutMinutes must be a number/],
            [{ targets: "all", stages: [{ name: "canary" }] }, /stages\[0\] targets must be/],
            [{ targets: "all", stages: [{ ...canary, targets: { tagKey: "ring", tagValue: ["x"] } }] }, /stages\[0\] targets has unknown field tagValue/],
            [{ targets: "all", stages: [{ ...canary, maxErrors: "101%" }] }, /stages\[0\] maxErrors '101%' is not valid/],
            [{ targets: "all", stages: [{ ...canary, requireCheckIn: "yes" }] }, /stages\[0\] requireCheckIn must be true or false, got "yes"/],
        ];
        for (const [value, message] of refused) {
            assert.throws(() => parseAssociation(value), message, JSON.stringify(value));
        }
    });

    it("rings the fleet association also targets are told (hosts in both get two versions in turn)", () => {
        const tag = (v: string[]): unknown => ({ tagKey: "ring", tagValues: v });
        const overlaps = (fleet: unknown, ...rings: unknown[]): string[] =>
            stagesOverlappingFleet(parseAssociation({ targets: fleet, stages: rings.map((targets, i) => ({ name: `r${i}`, targets })) }));
        assert.deepStrictEqual(overlaps(tag(["broad"]), tag(["canary"]), tag(["early", "late"])), []);
        assert.deepStrictEqual(overlaps({ tagKey: "other", tagValues: ["canary"] }, tag(["canary"])), [], "another tag key: not known to overlap");
        assert.match(overlaps("all", tag(["canary"]))[0], /^association\.stages\[0\] \(r0\) targets hosts of the fleet association \(the fleet targets all instances\)/);
        assert.match(overlaps(tag(["broad"]), tag(["canary"]), "all")[0], /stages\[1\] \(r1\) .*the stage targets all instances/);
        assert.match(overlaps(tag(["broad", "early"]), tag(["early"]))[0], /both target tag ring=early/);
    });

    it("a stage's run: passes on enough finished instances with enough successes; otherwise names each failed instance", () => {
        const where = "stage canary of UptycsAgent 1.0-aa in us-east-1";
        const t = (instanceId: string, status: string, detailedStatus?: string): RunTarget => ({ instanceId, status, detailedStatus, commandId: `cmd-${instanceId}` });
        const stage = { minSuccessPercent: 100, minTargets: 1 };
        assert.deepStrictEqual(judgeStageRun(stage, [t("i-1", "Success"), t("i-2", "Success")], where), { passed: true, succeeded: 2, failed: 0, total: 2 });
        const one = judgeStageRun(stage, [t("i-1", "Success"), t("i-2", "Failed", "Failed"), t("i-3", "TimedOut", "DeliveryTimedOut")], where);
        assert.deepStrictEqual([one.passed, one.succeeded, one.failed, one.total], [false, 1, 2, 3]);
        assert.strictEqual(one.problem, `${where} failed: 1 of 3 instances succeeded (33 %), under minSuccessPercent 100:\n`
            + "  i-2: Failed (Failed), Run Command cmd-i-2\n  i-3: TimedOut (DeliveryTimedOut), Run Command cmd-i-3");
        // 9 of 10 is 90 %: enough for 90, not for 91.
        const ten = [...Array.from({ length: 9 }, (_, i) => t(`i-${i}`, "Success")), t("i-9", "Failed")];
        assert.strictEqual(judgeStageRun({ ...stage, minSuccessPercent: 90 }, ten, where).passed, true);
        assert.strictEqual(judgeStageRun({ ...stage, minSuccessPercent: 91 }, ten, where).passed, false);
        assert.match(judgeStageRun({ ...stage, minTargets: 3 }, [t("i-1", "Success"), t("i-2", "Success")], where).problem!, /finished on 2 instance\(s\), fewer than minTargets 3/);
        assert.match(judgeStageRun(stage, [], where).problem!, /^stage canary .*: the run reached no instance/);
    });

    it("runs of the current association version: created since its last update, a second of slack, whole seconds", () => {
        assert.deepStrictEqual(runsSinceFilter(new Date("2026-11-30T15:20:07.850Z")), { Key: "CreatedTime", Value: "2026-11-30T15:20:06Z", Type: "GREATER_THAN" });
    });

    it("a run's progress, and a gate that gave up waiting", () => {
        const targets: RunTarget[] = [{ instanceId: "i-1", status: "Success" }, { instanceId: "i-2", status: "InProgress" }, { instanceId: "i-3", status: "Pending" }, { instanceId: "i-4", status: "Success" }];
        assert.strictEqual(runProgress(targets), "2/4 hosts done (2 Success, 1 InProgress, 1 Pending)");
        assert.strictEqual(runProgress([]), "0/0 hosts done (none yet)");
        assert.strictEqual(stageTimeoutProblem("stage s", 0.5, targets), "stage s did not finish within timeoutMinutes 0.5: 2/4 hosts done (2 Success, 1 InProgress, 1 Pending); still running:\n  i-2: InProgress\n  i-3: Pending");
        assert.strictEqual(stageTimeoutProblem("stage s", 1, undefined, "no run of association x version 2 started"), "stage s did not finish within timeoutMinutes 1: no run of association x version 2 started");
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
