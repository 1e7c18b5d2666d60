/**
 * The one validation of `UptycsDistributorPackageArgs` (./packageArgs): defaults filled, files read, values
 * checked, shared by the component (errors name `args.<name>`) and by this project's stack config
 * (errors name `config uptycs-distributor:<key>`, the keys being the argument names).
 */
import * as fs from "fs";
import * as path from "path";
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { MAX_PACKAGE_VERSIONS, packageNameProblem } from "./platforms/distributor";
import { refuseUnknownFields } from "./platforms/objects";
import { AgentMappingEntry, parseAgentMapping, validateAgentMapping } from "./platforms/mapping";
import {
    bucketNameFor, OrganizationSettings, parseOrganization, parseRegions, REGION_PATTERN,
} from "./platforms/organization";
import {
    AssociationSettings, InstallOnPublishSettings, parseAssociation, parseInstallOnPublish, parseShareAccounts, parseTags,
} from "./platforms/rollout";
import { DEFAULT_HEALTH_CHECK, HealthCheckSettings, parseHealthCheck } from "./platforms/scripts";
import { isAgentVersion, LATEST } from "./platforms/version";
import {
    awsCliBaseEnvironment, AwsCredentialSettings, awsSettingsFromArgs, awsSettingsFromConfig,
} from "./providers/awsCredentials";
import { parseApiKey } from "./providers/uptycsApi";
import { InstallerSource } from "./providers/artifactSettings";
import DEFAULT_MAPPING = require("./platforms/uptycs-agent-mapping.json");
import { AwsCredentials, isKnown, KnownPackageArgs } from "./packageArgs";

/** The arguments resolved: defaults filled, files read, values validated. */
export interface ResolvedPackageArgs {
    readonly agentVersion: pulumi.Input<string>;
    readonly sensorOnly: pulumi.Input<boolean>;
    readonly packageName: string;
    readonly bucketName?: pulumi.Input<string>;
    readonly installerSource: InstallerSource;
    /** `""` for `api`: the folder is then no input of any zip. */
    readonly installerDir: string;
    /** The validated mapping entries, Linux first. */
    readonly entries: readonly AgentMappingEntry[];
    readonly buildDir: string;
    readonly tags: Readonly<Record<string, string>>;
    readonly shareWithAccounts: pulumi.Input<readonly pulumi.Input<string>[]>;
    readonly association?: AssociationSettings;
    readonly installOnPublish?: InstallOnPublishSettings;
    readonly keepVersions: number;
    readonly healthCheck: HealthCheckSettings;
    readonly overrideManualRollback: pulumi.Input<boolean>;
    /**
     * The stack's `aws:region`: the region of the default provider, and the home region of
     * `regions`. Required unless the component has an explicit aws provider.
     */
    readonly region?: string;
    readonly regions?: readonly string[];
    readonly organization?: OrganizationSettings;
    /** The Uptycs API key file's JSON, as a secret, when given as an argument. */
    readonly apiKey?: pulumi.Output<string>;
    /**
     * The AWS credential settings of the program's own calls: from `awsCredentials` (`explicit`,
     * a secret, handed to the package-version resources), else the stack's `aws:` config (read by
     * those resources in `configure`; used here only for the AWS CLI).
     */
    readonly aws: { readonly settings: pulumi.Output<AwsCredentialSettings>; readonly explicit: boolean };
    /** Provider arguments but the region, for each region's explicit provider: from `awsCredentials`, else the stack's `aws:` config. */
    readonly awsProviderArgs: Readonly<aws.ProviderArgs>;
}

/** What {@link resolvePackageArgs} needs to know of the component. */
export interface PackageContext {
    /** The component has an explicit aws provider (its own or a parent's): `aws:region` is not needed. */
    readonly explicitProvider: boolean;
    /** The error a bad value found once an output is known becomes (the component's `ResourceError`). Default: itself. */
    readonly errorOf?: (e: ArgumentError) => Error;
}

/** A bad argument: `argument` is its name (also the stack config key), or a full `aws:` key. */
export interface ArgumentError extends Error {
    readonly argument: string;
}

function argumentError(argument: string, message: string): ArgumentError {
    return Object.assign(new Error(message), { argument });
}

/** True for errors of {@link resolvePackageArgs}. */
export function isArgumentError(e: unknown): e is ArgumentError {
    return e instanceof Error && typeof (e as Partial<ArgumentError>).argument === "string";
}

// Exported by the runtime (used by Config.getSecret) but missing from its typings.
const { isConfigSecret } = pulumi.runtime as typeof pulumi.runtime & { isConfigSecret(key: string): boolean };

/**
 * Every `aws:` key of the stack but `aws:region`, as `aws.Provider` arguments: JSON lists,
 * objects, booleans and numbers (`aws:assumeRoles`, `aws:defaultTags`, `aws:maxRetries`) parsed,
 * secret values wrapped as secrets.
 */
function awsProviderArgs(): aws.ProviderArgs {
    const out: Record<string, pulumi.Input<unknown>> = {};
    for (const [key, raw] of Object.entries(pulumi.runtime.allConfig())) {
        const m = /^aws:(.+)$/.exec(key);
        if (m === null || m[1] === "region") {
            continue;
        }
        let value: unknown = raw;
        // Config holds text; the provider takes lists, objects, booleans and numbers (maxRetries).
        if (/^[[{]/.test(raw) || raw === "true" || raw === "false" || (/^[0-9]+$/.test(raw) && !/^(profile|accessKey|secretKey|token)$/.test(m[1]))) {
            try {
                value = JSON.parse(raw);
            } catch {
                value = raw;
            }
        }
        out[m[1]] = isConfigSecret(key) ? pulumi.secret(value) : value;
    }
    return Object.freeze(out) as aws.ProviderArgs;
}

/** Runs `parse` on `value`; its error becomes an {@link ArgumentError} for `argument`. */
function check<T>(argument: string, value: unknown, parse: (v: unknown) => T): T {
    try {
        return parse(value);
    } catch (e) {
        throw argumentError(argument, (e as Error).message);
    }
}

const isPlain = <T>(v: pulumi.Input<T> | undefined): v is T => v !== undefined && !pulumi.Output.isInstance(v) && !(v instanceof Promise);

/** `aws.Provider` arguments with these credentials (the provider's own field names). */
function providerArgsOf(c: AwsCredentials): aws.ProviderArgs {
    const secret = (v: pulumi.Input<string> | undefined): pulumi.Output<string> | undefined => (v === undefined ? undefined : pulumi.secret(v));
    return Object.freeze({
        profile: c.profile, sharedCredentialsFiles: c.sharedCredentialsFiles ? [...c.sharedCredentialsFiles] : undefined,
        sharedConfigFiles: c.sharedConfigFiles ? [...c.sharedConfigFiles] : undefined, accessKey: c.accessKey,
        secretKey: secret(c.secretKey), token: secret(c.token),
        assumeRoles: c.assumeRoles?.map((r) => ({ ...r, policyArns: r.policyArns ? [...r.policyArns] : undefined, transitiveTagKeys: r.transitiveTagKeys ? [...r.transitiveTagKeys] : undefined })),
    });
}

/** The settings of `awsCredentials`, its secrets standing in (`secret`) when they are outputs. @throws ArgumentError naming the field. */
function checkCredentials(c: AwsCredentials): AwsCredentialSettings {
    const standIn = (v: pulumi.Input<string> | undefined): string | undefined => (v === undefined || isPlain(v) ? v : "secret");
    check("awsCredentials", c, (v) => refuseUnknownFields(v as Record<string, unknown>, AWS_CREDENTIAL_FIELDS));
    try {
        return awsSettingsFromArgs({ ...c, secretKey: standIn(c.secretKey), token: standIn(c.token) }, "awsCredentials");
    } catch (e) {
        const m = /^(awsCredentials\.\S+?)(?: and \S+)? (.*)$/s.exec((e as Error).message);
        throw argumentError(m?.[1] ?? "awsCredentials", m === null ? (e as Error).message : (e as Error).message.slice(m[1].length + 1));
    }
}

/** The fields of {@link AwsCredentials}, each an `aws.Provider` argument of the same name. */
const AWS_CREDENTIAL_FIELDS = ["profile", "sharedCredentialsFiles", "sharedConfigFiles", "accessKey", "secretKey", "token", "assumeRoles"] as const;

/**
 * The `awsCredentials` argument: its settings as a secret, and the per-region providers'
 * arguments. Checked here when its fields but the secrets are known, else once they are (and
 * then handled as if given so).
 * @throws ArgumentError naming the field (`awsCredentials.<field>`).
 */
function credentialsOf(c: pulumi.Input<AwsCredentials>, errorOf: (e: ArgumentError) => Error): { settings: pulumi.Output<AwsCredentialSettings>; providerArgs: aws.ProviderArgs } {
    if (isPlain(c) && isKnown({ ...c, secretKey: undefined, token: undefined })) {
        const checked = checkCredentials(c);
        return {
            settings: pulumi.secret(pulumi.all([c.secretKey, c.token]).apply(([secretKey, token]) => ({ ...checked, secretKey, token }))),
            providerArgs: providerArgsOf(c),
        };
    }
    const known = pulumi.secret(pulumi.output(c)).apply((v) => {
        try {
            checkCredentials(v);
        } catch (e) {
            throw errorOf(e as ArgumentError);
        }
        return v;
    });
    // The fields given, as the plain path passes them. When the whole argument is one output (a
    // secret or dependent object from another language) which fields it has is unknown: all are
    // passed, and the provider gets null for those it lacks.
    const given = isPlain(c) ? AWS_CREDENTIAL_FIELDS.filter((k) => c[k] !== undefined) : AWS_CREDENTIAL_FIELDS;
    const fields = pulumi.unsecret(known).apply(providerArgsOf);
    return {
        settings: known.apply((v) => credentialsOf(v, errorOf).settings),
        providerArgs: Object.freeze(Object.fromEntries(given.map((k) => [k, fields.apply((f) => f[k])]))) as aws.ProviderArgs,
    };
}

/**
 * Resolves and validates `args` against the stack's `aws:` config. Plain values are checked
 * here; values that are outputs of other resources are checked when they are known.
 * @throws ArgumentError naming the argument (or `aws:` key) and what is wrong with it.
 */
export function resolvePackageArgs(args: KnownPackageArgs, context: PackageContext = { explicitProvider: false }): ResolvedPackageArgs {
    const agentVersion = args.agentVersion ?? LATEST;
    if (isPlain(agentVersion) && agentVersion !== LATEST && !isAgentVersion(agentVersion)) {
        throw argumentError("agentVersion", `must be '${LATEST}' or a version such as 5.14.2.21, got '${agentVersion}'`);
    }
    const sensorOnly = args.sensorOnly ?? false;
    if (isPlain(sensorOnly) && typeof sensorOnly !== "boolean") {
        throw argumentError("sensorOnly", `must be true or false, got '${String(sensorOnly)}'`);
    }
    const overrideManualRollback = args.overrideManualRollback ?? false;
    if (isPlain(overrideManualRollback) && typeof overrideManualRollback !== "boolean") {
        throw argumentError("overrideManualRollback", `must be true or false, got '${String(overrideManualRollback)}'`);
    }
    const packageName = args.packageName ?? "UptycsAgent";
    const nameProblem = packageNameProblem(packageName);
    if (nameProblem !== undefined) {
        throw argumentError("packageName", `'${packageName}' ${nameProblem}`);
    }

    const installerSource = args.installerSource ?? InstallerSource.Api;
    if (!Object.values(InstallerSource).includes(installerSource)) {
        throw argumentError("installerSource", `must be 'api' or 'local', got '${String(installerSource)}'`);
    }
    // Only `local` reads the folder: in `api` mode it is "", so changing it rebuilds nothing.
    const installerDir = installerSource === "local" ? args.installerDir ?? "installers" : "";
    if (installerSource === "local") {
        if (agentVersion === LATEST) {
            throw argumentError("agentVersion", "must be pinned (e.g. 5.14.2.21) when installerSource is 'local': it is the version of the installers in installerDir");
        }
        if (!fs.existsSync(installerDir) || !fs.statSync(installerDir).isDirectory()) {
            throw argumentError("installerDir", `names ${installerDir}, which is not a folder`);
        }
    }

    let entries: AgentMappingEntry[];
    if (args.mapping !== undefined && args.mappingFile !== undefined) {
        throw argumentError("mappingFile", "and mapping are both set: set one");
    } else if (args.mapping !== undefined) {
        const linux = args.mapping.filter((e) => e.upt_package !== "windows");
        const windows = args.mapping.filter((e) => e.upt_package === "windows");
        entries = check("mapping", { linux, windows }, (m) => validateAgentMapping(m, "mapping"));
    } else if (args.mappingFile !== undefined) {
        const file = args.mappingFile;
        let text: string;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch (e) {
            throw argumentError("mappingFile", `names ${file}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
        }
        entries = check("mappingFile", text, (t) => parseAgentMapping(t as string, `mappingFile (${file})`));
    } else {
        entries = validateAgentMapping(DEFAULT_MAPPING, "the default mapping");
    }

    const buildDir = args.buildDir ?? "build";
    if (path.isAbsolute(buildDir) || buildDir.split(/[\\/]/).includes("..")) {
        throw argumentError("buildDir", `must be a folder inside the project, got '${buildDir}'`);
    }
    const tags = args.tags === undefined ? {} : check("tags", args.tags, parseTags);
    const listed = args.shareWithAccounts;
    const shareWithAccounts = isPlain(listed) && (!Array.isArray(listed) || listed.every(isPlain))
        ? check("shareWithAccounts", args.shareWithAccounts, parseShareAccounts)
        : args.shareWithAccounts ?? [];
    const association = args.association === undefined ? undefined : check("association", args.association, parseAssociation);
    const installOnPublish = args.installOnPublish === undefined ? undefined : check("installOnPublish", args.installOnPublish, parseInstallOnPublish);
    const healthCheck = args.healthCheck === undefined ? DEFAULT_HEALTH_CHECK : check("healthCheck", args.healthCheck, parseHealthCheck);
    const keepVersions = args.keepVersions ?? 20;
    if (!Number.isInteger(keepVersions) || keepVersions < 1 || keepVersions > MAX_PACKAGE_VERSIONS - 1) {
        throw argumentError("keepVersions", `must be a whole number from 1 to ${MAX_PACKAGE_VERSIONS - 1} (a package holds at most ${MAX_PACKAGE_VERSIONS} versions, one is being published), got ${JSON.stringify(keepVersions)}`);
    }

    // The default provider's region; an explicit provider brings its own.
    const region = pulumi.runtime.getConfig("aws:region") || undefined;
    if (region === undefined ? !context.explicitProvider : !REGION_PATTERN.test(region)) {
        throw argumentError("aws:region", `${region === undefined ? "is not set" : `'${region}' is not an AWS region`}: pulumi config set aws:region us-east-1 (or give the component an explicit aws provider)`);
    }
    const regions = args.regions === undefined ? undefined : check("regions", args.regions, parseRegions);
    // Without `regions` or `aws:region`, the one region is the provider's, known at deployment.
    const publishRegions = regions ?? (region === undefined ? [] : [region]);
    if (isPlain(args.bucketName)) {
        for (const r of publishRegions.length > 0 ? publishRegions : ["us-east-1"]) {
            const name = check("bucketName", args.bucketName, (b) => bucketNameFor(b as string, r, publishRegions.length));
            if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) {
                throw argumentError("bucketName", `'${name}' is not a valid S3 bucket name`);
            }
        }
    }
    if (args.organization !== undefined && context.explicitProvider && regions === undefined) {
        throw argumentError("regions", "must list the regions to publish in when organization is set on a component with an explicit aws provider");
    }
    const organization = args.organization === undefined ? undefined : check("organization", args.organization, (v) => parseOrganization(v, publishRegions));

    let apiKey: pulumi.Output<string> | undefined;
    if (args.apiKey !== undefined) {
        if (isPlain(args.apiKey)) {
            check("apiKey", args.apiKey, (text) => parseApiKey(text as string, "the key file JSON"));
        }
        apiKey = pulumi.secret(args.apiKey);
    }

    // The dynamic providers read the same keys in `configure`: a bad value fails here, at preview.
    let awsSettings: AwsCredentialSettings;
    try {
        awsSettings = awsSettingsFromConfig((key) => pulumi.runtime.getConfig(key));
        if (installOnPublish !== undefined && awsSettings.assumeRoles.length === 0 && args.awsCredentials === undefined) {
            awsCliBaseEnvironment(awsSettings);
        }
    } catch (e) {
        // Those messages start with the key, e.g. "config aws:assumeRoles[0].roleArn must be ...".
        const m = /^config (aws:[A-Za-z]+(?:\[[0-9]+\])?(?:\.[A-Za-z]+)?) (.*)$/s.exec((e as Error).message);
        throw m === null ? e : argumentError(m[1], m[2]);
    }
    const credentials = args.awsCredentials === undefined ? undefined : credentialsOf(args.awsCredentials, context.errorOf ?? ((e) => e));
    const aws = credentials === undefined
        ? { settings: pulumi.output(awsSettings), explicit: false }
        : { settings: credentials.settings, explicit: true };

    return Object.freeze({
        agentVersion, sensorOnly, packageName, bucketName: args.bucketName, installerSource, installerDir,
        entries: Object.freeze([...entries]), buildDir, tags: Object.freeze({ ...tags }), shareWithAccounts,
        association, installOnPublish, keepVersions, healthCheck, overrideManualRollback, region, regions: regions === undefined ? undefined : Object.freeze([...regions]),
        organization, apiKey, aws: Object.freeze(aws),
        awsProviderArgs: credentials === undefined ? awsProviderArgs() : credentials.providerArgs,
    });
}
