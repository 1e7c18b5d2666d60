/**
 * Publishing in several regions and rolling out to an AWS Organization, as pure data and functions:
 * region lists, per-region bucket names, the `organization` settings, and the CloudFormation
 * template that a service-managed StackSet deploys to every account of the organizational units.
 *
 * Sources: AWS CloudFormation user guide, "StackSets concepts" (service-managed permissions,
 * automatic deployment, operation preferences) and the `AWS::SSM::Association` resource
 * reference; AWS Systems Manager, "Install or update packages" (`AWS-ConfigureAWSPackage` takes a
 * package shared from another account by its ARN); AWS Organizations OU id format.
 */
import { isRecord, numberField, refuseUnknownFields } from "./objects";
import { InstallationType, InstanceTargets, parseInstallationType, parseTargets, ssmTargets } from "./rollout";

/** An AWS region code of a commercial, China or GovCloud partition, e.g. `eu-west-1`. */
export const REGION_PATTERN = /^(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov)-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9]$/;

/** An organizational unit id (AWS Organizations `ou-<root 4-32>-<8-32>`). */
export const OU_ID_PATTERN = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;

/** The placeholder in `bucketName` that becomes each region's code. */
export const REGION_PLACEHOLDER = "{region}";


/**
 * Validates a list of region codes: non-empty, each a region, none twice.
 * @throws Error naming the offending value.
 */
export function parseRegions(value: unknown): string[] {
    if (!Array.isArray(value) || value.length === 0) {
        throw new Error("must be a non-empty list of AWS regions such as [\"us-east-1\", \"eu-west-1\"]");
    }
    const bad = value.filter((r) => typeof r !== "string" || !REGION_PATTERN.test(r));
    if (bad.length > 0) {
        throw new Error(`has values that are not AWS regions: ${bad.map((b) => JSON.stringify(b)).join(", ")}`);
    }
    const twice = (value as string[]).filter((r, i) => value.indexOf(r) !== i);
    if (twice.length > 0) {
        throw new Error(`lists ${[...new Set(twice)].join(", ")} more than once`);
    }
    return value as string[];
}

/**
 * The bucket of `region`: `bucketName` with {@link REGION_PLACEHOLDER} replaced.
 * @throws Error when several regions would share one bucket name (S3 names are global).
 */
export function bucketNameFor(bucketName: string, region: string, regionCount: number): string {
    if (regionCount > 1 && !bucketName.includes(REGION_PLACEHOLDER)) {
        throw new Error(`'${bucketName}' has no ${REGION_PLACEHOLDER}: with several regions each needs its own bucket, e.g. acme-distributor-${REGION_PLACEHOLDER}`);
    }
    return bucketName.split(REGION_PLACEHOLDER).join(region);
}

/** Who creates the StackSet (CloudFormation `CallAs`). */
export const CallAs = {
    /** The organization's management account. */
    Self: "SELF",
    /** A delegated administrator account for StackSets. */
    DelegatedAdmin: "DELEGATED_ADMIN",
} as const;
/** Who creates the StackSet (CloudFormation `CallAs`). */
export type CallAs = (typeof CallAs)[keyof typeof CallAs];

/** How a StackSet operation proceeds across regions (CloudFormation `RegionConcurrencyType`). */
export const RegionConcurrencyType = {
    /** One region after the other. */
    Sequential: "SEQUENTIAL",
    /** All regions at once. */
    Parallel: "PARALLEL",
} as const;
/** How a StackSet operation proceeds across regions (CloudFormation `RegionConcurrencyType`). */
export type RegionConcurrencyType = (typeof RegionConcurrencyType)[keyof typeof RegionConcurrencyType];

/** StackSet operation preferences (CloudFormation `StackSetOperationPreferences`). */
export interface StackSetPreferences {
    /** Accounts deployed at once per region, percent (1–100). Default 25. */
    readonly maxConcurrentPercentage: number;
    /** Accounts per region that may fail before the operation stops, percent (0–100). Default 10. */
    readonly failureTolerancePercentage: number;
    /** `SEQUENTIAL` (default) or `PARALLEL`. */
    readonly regionConcurrencyType: RegionConcurrencyType;
}

/** The `organization` stack config: install the package in every account of some OUs. */
export interface OrganizationSettings {
    /** OUs whose accounts (all descendants) get the package shared and the association. */
    readonly organizationalUnitIds: readonly string[];
    /** Regions of the association; a subset of the regions the package is published in. */
    readonly regions: readonly string[];
    readonly installationType: InstallationType;
    readonly targets: InstanceTargets;
    /** Default `rate(1 day)`. */
    readonly scheduleExpression: string;
    /** `SELF` (management account, default) or `DELEGATED_ADMIN`. */
    readonly callAs: CallAs;
    readonly preferences: StackSetPreferences;
}

function percentage(obj: Record<string, unknown>, key: string, fallback: number, min: number): number {
    return numberField(obj, key, fallback, { min, max: 100, whole: true });
}

function oneOf<T extends string>(obj: Record<string, unknown>, key: string, allowed: readonly T[]): T {
    const v = obj[key] ?? allowed[0];
    if (!allowed.includes(v as T)) {
        throw new Error(`${key} must be ${allowed.map((a) => `'${a}'`).join(" or ")}, got ${JSON.stringify(v)}`);
    }
    return v as T;
}

/**
 * Validates the `organization` config object.
 * @param publishRegions the regions the package is published in (the default, and the bound, of `regions`).
 * @throws Error naming the offending field (the caller names the config key).
 */
export function parseOrganization(value: unknown, publishRegions: readonly string[]): OrganizationSettings {
    if (!isRecord(value)) {
        throw new Error("must be an object with organizationalUnitIds and optional regions, targets, installationType, scheduleExpression, callAs, maxConcurrentPercentage, failureTolerancePercentage, regionConcurrencyType");
    }
    refuseUnknownFields(value, ["organizationalUnitIds", "regions", "targets", "installationType", "scheduleExpression", "callAs",
        "maxConcurrentPercentage", "failureTolerancePercentage", "regionConcurrencyType"]);
    const ous = value.organizationalUnitIds;
    if (!Array.isArray(ous) || ous.length === 0) {
        throw new Error("organizationalUnitIds must be a non-empty list of OU ids such as ou-ab12-cdef3456");
    }
    const badOus = ous.filter((o) => typeof o !== "string" || !OU_ID_PATTERN.test(o));
    if (badOus.length > 0) {
        throw new Error(`organizationalUnitIds has values that are not OU ids (ou-xxxx-xxxxxxxx): ${badOus.map((b) => JSON.stringify(b)).join(", ")}`);
    }
    if (new Set(ous).size !== ous.length) {
        throw new Error("organizationalUnitIds lists an OU more than once");
    }
    let regions: string[];
    try {
        regions = value.regions === undefined ? [...publishRegions] : parseRegions(value.regions);
    } catch (e) {
        throw new Error(`regions ${(e as Error).message}`);
    }
    const unpublished = regions.filter((r) => !publishRegions.includes(r));
    if (unpublished.length > 0) {
        throw new Error(`regions ${unpublished.join(", ")} must also be in regions: the package is installed from its own region`);
    }
    const scheduleExpression = value.scheduleExpression ?? "rate(1 day)";
    if (typeof scheduleExpression !== "string" || !/^(cron|rate)\(.+\)$/.test(scheduleExpression)) {
        throw new Error(`scheduleExpression '${String(scheduleExpression)}' is not valid`);
    }
    return {
        organizationalUnitIds: ous as string[],
        regions,
        installationType: parseInstallationType(value.installationType),
        targets: value.targets === undefined ? "all" : parseTargets(value.targets),
        scheduleExpression,
        callAs: oneOf(value, "callAs", [CallAs.Self, CallAs.DelegatedAdmin]),
        preferences: {
            maxConcurrentPercentage: percentage(value, "maxConcurrentPercentage", 25, 1),
            failureTolerancePercentage: percentage(value, "failureTolerancePercentage", 10, 0),
            regionConcurrencyType: oneOf(value, "regionConcurrencyType", [RegionConcurrencyType.Sequential, RegionConcurrencyType.Parallel]),
        },
    };
}

/** The StackSet parameter that carries the published VersionName. */
export const VERSION_PARAMETER = "PackageVersion";

/** A CloudFormation template, as far as this program writes one. */
export interface CloudFormationTemplate {
    readonly AWSTemplateFormatVersion: "2010-09-09";
    readonly Description: string;
    readonly Parameters: Readonly<Record<string, { readonly Type: "String"; readonly Description: string }>>;
    readonly Resources: Readonly<Record<string, { readonly Type: string; readonly Properties: Readonly<Record<string, unknown>> }>>;
}

/**
 * The template each member account and region gets: one State Manager association of
 * `AWS-ConfigureAWSPackage` that installs the package shared from `ownerAccount`, by ARN in the
 * stack's own region and partition, at the version in the {@link VERSION_PARAMETER} parameter.
 * A new VersionName changes the parameter, so the association is updated and runs again.
 */
export function organizationTemplate(packageName: string, ownerAccount: string, settings: OrganizationSettings): CloudFormationTemplate {
    const packageArn = `arn:\${AWS::Partition}:ssm:\${AWS::Region}:${ownerAccount}:document/${packageName}`;
    return {
        AWSTemplateFormatVersion: "2010-09-09",
        Description: `Installs the Uptycs agent from the Distributor package ${packageName} shared by account ${ownerAccount} (managed by Pulumi)`,
        Parameters: {
            [VERSION_PARAMETER]: { Type: "String", Description: `VersionName of ${packageName} to install` },
        },
        Resources: {
            UptycsAgentAssociation: {
                Type: "AWS::SSM::Association",
                Properties: {
                    Name: "AWS-ConfigureAWSPackage",
                    AssociationName: `${packageName}-install`,
                    // AWS::SSM::Association takes each parameter as a list of strings.
                    Parameters: {
                        action: ["Install"],
                        installationType: [settings.installationType],
                        name: [{ "Fn::Sub": packageArn }],
                        version: [{ Ref: VERSION_PARAMETER }],
                    },
                    Targets: ssmTargets(settings.targets).map((t) => ({ Key: t.key, Values: t.values })),
                    ScheduleExpression: settings.scheduleExpression,
                    ApplyOnlyAtCronInterval: false,
                    MaxConcurrency: "10%",
                    MaxErrors: "5%",
                    ComplianceSeverity: "HIGH",
                },
            },
        },
    };
}
