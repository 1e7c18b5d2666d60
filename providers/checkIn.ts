/**
 * A ring's check-in (`requireCheckIn`): after its association run passed, each host whose run
 * succeeded must also report to the Uptycs tenant at the new agent version and build, later than
 * the run began. An install SSM calls a success can still leave a host unseen by Uptycs (egress
 * blocked, another tenant's secret). Host names come from SSM (DescribeInstanceInformation by
 * instance id, 50 at a time); the tenant's assets from `GET /assets`, read again each poll.
 * These functions run inside the serialized `RolloutGate` provider: node modules are required inside.
 */
import type { SSMClient } from "@aws-sdk/client-ssm";
import { AssetIndex, assetFromApi, Build, checkInProblem, ManagedNode, missingCheckIns, MissingCheckIn } from "../platforms/coverage";
import { listManagedNodes } from "./managedNodes";
import { listAssets, RequestPolicy, tenantOf, UptycsApiKey } from "./uptycsApi";

/** What a ring's check-in waits for. */
export interface CheckInWait {
    /** `stage canary of UptycsAgent 5.14.2.21-… in us-east-1`, for messages. */
    readonly where: string;
    /** The stage name and region, for progress lines. */
    readonly stage: string;
    readonly region: string;
    /** The instances whose run ended in Success. */
    readonly instanceIds: readonly string[];
    readonly agentVersion: string;
    readonly build: Build;
    /** When the run began, epoch milliseconds: an asset must report after it. */
    readonly runStartedMs: number;
    /** When the ring's timeout ends, epoch milliseconds. */
    readonly deadlineMs: number;
    /** The stage's timeoutMinutes, for messages. */
    readonly timeoutMinutes: number;
    /** Polling: the first wait and the longest, milliseconds. */
    readonly firstPollMs: number;
    readonly maxPollMs: number;
}

/** The host names SSM knows for `instanceIds`, 50 ids a request (an id it does not know maps to ""). */
async function hostNames(client: SSMClient, instanceIds: readonly string[]): Promise<Pick<ManagedNode, "instanceId" | "computerName">[]> {
    const names = new Map<string, string>();
    for (let i = 0; i < instanceIds.length; i += 50) {
        const nodes = await listManagedNodes(client, [{ Key: "InstanceIds", Values: instanceIds.slice(i, i + 50) }]);
        nodes.forEach((n) => names.set(n.instanceId, n.computerName));
    }
    return instanceIds.map((instanceId) => ({ instanceId, computerName: names.get(instanceId) ?? "" }));
}

/**
 * Waits until every host of `wait.instanceIds` checked in, polling the tenant's assets.
 * @returns the hosts that checked in.
 * @throws Error naming the stage and each silent host, at the deadline; or at once when SSM or
 *   the Uptycs API refuses (after their own retries).
 */
export async function awaitCheckIn(client: SSMClient, apiKey: UptycsApiKey, policy: RequestPolicy, wait: CheckInWait, log: (line: string) => void): Promise<number> {
    const pRetry: typeof import("p-retry") = require("p-retry");
    let nodes: Pick<ManagedNode, "instanceId" | "computerName">[];
    try {
        nodes = await hostNames(client, wait.instanceIds);
    } catch (e) {
        throw new Error(`${wait.where}: reading host names (ssm:DescribeInstanceInformation): ${(e as Error).message}`);
    }
    let missing: MissingCheckIn[] = [];
    let refused: Error | undefined;
    let lastLine = "";
    await pRetry(async () => {
        try {
            const index = new AssetIndex(await listAssets(apiKey, policy, assetFromApi));
            missing = missingCheckIns(nodes, index, wait, wait.runStartedMs);
        } catch (e) {
            refused = new Error(`${wait.where}: reading the Uptycs assets of ${tenantOf(apiKey)} (requireCheckIn): ${(e as Error).message}`);
            throw new pRetry.AbortError(refused);
        }
        const line = `${wait.stage} (${wait.region}): ${nodes.length - missing.length}/${nodes.length} hosts reported to Uptycs at ${wait.agentVersion} ${wait.build}`;
        if (line !== lastLine) {
            log(line);
            lastLine = line;
        }
        if (missing.length > 0) {
            throw new Error("hosts still to check in");
        }
    }, {
        retries: Math.ceil(Math.max(0, wait.deadlineMs - Date.now()) / wait.firstPollMs) + 1,
        factor: 2, minTimeout: wait.firstPollMs, maxTimeout: wait.maxPollMs, randomize: false, maxRetryTime: Math.max(0, wait.deadlineMs - Date.now()),
    }).catch(() => {
        throw refused ?? new Error(checkInProblem(wait.where, wait, missing, nodes.length));
    });
    return nodes.length;
}
