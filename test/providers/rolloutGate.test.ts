// The gate's diff: what makes a ring's run be judged again. requireCheckIn came after gates were
// in stacks: a gate whose state predates it must not be judged again by an upgrade alone.
import * as assert from "assert";
import { RolloutGateProvider } from "../../providers/rolloutGate";

describe("providers/rolloutGate: diff", () => {
    const provider = new RolloutGateProvider();
    const props = {
        stage: "canary", packageName: "UptycsAgent", associationId: "a-1", version: "5.14.2.21-0badc0de", associationSettings: "{}",
        minSuccessPercent: 100, minTargets: 1, timeoutMinutes: 30, region: "us-east-1", accountId: "123456789012",
    };
    const state = { ...props, approvedVersion: props.version, associationVersion: "1", executionId: "e-1", succeeded: 1, failed: 0, total: 1, checkedIn: 0 };
    const changes = async (olds: Record<string, unknown>, news: Record<string, unknown>): Promise<boolean | undefined> =>
        (await provider.diff("id", { ...state, ...olds } as Parameters<RolloutGateProvider["diff"]>[1], { ...props, requireCheckIn: false, build: "protect", ...news })).changes;

    it("a gate from before requireCheckIn (no such state) is unchanged until a check-in is asked for", async () => {
        assert.strictEqual(await changes({}, {}), false);
        assert.strictEqual(await changes({}, { build: "sensor-only" }), false, "the build matters only to a check-in");
        assert.strictEqual(await changes({}, { requireCheckIn: true }), true);
    });

    it("turning requireCheckIn on or off, or another build under it, is judged again; so is a new version", async () => {
        const checked = { requireCheckIn: true, build: "protect" };
        assert.strictEqual(await changes(checked, { requireCheckIn: true }), false);
        assert.strictEqual(await changes(checked, { requireCheckIn: true, build: "sensor-only" }), true);
        assert.strictEqual(await changes(checked, { requireCheckIn: false }), true);
        assert.strictEqual(await changes({}, { version: "5.15.0.3-1a2b3c4d" }), true);
    });
});
