/**
 * `RolloutGate`: the gate after one ring of a staged rollout. Once the ring's State Manager
 * association was created or updated (pinned to a new version), it waits for that association
 * version's run and passes the version on only when the run passed (`judgeStageRun`); otherwise
 * `pulumi up` fails naming the stage and each failed instance, and whatever depends on the gate's
 * `approvedVersion` (the next ring, the fleet association, an organization's StackSet) stays where
 * it was. With `requireCheckIn`, a passed run must also show in the Uptycs tenant: each host whose
 * run succeeded reporting at the new version and build within the same timeout (./checkIn).
 *
 * It reads, never starts, runs (SSM DescribeAssociation, DescribeAssociationExecutions,
 * DescribeAssociationExecutionTargets, paged with NextToken): it judges the newest run of the
 * association's current version, so a run started by hand once the hosts are fixed
 * (`aws ssm start-associations-once`) lets the next `pulumi up` pass. Unchanged inputs read
 * nothing (diff compares inputs only); `pulumi preview` never calls create or update, so it never
 * waits, and shows `approvedVersion` as unknown.
 *
 * Progress goes to the provider's stderr, which the Pulumi CLI shows as diagnostics (a dynamic
 * provider has no other log channel; pulumi/pulumi#18253).
 */
import * as pulumi from "@pulumi/pulumi";
import { Build } from "../platforms/coverage";
import { judgeStageRun, RunTarget, runPending, runProgress, runsSinceFilter, stageTimeoutProblem } from "../platforms/rollout";
import { agentVersionOf } from "../platforms/version";
import { UptycsSettings, uptycsSettingsFromConfig } from "./artifactSettings";
import { awsSettingsOf, CallerProps, credentialsFor, InputsOf, withoutCredentials } from "./awsCaller";
import { assertAwsAccount, awsClientConfig, AwsCredentialSettings, awsSettingsFromConfig } from "./awsCredentials";
import { awaitCheckIn } from "./checkIn";
import { apiKeyFromSettings, parseApiKey, RequestPolicy, UptycsApiKey } from "./uptycsApi";

/** Polling: the first wait, seconds; each next one doubles up to {@link MAX_POLL_SECONDS}. */
export const FIRST_POLL_SECONDS = 2;
/** Polling: the longest wait between two looks at the run, seconds. */
export const MAX_POLL_SECONDS = 30;

/** What {@link RolloutGate} is given. */
interface GateProps extends CallerProps {
    /** The stage (ring) name. */
    readonly stage: string;
    /** The Distributor package name (for messages). */
    readonly packageName: string;
    /** The stage association's id (`aws.ssm.Association` `associationId`). */
    readonly associationId: string;
    /** The package version the stage association is pinned to: what the gate passes on. */
    readonly version: string;
    /**
     * What the association is given besides the version (targets, schedule, rate controls), as
     * JSON: a change is a new association version, whose run is judged again.
     */
    readonly associationSettings: string;
    /** Percent (0-100) of the finished instances that must succeed. */
    readonly minSuccessPercent: number;
    /** Instances the run must finish on, at least. */
    readonly minTargets: number;
    /** How long to wait for the run (and, with `requireCheckIn`, the check-ins), minutes. */
    readonly timeoutMinutes: number;
    /** Whether each host whose run succeeded must also report to Uptycs at the version and build. */
    readonly requireCheckIn: boolean;
    /** The build the package installs (what a check-in must report). */
    readonly build: Build;
    /** The component's own Uptycs key file JSON, for the check-in (else the stack's `uptycs:` config). A secret; never an output. */
    readonly apiKey?: string;
}

/** Inputs of {@link RolloutGate}. */
export type RolloutGateInputs = InputsOf<GateProps>;

/** Outputs (and state) of {@link RolloutGate}: what the gate saw of the run it passed. */
export interface RolloutGateOutputs extends Omit<GateProps, "credentials" | "apiKey"> {
    /** `version`, once its run passed: what the next ring or the fleet is pinned to. */
    readonly approvedVersion: string;
    /** The association version whose run was judged. */
    readonly associationVersion: string;
    /** That run's execution id. */
    readonly executionId: string;
    /** Instances whose run ended in Success. */
    readonly succeeded: number;
    /** Instances whose run ended otherwise. */
    readonly failed: number;
    /** Instances the run reached. */
    readonly total: number;
    /** With `requireCheckIn`: the hosts that reported to Uptycs at the version and build (the succeeded ones); else 0. */
    readonly checkedIn: number;
}

/** The Uptycs key and request policy for a check-in, read only when a ring requires one. */
export type UptycsAccess = () => Promise<{ readonly apiKey: UptycsApiKey; readonly policy: RequestPolicy }>;

/** The newest run of the association's current version, as far as the gate got. */
interface Observation {
    readonly associationVersion?: string;
    readonly executionId?: string;
    /** When the run began, epoch milliseconds. */
    readonly startedMs?: number;
    readonly targets?: RunTarget[];
    /** Why there is no run to judge yet. */
    readonly waitingFor?: string;
    readonly finished: boolean;
}

/**
 * Waits for the newest run of the stage association's current version and judges it.
 * @throws Error naming the stage, region and version: the run failed (each failed instance with
 *   status, detailed status and Run Command id), reached no instance, or did not finish within
 *   `timeoutMinutes`; or AWS refused a call; or the credentials reach another account; or, with
 *   `requireCheckIn`, a host did not report to Uptycs in time (each named).
 */
export async function awaitStageRun(aws: AwsCredentialSettings, props: GateProps, uptycs: UptycsAccess, log: (line: string) => void): Promise<Omit<RolloutGateOutputs, keyof GateProps>> {
    const ssm: typeof import("@aws-sdk/client-ssm") = require("@aws-sdk/client-ssm");
    const pRetry: typeof import("p-retry") = require("p-retry");
    const where = `stage ${props.stage} of ${props.packageName} ${props.version} in ${props.region}`;
    await assertAwsAccount(aws, props.region, props.accountId, `judge ${where}`);
    const client = new ssm.SSMClient(awsClientConfig(aws, props.region));
    const AssociationId = props.associationId;
    const timeoutMs = props.timeoutMinutes * 60_000;
    const deadlineMs = Date.now() + timeoutMs;
    let seen: Observation = { finished: false };
    let lastLine = "";

    const look = async (): Promise<Observation> => {
        const description = (await client.send(new ssm.DescribeAssociationCommand({ AssociationId }))).AssociationDescription;
        const pinned = description?.Parameters?.version?.[0];
        const associationVersion = description?.AssociationVersion;
        if (pinned !== props.version) {
            return { finished: false, waitingFor: `association ${AssociationId} is pinned to version ${pinned ?? "(none)"}, not ${props.version}` };
        }
        const since = description?.LastUpdateAssociationDate;
        let newest: import("@aws-sdk/client-ssm").AssociationExecution | undefined;
        for await (const page of ssm.paginateDescribeAssociationExecutions({ client }, { AssociationId, Filters: since === undefined ? undefined : [runsSinceFilter(since)] })) {
            for (const e of page.AssociationExecutions ?? []) {
                if (e.AssociationVersion === associationVersion && (newest === undefined || (e.CreatedTime?.getTime() ?? 0) > (newest.CreatedTime?.getTime() ?? 0))) {
                    newest = e;
                }
            }
        }
        if (newest?.ExecutionId === undefined) {
            return { associationVersion, finished: false, waitingFor: `no run of association ${AssociationId} version ${associationVersion ?? "?"} started` };
        }
        const targets: RunTarget[] = [];
        for await (const page of ssm.paginateDescribeAssociationExecutionTargets({ client }, { AssociationId, ExecutionId: newest.ExecutionId })) {
            for (const t of page.AssociationExecutionTargets ?? []) {
                targets.push({ instanceId: t.ResourceId ?? "?", status: t.Status ?? "Pending", detailedStatus: t.DetailedStatus, commandId: t.OutputSource?.OutputSourceId });
            }
        }
        return {
            associationVersion, executionId: newest.ExecutionId, startedMs: newest.CreatedTime?.getTime(), targets,
            finished: !runPending(newest.Status) && targets.every((t) => !runPending(t.status)),
        };
    };

    // An AWS error ends the wait at once (the SDK has retried it already); only an unfinished run waits on.
    let refused: Error | undefined;
    let checkedIn = 0;
    try {
        await pRetry(async () => {
            try {
                seen = await look();
            } catch (e) {
                refused = new Error(`reading the run of ${where} (association ${AssociationId}): ${(e as Error).message}`);
                throw new pRetry.AbortError(refused);
            }
            const line = `${props.stage} (${props.region}): ${seen.targets === undefined ? `waiting: ${seen.waitingFor}` : runProgress(seen.targets)}`;
            if (line !== lastLine) {
                log(line);
                lastLine = line;
            }
            if (!seen.finished) {
                throw new Error("the run has not finished");
            }
        }, {
            // Enough tries to reach the deadline at the shortest wait; the deadline ends it sooner.
            retries: Math.ceil(timeoutMs / (FIRST_POLL_SECONDS * 1000)) + 1,
            factor: 2, minTimeout: FIRST_POLL_SECONDS * 1000, maxTimeout: MAX_POLL_SECONDS * 1000, randomize: false, maxRetryTime: timeoutMs,
        }).catch(() => {
            throw refused ?? new Error(stageTimeoutProblem(where, props.timeoutMinutes, seen.targets, seen.waitingFor));
        });
        const verdict = judgeStageRun(props, seen.targets ?? [], where);
        if (!verdict.passed) {
            throw new Error(verdict.problem);
        }
        if (props.requireCheckIn) {
            const { apiKey, policy } = await uptycs();
            checkedIn = await awaitCheckIn(client, apiKey, policy, {
                where, stage: props.stage, region: props.region, build: props.build, timeoutMinutes: props.timeoutMinutes, deadlineMs,
                instanceIds: (seen.targets ?? []).filter((t) => t.status === "Success").map((t) => t.instanceId),
                agentVersion: agentVersionOf(props.version) ?? props.version, runStartedMs: seen.startedMs ?? 0,
                firstPollMs: FIRST_POLL_SECONDS * 1000, maxPollMs: MAX_POLL_SECONDS * 1000,
            }, log);
        }
        log(`${props.stage} (${props.region}): passed, ${verdict.succeeded}/${verdict.total} Success${props.requireCheckIn ? `, ${checkedIn} reporting to Uptycs` : ""}; ${props.version} approved`);
        return {
            approvedVersion: props.version, associationVersion: seen.associationVersion ?? "", executionId: seen.executionId ?? "",
            succeeded: verdict.succeeded, failed: verdict.failed, total: verdict.total, checkedIn,
        };
    } finally {
        client.destroy();
    }
}

/** Inputs whose change means a run to judge (a new version or association version), or another verdict. */
const GATE_INPUTS: readonly (keyof GateProps & keyof RolloutGateOutputs)[] = [
    "stage", "packageName", "associationId", "version", "associationSettings", "minSuccessPercent", "minTargets", "timeoutMinutes", "region", "accountId",
];

/** The dynamic provider of {@link RolloutGate}. */
export class RolloutGateProvider implements pulumi.dynamic.ResourceProvider {
    private aws: AwsCredentialSettings = awsSettingsFromConfig(() => undefined);
    private uptycs: UptycsSettings = uptycsSettingsFromConfig(() => undefined);

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.aws = awsSettingsOf(req);
        this.uptycs = uptycsSettingsFromConfig((key) => req.config.get(key));
    }

    async diff(_id: string, olds: Partial<RolloutGateOutputs> & Omit<RolloutGateOutputs, "requireCheckIn" | "build">, news: GateProps): Promise<pulumi.dynamic.DiffResult> {
        // A gate from before requireCheckIn (no such state) stays as it is until a check-in is asked for.
        const checkIn = (olds.requireCheckIn ?? false) !== news.requireCheckIn || (news.requireCheckIn && olds.build !== news.build);
        return { changes: checkIn || GATE_INPUTS.some((k) => olds[k] !== news[k]), replaces: [] };
    }

    async create(props: GateProps): Promise<pulumi.dynamic.CreateResult> {
        return { id: `${props.region}/${props.associationId}`, outs: await this.judge(props) };
    }

    async update(_id: string, _olds: RolloutGateOutputs, news: GateProps): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: await this.judge(news) };
    }

    private async judge(props: GateProps): Promise<RolloutGateOutputs> {
        // stderr: the Pulumi CLI shows it as the update's diagnostics.
        const uptycs: UptycsAccess = async () => ({
            apiKey: props.apiKey !== undefined ? parseApiKey(props.apiKey, "the component's apiKey") : await apiKeyFromSettings(this.uptycs),
            policy: this.uptycs.policy,
        });
        const seen = await awaitStageRun(credentialsFor(props, this.aws), props, uptycs, (line) => process.stderr.write(`${line}\n`));
        const { apiKey, ...outs } = withoutCredentials(props);
        return { ...outs, ...seen };
    }
}

const ROLLOUT_GATE_PROVIDER = new RolloutGateProvider();

/**
 * The gate after one ring: `approvedVersion` is the ring's version once its association's run
 * passed; `pulumi up` fails otherwise (a `ResourceError` naming the stage and the failed instances).
 */
export class RolloutGate extends pulumi.dynamic.Resource {
    /** The version the ring proved, for the next ring or the fleet. Unknown in preview when it changes. */
    public readonly approvedVersion!: pulumi.Output<string>;
    /** Instances whose run ended in Success. */
    public readonly succeeded!: pulumi.Output<number>;
    /** Instances whose run ended otherwise. */
    public readonly failed!: pulumi.Output<number>;
    /** Instances the run reached. */
    public readonly total!: pulumi.Output<number>;
    /** With `requireCheckIn`: the hosts that reported to Uptycs at the version and build. */
    public readonly checkedIn!: pulumi.Output<number>;

    constructor(name: string, args: RolloutGateInputs, opts?: pulumi.CustomResourceOptions) {
        super(ROLLOUT_GATE_PROVIDER, name, {
            ...args, approvedVersion: undefined, associationVersion: undefined, executionId: undefined, succeeded: undefined, failed: undefined, total: undefined,
            checkedIn: undefined,
        }, { ...opts, additionalSecretOutputs: ["credentials", "apiKey"] }, "uptycs", "RolloutGate");
    }
}
