/**
 * The arguments of {@link UptycsDistributorPackage} as a TypeScript user writes them (and as the
 * plugin's schema is inferred from), and which of them must be known to register resources. Their
 * one validation is in ./resolvePackageArgs.
 */
import * as pulumi from "@pulumi/pulumi";
import { AgentMappingEntry } from "./platforms/mapping";
import { CallAs, RegionConcurrencyType } from "./platforms/organization";
import { InstallationType } from "./platforms/rollout";
import { InstallerSource } from "./providers/artifactSettings";

/** A role the AWS calls assume, with the aws provider's field names (`aws.Provider` `assumeRoles`). */
export interface AwsAssumeRole {
    /** The role's ARN. */
    readonly roleArn: string;
    /** Session name. */
    readonly sessionName?: string;
    /** External id the role's trust policy requires. */
    readonly externalId?: string;
    /** Session duration, e.g. `1h` or `45m`. */
    readonly duration?: string;
    /** An IAM policy (JSON) narrowing the session. */
    readonly policy?: string;
    /** ARNs of managed policies narrowing the session. */
    readonly policyArns?: string[];
    /** Source identity of the session. */
    readonly sourceIdentity?: string;
    /** Session tags. */
    readonly tags?: Record<string, string>;
    /** Keys of the session tags passed on to roles assumed next. */
    readonly transitiveTagKeys?: string[];
}

/**
 * The credentials of the explicit aws provider a component is given, with the provider's field
 * names; the secrets may be outputs (`config.requireSecret`, another resource), as the provider takes them.
 */
export interface AwsCredentials {
    /** A profile of the shared credentials/config files. */
    readonly profile?: string;
    /** Shared credentials files (default `~/.aws/credentials`). */
    readonly sharedCredentialsFiles?: string[];
    /** Shared config files (default `~/.aws/config`). */
    readonly sharedConfigFiles?: string[];
    /** Access key id (with `secretKey`). */
    readonly accessKey?: string;
    /** Secret access key. Sensitive: pass a Pulumi secret. */
    readonly secretKey?: pulumi.Input<string>;
    /** Session token. Sensitive: pass a Pulumi secret. */
    readonly token?: pulumi.Input<string>;
    /** Roles assumed in order. */
    readonly assumeRoles?: AwsAssumeRole[];
}

/**
 * Which managed instances a State Manager association or Run Command targets: every instance of
 * the account and region (`all`, SSM target `InstanceIds=*`), or those carrying a tag. TypeScript
 * programs may also write `"all"`.
 */
export interface InstanceTarget {
    /** Every managed instance of the account and region; set alone. */
    readonly all?: boolean;
    /** The tag key of the targeted instances, e.g. `Environment` (with `tagValues`). */
    readonly tagKey?: string;
    /** Tag values, any of which matches (with `tagKey`). */
    readonly tagValues?: string[];
}

/** A State Manager association (`AWS-ConfigureAWSPackage`) that keeps the package installed in the publishing account. */
export interface Association {
    /** The instances it installs on. */
    readonly targets: pulumi.Input<InstanceTarget> | "all";
    /** `cron(...)` or `rate(...)`. Default `rate(1 day)`. */
    readonly scheduleExpression?: string;
    /** How a new version replaces the installed one. Default `Uninstall and reinstall`. */
    readonly installationType?: InstallationType;
    /** Instances at once, e.g. `10%` or `5`. Default `10%`. */
    readonly maxConcurrency?: string;
    /** Failures before it stops, e.g. `5%` or `1`. Default `5%`. */
    readonly maxErrors?: string;
    /** `CRITICAL`, `HIGH`, `MEDIUM`, `LOW` or `UNSPECIFIED`. Default `HIGH`. */
    readonly complianceSeverity?: string;
    /**
     * Rings before the fleet, in order: each gets its own association pinned to the new version,
     * and the next ring (and at last this association, and an organization's StackSet) moves to it
     * only once the ring's run passed. Default none: the fleet gets each new version at once.
     */
    readonly stages?: RolloutStage[];
}

/**
 * One ring of a staged rollout: an association `<packageName>-install-<name>` of
 * `AWS-ConfigureAWSPackage` (the fleet's schedule, installationType and compliance severity),
 * and a gate that waits for its run and fails `pulumi up` unless it passed.
 */
export interface RolloutStage {
    /** 1 to 32 lowercase letters, digits and hyphens; unique among the stages. */
    readonly name: string;
    /** The ring's instances, usually by tag (e.g. `{tagKey: "uptycs-ring", tagValues: ["canary"]}`). */
    readonly targets: pulumi.Input<InstanceTarget> | "all";
    /** Share of the instances the run finished on that must end in Success, percent (0-100). Default 100. */
    readonly minSuccessPercent?: number;
    /** Instances the run must finish on, at least. Default 1. */
    readonly minTargets?: number;
    /** How long to wait for the run, minutes (fractions allowed, up to 1440). Default 30. */
    readonly timeoutMinutes?: number;
    /** Instances at once, e.g. `10%` or `5`. Default: the fleet association's. */
    readonly maxConcurrency?: string;
    /** Failures before the run stops, e.g. `1`. Default `100%`: every instance of the ring runs and is judged. */
    readonly maxErrors?: string;
    /**
     * The ring passes only when each of its hosts whose run succeeded also reports to the Uptycs
     * tenant (`GET /assets`) at the new agent version and build, later than the run began, within
     * `timeoutMinutes`; the failure names the hosts that did not. Default false. Needs the Uptycs
     * key the artifacts use, and `ssm:DescribeInstanceInformation` (host names).
     */
    readonly requireCheckIn?: boolean;
}

/** A one-time Run Command install (`AWS-ConfigureAWSPackage` through `aws ssm send-command`) after each publish. */
export interface InstallOnPublish {
    /** The instances it installs on. */
    readonly targets: pulumi.Input<InstanceTarget> | "all";
    /** How the new version replaces the installed one. Default `Uninstall and reinstall`. */
    readonly installationType?: InstallationType;
}

/**
 * The health check of the package's scripts: after the package manager step, install and update
 * wait until the agent's service runs (Linux `osqueryd`, Windows `uptycsosquery`) and fail
 * otherwise; every zip carries a `validate` script with the same check.
 */
export interface HealthCheck {
    /** Default true. False: no wait and no `validate` script. */
    readonly enabled?: boolean;
    /** How long to wait for the agent, seconds (5–1800). Default 120. */
    readonly timeoutSeconds?: number;
}

/** Share the package with, and install it in, every account of some organizational units (a service-managed StackSet). */
export interface Organization {
    /** OUs (`ou-...`, or the root `r-...`) whose accounts, all descendants, get the package. */
    readonly organizationalUnitIds: string[];
    /** Regions of the association, among those published. Default: every region published. */
    readonly regions?: string[];
    /** How a new version replaces the installed one. Default `Uninstall and reinstall`. */
    readonly installationType?: InstallationType;
    /** The instances of each account it installs on. Default every managed instance. */
    readonly targets?: pulumi.Input<InstanceTarget> | "all";
    /** `cron(...)` or `rate(...)`. Default `rate(1 day)`. */
    readonly scheduleExpression?: string;
    /** Who creates the StackSet. Default `SELF` (the management account). */
    readonly callAs?: CallAs;
    /** Accounts deployed at once per region, percent (1–100). Default 25. */
    readonly maxConcurrentPercentage?: number;
    /** Accounts per region that may fail before the operation stops, percent (0–100). Default 10. */
    readonly failureTolerancePercentage?: number;
    /** How the operation proceeds across regions. Default `SEQUENTIAL`. */
    readonly regionConcurrencyType?: RegionConcurrencyType;
}

// The names these types had before the schema (a Python SDK names input types `<Name>Args`).
/** @deprecated Use {@link AwsCredentials}. */
export type AwsCredentialsArgs = AwsCredentials;
/** @deprecated Use {@link Association}. */
export type AssociationArgs = Association;
/** @deprecated Use {@link InstallOnPublish}. */
export type InstallOnPublishArgs = InstallOnPublish;
/** @deprecated Use {@link Organization}. */
export type OrganizationArgs = Organization;

/**
 * Arguments of {@link UptycsDistributorPackage}. Each replaces a flag of Uptycs' `create_package.py`.
 * Every one may be an output: those that shape the package (mapping, regions, names, folders, …)
 * are validated, and its resources registered, once their values are known.
 */
export interface UptycsDistributorPackageArgs {
    /** `latest` (default: the highest version the tenant offers, resolved at preview) or a pinned version such as `5.14.2.21` (old `-v`). */
    readonly agentVersion?: pulumi.Input<string>;
    /** The sensor-only (osquery) build instead of Uptycs Protect (old `-o`). Default false. */
    readonly sensorOnly?: pulumi.Input<boolean>;
    /** Distributor package (SSM document) name (old `-p`). Default `UptycsAgent`. */
    readonly packageName?: pulumi.Input<string>;
    /**
     * An existing bucket to publish into (old `-b`); with several regions it holds `{region}`,
     * e.g. `acme-distributor-{region}`. Default: a private bucket per region is created.
     */
    readonly bucketName?: pulumi.Input<string>;
    /** Agent mapping entries (the format of `uptycs-agent-mapping.json`). Default: every platform Uptycs serves. */
    readonly mapping?: pulumi.Input<pulumi.Input<AgentMappingEntry>[]>;
    /** Or a mapping file to read (`{linux: [...], windows: [...]}`), relative to the program. */
    readonly mappingFile?: pulumi.Input<string>;
    /** `api` (default) downloads the installers; `local` takes `<installerDir>/<dir>/<installer>` (old `-d`). */
    readonly installerSource?: pulumi.Input<InstallerSource>;
    /** Folder of the installers for `local`, relative to the program. Default `installers`. */
    readonly installerDir?: pulumi.Input<string>;
    /** Local build folder (a cache shared by all stacks of the checkout; holds secrets), relative to the program. Default `build`. */
    readonly buildDir?: pulumi.Input<string>;
    /** Tags of every taggable resource, at most 10. */
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** 12-digit account ids the package is shared with, up to 1000. */
    readonly shareWithAccounts?: pulumi.Input<pulumi.Input<string>[]>;
    /** A State Manager association that keeps the package installed in the publishing account. */
    readonly association?: pulumi.Input<Association>;
    /** A one-time Run Command install (`aws ssm send-command`) after each publish. */
    readonly installOnPublish?: pulumi.Input<InstallOnPublish>;
    /** Package versions kept (1–24); older ones are deleted after each publish. Default 20. */
    readonly keepVersions?: pulumi.Input<number>;
    /**
     * The install scripts' health check: an install or update counts only once the agent runs.
     * Default: enabled, 120 seconds. Changing it changes the zips and the document version.
     */
    readonly healthCheck?: pulumi.Input<HealthCheck>;
    /**
     * Publish even when the package's default version was set by hand (a rollback in the console)
     * since this stack last published. Default false: such a `pulumi up` fails, naming the
     * versions, and publishes nothing. Set it for one run, then unset it.
     */
    readonly overrideManualRollback?: pulumi.Input<boolean>;
    /** Regions to publish in. Default: the region of the component's aws provider alone, under single-region resource names. */
    readonly regions?: pulumi.Input<pulumi.Input<string>[]>;
    /** Share with and install in every account of some organizational units. */
    readonly organization?: pulumi.Input<Organization>;
    /**
     * The Uptycs API key file's JSON (customerId, key, secret, domain, domainSuffix) for this
     * package's tenant; pass it as a Pulumi secret. Default: the stack's `uptycs:apiKey` or
     * `uptycs:apiKeyFile`. It reaches the artifacts as a secret only; each tenant gets its own
     * installers, cached apart.
     */
    readonly apiKey?: pulumi.Input<string>;
    /**
     * The credentials of the explicit aws provider the component is given (`provider` /
     * `providers.aws`): the program's own AWS calls (version names, pruning, `installOnPublish`)
     * and the per-region providers of `regions` use them. Default: the stack's `aws:` config,
     * which must then reach the provider's account (checked before any version is read or deleted).
     */
    readonly awsCredentials?: pulumi.Input<AwsCredentials>;
}

/** The arguments whose values shape the package's resources: they must be known to register them. */
export const SHAPING_ARGUMENTS = [
    "packageName", "mapping", "mappingFile", "installerSource", "installerDir", "buildDir", "tags",
    "association", "installOnPublish", "keepVersions", "healthCheck", "regions", "organization",
] as const;
type ShapingArgument = (typeof SHAPING_ARGUMENTS)[number];

/** {@link UptycsDistributorPackageArgs} with the shaping arguments' values known. */
export type KnownPackageArgs = Omit<UptycsDistributorPackageArgs, ShapingArgument> & {
    readonly [K in ShapingArgument]?: pulumi.Unwrap<NonNullable<UptycsDistributorPackageArgs[K]>>;
};

/** True when `value` holds no output or promise at any depth: its value is known now. */
export function isKnown(value: unknown): boolean {
    if (pulumi.Output.isInstance(value) || value instanceof Promise) {
        return false;
    }
    if (Array.isArray(value)) {
        return value.every(isKnown);
    }
    return value === null || typeof value !== "object" || Object.values(value).every(isKnown);
}

