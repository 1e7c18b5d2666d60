/**
 * Rollout and upkeep of the Distributor package, as pure data and functions: sharing, tags,
 * State Manager association and Run Command targets, and which old versions to delete.
 *
 * Sources: SSM document sharing (≤ 1000 accounts per document and region), the
 * `AWS-ConfigureAWSPackage` document's parameters (action, installationType, name, version),
 * SSM `Target` (`tag:<key>` or `InstanceIds`), S3 object tagging (≤ 10 tags per object),
 * and the Distributor quota of 25 versions per package.
 */
import { MAX_PACKAGE_VERSIONS, MAX_SHARE_ACCOUNTS, VERSION_NAME_PATTERN } from "./distributor";
import { booleanField, isRecord, numberField, refuseUnknownFields } from "./objects";

/** Which managed instances to install on: those with a tag, or all of them. */
export type InstanceTargets = { readonly tagKey: string; readonly tagValues: readonly string[] } | "all";

/** How AWS-ConfigureAWSPackage replaces an installed version (its `installationType` parameter). */
export const InstallationType = {
    /** Runs the old version's uninstall script, then the new version's install script. */
    UninstallAndReinstall: "Uninstall and reinstall",
    /** Runs the new version's update script over the installed version (needed to switch builds, see README). */
    InPlaceUpdate: "In-place update",
} as const;
/** How AWS-ConfigureAWSPackage replaces an installed version (its `installationType` parameter). */
export type InstallationType = (typeof InstallationType)[keyof typeof InstallationType];

/** The `association` stack config: a State Manager association that keeps the package installed. */
export interface AssociationSettings {
    /** `cron(...)` or `rate(...)`, e.g. `rate(1 day)`. Default `rate(1 day)`. */
    readonly scheduleExpression: string;
    readonly targets: InstanceTargets;
    /** Default `Uninstall and reinstall`. */
    readonly installationType: InstallationType;
    /** e.g. `10%` or `5`. Default `10%`. */
    readonly maxConcurrency: string;
    /** e.g. `5%` or `1`. Default `5%`. */
    readonly maxErrors: string;
    /** CRITICAL | HIGH | MEDIUM | LOW | UNSPECIFIED. Default `HIGH`. */
    readonly complianceSeverity: string;
    /** Rings before the fleet, in order (`association.stages`). Default none: the fleet gets each version at once. */
    readonly stages: readonly RolloutStageSettings[];
}

/**
 * One ring of a staged rollout (`association.stages[i]`): its own State Manager association,
 * pinned to the new version, whose run must pass before the next ring or the fleet moves.
 */
export interface RolloutStageSettings {
    /** Lowercase letters, digits and hyphens, unique; the association is `<packageName>-install-<name>`. */
    readonly name: string;
    readonly targets: InstanceTargets;
    /** Share of the instances the run finished on that must end in Success, percent (0-100). Default 100. */
    readonly minSuccessPercent: number;
    /** Instances the run must finish on, at least. Default 1. */
    readonly minTargets: number;
    /** How long the gate waits for the run, minutes (fractions allowed, up to 1440). Default 30. */
    readonly timeoutMinutes: number;
    /** Default: the fleet association's. */
    readonly maxConcurrency: string;
    /** Default `100%`: the run goes on over every instance of the ring, and the gate judges them all. */
    readonly maxErrors: string;
    /** The ring passes only once each host whose run succeeded reports to Uptycs at the new version and build. Default false. */
    readonly requireCheckIn: boolean;
}

/** Stage names: they end the association name, `<packageName>-install-<stage>`. */
export const STAGE_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
/** The longest wait of a gate, minutes: a day. */
export const MAX_STAGE_TIMEOUT_MINUTES = 1440;

/** The `installOnPublish` stack config: one Run Command after each publish. */
export interface InstallOnPublishSettings {
    readonly targets: InstanceTargets;
    readonly installationType: InstallationType;
}

/** An SSM target as the API takes it. */
export interface SsmTarget {
    readonly key: string;
    readonly values: string[];
}

/** At most this many tags: S3 objects take 10, the tightest limit among the tagged resources. */
export const MAX_TAGS = 10;

const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNSPECIFIED"];
const INSTALLATION_TYPES: readonly InstallationType[] = Object.values(InstallationType);


/**
 * Validates `shareWithAccounts`: distinct 12-digit AWS account ids, at most {@link MAX_SHARE_ACCOUNTS}.
 * @throws Error naming the offending value.
 */
export function parseShareAccounts(value: unknown): string[] {
    if (!Array.isArray(value)) {
        throw new Error("must be a list of 12-digit AWS account ids");
    }
    const bad = value.filter((v) => typeof v !== "string" || !/^[0-9]{12}$/.test(v));
    if (bad.length > 0) {
        throw new Error(`has values that are not 12-digit AWS account ids: ${bad.map((b) => JSON.stringify(b)).join(", ")}`);
    }
    const ids = [...new Set(value as string[])];
    if (ids.length > MAX_SHARE_ACCOUNTS) {
        throw new Error(`lists ${ids.length} distinct accounts; a document can be shared with at most ${MAX_SHARE_ACCOUNTS} accounts per region (SSM quota)`);
    }
    return ids;
}

/** An account of an organizational unit, as `getOrganizationalUnitDescendantAccounts` lists it. */
export interface OrganizationAccount {
    readonly id: string;
    readonly status: string;
}

/**
 * The accounts a package is shared with: `listed` (`shareWithAccounts`, already through
 * {@link parseShareAccounts}) and the ACTIVE accounts of the OUs, each once, sorted, never `own`
 * (the publishing account).
 * @throws Error with the count when the union is over {@link MAX_SHARE_ACCOUNTS} (SSM: a document
 *   is shared with at most 1000 accounts per region).
 */
export function shareAccountIds(listed: readonly string[], ouAccounts: readonly OrganizationAccount[], own: string): string[] {
    const ids = [...new Set([...listed, ...ouAccounts.filter((a) => a.status === "ACTIVE").map((a) => a.id)])].filter((id) => id !== own).sort();
    if (ids.length > MAX_SHARE_ACCOUNTS) {
        throw new Error(`organization.organizationalUnitIds and shareWithAccounts come to ${ids.length} accounts; `
            + `a document can be shared with at most ${MAX_SHARE_ACCOUNTS} per region (SSM quota; ask AWS to raise it, or split the OUs across packages)`);
    }
    return ids;
}

/**
 * Validates `tags`: a map of at most {@link MAX_TAGS} string values, keys 1–128 characters,
 * values up to 256, no `aws:` prefix.
 * @throws Error naming the offending tag.
 */
export function parseTags(value: unknown): Record<string, string> {
    if (!isRecord(value)) {
        throw new Error("must be a map of tag names to string values");
    }
    const entries = Object.entries(value);
    if (entries.length > MAX_TAGS) {
        throw new Error(`has ${entries.length} tags; S3 objects take at most ${MAX_TAGS}`);
    }
    for (const [k, v] of entries) {
        if (k.length < 1 || k.length > 128 || k.toLowerCase().startsWith("aws:")) {
            throw new Error(`tag '${k}': keys are 1 to 128 characters and must not start with 'aws:'`);
        }
        if (typeof v !== "string" || v.length > 256) {
            throw new Error(`tag '${k}': the value must be a string of at most 256 characters`);
        }
    }
    return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * Validates `targets`: `"all"` or `{tagKey, tagValues}`.
 * @throws Error naming the field.
 */
export function parseTargets(value: unknown): InstanceTargets {
    if (value === "all" || (isRecord(value) && value.all === true && value.tagKey === undefined && value.tagValues === undefined)) {
        return "all";
    }
    if (isRecord(value)) {
        try {
            refuseUnknownFields(value, ["all", "tagKey", "tagValues"]);
        } catch (e) {
            throw new Error(`targets ${(e as Error).message}`);
        }
    }
    if (isRecord(value) && typeof value.tagKey === "string" && value.tagKey !== "" && Array.isArray(value.tagValues)
        && value.tagValues.length > 0 && value.tagValues.every((v) => typeof v === "string" && v !== "")) {
        return { tagKey: value.tagKey, tagValues: value.tagValues as string[] };
    }
    throw new Error(`targets must be "all" or {"tagKey": "...", "tagValues": ["..."]}`);
}

/** Validates `installationType`; default `Uninstall and reinstall`. @throws Error naming the field. */
export function parseInstallationType(value: unknown): InstallationType {
    if (value === undefined) {
        return "Uninstall and reinstall";
    }
    if (!INSTALLATION_TYPES.includes(value as InstallationType)) {
        throw new Error(`installationType must be ${INSTALLATION_TYPES.map((t) => `'${t}'`).join(" or ")}`);
    }
    return value as InstallationType;
}

function optionalString(obj: Record<string, unknown>, key: string, fallback: string, pattern: RegExp): string {
    const v = obj[key] ?? fallback;
    if (typeof v !== "string" || !pattern.test(v)) {
        throw new Error(`${key} '${String(v)}' is not valid`);
    }
    return v;
}

const MAX_CONCURRENCY_PATTERN = /^([1-9][0-9]*|[1-9][0-9]?%|100%)$/;
const MAX_ERRORS_PATTERN = /^([0-9]+|[0-9][0-9]?%|100%)$/;

/**
 * Validates `association.stages`: a list of rings, names unique.
 * @throws Error naming the stage (`stages[i]`) and its field.
 */
export function parseStages(value: unknown, fleetMaxConcurrency: string): RolloutStageSettings[] {
    if (!Array.isArray(value)) {
        throw new Error("stages must be a list of {name, targets, ...}");
    }
    const stages = value.map((v: unknown, i): RolloutStageSettings => {
        const at = `stages[${i}]`;
        if (!isRecord(v)) {
            throw new Error(`${at} must be an object with name and targets`);
        }
        try {
            refuseUnknownFields(v, ["name", "targets", "minSuccessPercent", "minTargets", "timeoutMinutes", "maxConcurrency", "maxErrors", "requireCheckIn"]);
            if (typeof v.name !== "string" || !STAGE_NAME_PATTERN.test(v.name)) {
                throw new Error(`name ${JSON.stringify(v.name)} must be 1 to 32 lowercase letters, digits and hyphens`);
            }
            return {
                name: v.name,
                targets: parseTargets(v.targets),
                minSuccessPercent: numberField(v, "minSuccessPercent", 100, { min: 0, max: 100, whole: false }),
                minTargets: numberField(v, "minTargets", 1, { min: 1, max: 50_000, whole: true }),
                timeoutMinutes: numberField(v, "timeoutMinutes", 30, { min: 0.01, max: MAX_STAGE_TIMEOUT_MINUTES, whole: false }),
                maxConcurrency: optionalString(v, "maxConcurrency", fleetMaxConcurrency, MAX_CONCURRENCY_PATTERN),
                maxErrors: optionalString(v, "maxErrors", "100%", MAX_ERRORS_PATTERN),
                requireCheckIn: booleanField(v, "requireCheckIn", false),
            };
        } catch (e) {
            throw new Error(`${at} ${(e as Error).message}`);
        }
    });
    const names = stages.map((s) => s.name);
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    if (twice.length > 0) {
        throw new Error(`stages must have unique names; ${[...new Set(twice)].join(", ")} appear more than once`);
    }
    return stages;
}

/**
 * Validates the `association` config object.
 * @throws Error naming the offending field (the caller names the config key).
 */
export function parseAssociation(value: unknown): AssociationSettings {
    if (!isRecord(value)) {
        throw new Error("must be an object with targets and optional scheduleExpression, installationType, maxConcurrency, maxErrors, complianceSeverity, stages");
    }
    refuseUnknownFields(value, ["targets", "scheduleExpression", "installationType", "maxConcurrency", "maxErrors", "complianceSeverity", "stages"]);
    const maxConcurrency = optionalString(value, "maxConcurrency", "10%", MAX_CONCURRENCY_PATTERN);
    return {
        scheduleExpression: optionalString(value, "scheduleExpression", "rate(1 day)", /^(cron|rate)\(.+\)$/),
        targets: parseTargets(value.targets),
        installationType: parseInstallationType(value.installationType),
        maxConcurrency,
        maxErrors: optionalString(value, "maxErrors", "5%", MAX_ERRORS_PATTERN),
        complianceSeverity: optionalString(value, "complianceSeverity", "HIGH", new RegExp(`^(${SEVERITIES.join("|")})$`)),
        stages: value.stages === undefined ? [] : parseStages(value.stages, maxConcurrency),
    };
}

/**
 * The rings whose targets the fleet association's targets also match, for certain (the fleet
 * targets `all`, or the same tag with a common value), each with why: a host in both associations
 * gets the ring's new version and the fleet's older one in turn, on each schedule, until the fleet moves.
 */
export function stagesOverlappingFleet(association: AssociationSettings): string[] {
    const fleet = association.targets;
    return association.stages.flatMap((stage, i) => {
        const ring = stage.targets;
        const shared = fleet === "all" ? "the fleet targets all instances"
            : ring === "all" ? "the stage targets all instances"
                : ring.tagKey === fleet.tagKey && ring.tagValues.some((v) => fleet.tagValues.includes(v)) ? `both target tag ${fleet.tagKey}=${ring.tagValues.find((v) => fleet.tagValues.includes(v))}`
                    : undefined;
        return shared === undefined ? [] : [`association.stages[${i}] (${stage.name}) targets hosts of the fleet association (${shared}): they get its new version and the fleet's older one in turn, `
            + "on each schedule, until the fleet moves; give the rings tag values the fleet does not target"];
    });
}

/** One instance of an association run, as `DescribeAssociationExecutionTargets` reports it. */
export interface RunTarget {
    /** The managed instance id, e.g. `i-0abc…` or `mi-…`. */
    readonly instanceId: string;
    /** Pending, InProgress, Success, Failed, TimedOut, … */
    readonly status: string;
    readonly detailedStatus?: string;
    /** The Run Command id of the instance's command (`OutputSource.OutputSourceId`). */
    readonly commandId?: string;
}

/**
 * The `DescribeAssociationExecutions` filter for the runs of an association's current version:
 * those created since it was last updated (`LastUpdateAssociationDate`, less a second of slack),
 * so a poll does not page through the association's whole history of scheduled runs. Whole
 * seconds, ISO 8601, as the SSM API reference's examples write it.
 */
export function runsSinceFilter(lastUpdate: Date): { Key: "CreatedTime"; Value: string; Type: "GREATER_THAN" } {
    return { Key: "CreatedTime", Value: new Date(Math.floor(lastUpdate.getTime() / 1000) * 1000 - 1000).toISOString().replace(/\.000Z$/, "Z"), Type: "GREATER_THAN" };
}

/** True while an instance (or a whole run) has not finished: State Manager's Pending and InProgress. */
export function runPending(status: string | undefined): boolean {
    return status === undefined || status === "Pending" || status === "InProgress";
}

/** `3/5 hosts done (2 Success, 1 InProgress, 2 Pending)`: a run's progress, statuses in first-seen order. */
export function runProgress(targets: readonly RunTarget[]): string {
    const counts = new Map<string, number>();
    targets.forEach((t) => counts.set(t.status, (counts.get(t.status) ?? 0) + 1));
    const done = targets.filter((t) => !runPending(t.status)).length;
    return `${done}/${targets.length} hosts done (${[...counts].map(([s, n]) => `${n} ${s}`).join(", ") || "none yet"})`;
}

/** What a gate saw of its stage's run. */
export interface StageVerdict {
    readonly passed: boolean;
    /** Instances whose run ended in Success. */
    readonly succeeded: number;
    /** Instances whose run ended otherwise (Failed, TimedOut, …). */
    readonly failed: number;
    /** Instances the run reached. */
    readonly total: number;
    /** Why it failed; undefined when it passed. */
    readonly problem?: string;
}

/** `i-0abc: Failed (Failed), Run Command 6f1c…`, one line per instance. */
function describeTargets(targets: readonly RunTarget[]): string {
    return targets.map((t) => `  ${t.instanceId}: ${t.status}${t.detailedStatus ? ` (${t.detailedStatus})` : ""}`
        + `${t.commandId ? `, Run Command ${t.commandId}` : ""}`).join("\n");
}

/**
 * Judges a finished run of a stage's association: it passes when it finished on at least
 * `minTargets` instances and at least `minSuccessPercent` % of those ended in Success.
 * @param where e.g. `stage canary of UptycsAgent 5.14.2.21-ab12cd34 in us-east-1`.
 */
export function judgeStageRun(stage: Pick<RolloutStageSettings, "minSuccessPercent" | "minTargets">, targets: readonly RunTarget[], where: string): StageVerdict {
    const finished = targets.filter((t) => !runPending(t.status));
    const succeeded = finished.filter((t) => t.status === "Success").length;
    const counts = { succeeded, failed: finished.length - succeeded, total: targets.length };
    if (targets.length === 0) {
        return { passed: false, ...counts, problem: `${where}: the run reached no instance; do the stage's targets match managed instances that are online?` };
    }
    const enough = finished.length >= stage.minTargets;
    const healthy = succeeded * 100 >= stage.minSuccessPercent * finished.length;
    if (enough && healthy) {
        return { passed: true, ...counts };
    }
    const bad = targets.filter((t) => t.status !== "Success");
    const why = !enough ? `it finished on ${finished.length} instance(s), fewer than minTargets ${stage.minTargets}`
        : `${succeeded} of ${finished.length} instances succeeded (${Math.floor((succeeded * 100) / finished.length)} %), under minSuccessPercent ${stage.minSuccessPercent}`;
    return { passed: false, ...counts, problem: `${where} failed: ${why}${bad.length > 0 ? `:\n${describeTargets(bad)}` : ""}` };
}

/**
 * Why a gate gave up waiting: the run did not finish within `timeoutMinutes` (the instances still
 * pending listed), or no run of the association's version was seen at all.
 */
export function stageTimeoutProblem(where: string, timeoutMinutes: number, targets: readonly RunTarget[] | undefined, waitingFor?: string): string {
    const head = `${where} did not finish within timeoutMinutes ${timeoutMinutes}`;
    if (targets === undefined) {
        return `${head}: ${waitingFor ?? "no run of the association's current version started"}`;
    }
    const pending = targets.filter((t) => runPending(t.status));
    return `${head}: ${runProgress(targets)}${pending.length > 0 ? `; still running:\n${describeTargets(pending)}` : ""}`;
}

/**
 * Validates the `installOnPublish` config object.
 * @throws Error naming the offending field.
 */
export function parseInstallOnPublish(value: unknown): InstallOnPublishSettings {
    if (!isRecord(value)) {
        throw new Error("must be an object with targets and optional installationType");
    }
    refuseUnknownFields(value, ["targets", "installationType"]);
    return { targets: parseTargets(value.targets), installationType: parseInstallationType(value.installationType) };
}

/** SSM targets for `targets`: `tag:<key>` with the values, or every managed instance. */
export function ssmTargets(targets: InstanceTargets): SsmTarget[] {
    return targets === "all" ? [{ key: "InstanceIds", values: ["*"] }] : [{ key: `tag:${targets.tagKey}`, values: [...targets.tagValues] }];
}

/** AWS-ConfigureAWSPackage parameters that install `version` of `packageName`. */
export function configurePackageParameters(packageName: string, version: string, installationType: InstallationType): Record<string, string> {
    return { action: "Install", installationType, name: packageName, version };
}

/**
 * The `aws ssm send-command --cli-input-json` document for a one-time install: passed through an
 * environment variable, so nothing of it is ever parsed by a shell.
 */
export function sendCommandInput(packageName: string, version: string, settings: InstallOnPublishSettings): string {
    const parameters = Object.fromEntries(Object.entries(configurePackageParameters(packageName, version, settings.installationType)).map(([k, v]) => [k, [v]]));
    return JSON.stringify({
        DocumentName: "AWS-ConfigureAWSPackage",
        Targets: ssmTargets(settings.targets).map((t) => ({ Key: t.key, Values: t.values })),
        Parameters: parameters,
        Comment: `Install ${packageName} ${version}`.slice(0, 100),
    });
}

/** One version of a Distributor package, as `ListDocumentVersions` reports it. */
export interface PackageVersion {
    /** The document version number, as a string ("1", "2", ...). */
    readonly documentVersion: string;
    readonly versionName?: string;
    readonly isDefault: boolean;
}

/**
 * The versions to delete so that at most `keep` remain: the oldest (lowest document version)
 * first, never the default version.
 * @throws Error when `keep` is not between 1 and {@link MAX_PACKAGE_VERSIONS}.
 */
export function versionsToPrune(versions: readonly PackageVersion[], keep: number): PackageVersion[] {
    if (!Number.isInteger(keep) || keep < 1 || keep > MAX_PACKAGE_VERSIONS) {
        throw new Error(`keepVersions must be a whole number from 1 to ${MAX_PACKAGE_VERSIONS}, got ${keep}`);
    }
    const excess = versions.length - keep;
    if (excess <= 0) {
        return [];
    }
    return [...versions]
        .filter((v) => !v.isDefault)
        .sort((a, b) => Number(a.documentVersion) - Number(b.documentVersion))
        .slice(0, excess);
}

/**
 * The VersionName to publish content whose content-derived version is `contentVersion`, given the
 * package's existing versions. A VersionName can never be reused in a document
 * (DuplicateDocumentVersionName), so content published before and replaced since (a sensor-only
 * switch flipped back) is renamed:
 * - the default version already is this content (`contentVersion` or a `-r<n>` of it): its name;
 * - `contentVersion` is not among the versions: `contentVersion`;
 * - otherwise `<contentVersion>-r<n>`, `n` the document version number this publish will get
 *   (one above the highest): SSM never reuses document version numbers, so neither is the name.
 * @throws Error when the name would break the VersionName pattern.
 */
export function chooseVersionName(contentVersion: string, versions: readonly PackageVersion[]): string {
    const current = versions.find((v) => v.isDefault)?.versionName;
    const revision = new RegExp(`^${contentVersion.replace(/\./g, "\\.")}-r[0-9]+$`);
    let name = contentVersion;
    if (current !== undefined && (current === contentVersion || revision.test(current))) {
        name = current;
    } else if (versions.some((v) => v.versionName === contentVersion)) {
        name = `${contentVersion}-r${Math.max(0, ...versions.map((v) => Number(v.documentVersion))) + 1}`;
    }
    if (!VERSION_NAME_PATTERN.test(name)) {
        throw new Error(`the document VersionName '${name}' does not match ${VERSION_NAME_PATTERN}`);
    }
    return name;
}

/** What {@link manualRollbackProblem} compares. */
export interface PublishIntent {
    /** The Distributor package (SSM document) name. */
    readonly packageName: string;
    /** The region of the package. */
    readonly region: string;
    /** The VersionName this stack published last (its state), undefined before its first publish. */
    readonly published?: string;
    /** The VersionName about to be published ({@link chooseVersionName}). */
    readonly next: string;
}

/**
 * Why publishing `intent.next` would undo a rollback made by hand, or undefined when it would
 * not: the package's default version (`versions`) is neither what this stack published last nor
 * what it is about to publish, so someone set it since ("Set default version" in the console,
 * `aws ssm update-document-default-version`: the default is then not the latest version), and a
 * publish would make the new version the default over it. Content equal to the hand-set version (`agentVersion` pinned to it) publishes
 * nothing and is never a problem.
 */
export function manualRollbackProblem(intent: PublishIntent, versions: readonly PackageVersion[]): string | undefined {
    const current = versions.find((v) => v.isDefault);
    const name = current?.versionName ?? current?.documentVersion;
    // A publish makes the new version the default; a default older than the latest version was
    // set since. A latest default that is not the stack's is a publish that failed after the
    // name was chosen (state ahead of the document), not a rollback.
    const latest = Math.max(0, ...versions.map((v) => Number(v.documentVersion)));
    if (current === undefined || intent.published === undefined || name === intent.published || name === intent.next || Number(current.documentVersion) === latest) {
        return undefined;
    }
    return `the default version of Distributor package ${intent.packageName} in ${intent.region} is ${name}, set by hand; this stack published ${intent.published} `
        + `and would now publish ${intent.next} as the default over it. To stay on the rolled-back agent, pin agentVersion to its version; `
        + "to publish anyway, set overrideManualRollback to true for this run (pulumi config set overrideManualRollback true), then unset it";
}
