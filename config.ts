/**
 * Stack config of the `uptycs-distributor` project, read once into a frozen, typed object.
 * The keys replace the original `create_package.py` flags (see README and `Pulumi.yaml`).
 * Every problem is a `pulumi.RunError` naming the config key, raised at preview.
 */
import * as fs from "fs";
import * as path from "path";
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { MAX_PACKAGE_VERSIONS, packageNameProblem } from "./platforms/distributor";
import { AgentMappingEntry, parseAgentMapping } from "./platforms/mapping";
import { bucketNameFor, OrganizationSettings, parseOrganization, parseRegions, REGION_PATTERN } from "./platforms/organization";
import {
    AssociationSettings, InstallOnPublishSettings, parseAssociation, parseInstallOnPublish, parseShareAccounts, parseTags,
} from "./platforms/rollout";
import { isAgentVersion, LATEST } from "./platforms/version";
import { awsCliBaseEnvironment, AwsCredentialSettings, awsSettingsFromConfig } from "./providers/awsCredentials";
import { InstallerSource, requestPolicyFromConfig } from "./providers/uptycsAgentArtifact";
import { parseApiKey } from "./providers/uptycsApi";

/** The project name: the namespace of every key below. */
export const PROJECT = "uptycs-distributor";

/** The shipped default mapping: the original 8 entries plus every other platform Uptycs serves. */
export const DEFAULT_MAPPING_FILE = path.join(__dirname, "platforms", "uptycs-agent-mapping.json");

/** The resolved stack config. */
export interface DistributorConfig {
    /** `latest` or a pinned version such as `5.14.2.21` (old `-v`). Default `latest`. */
    readonly agentVersion: string;
    /** Sensor-only (osquery) build instead of Uptycs Protect (old `-o`). Default false. */
    readonly sensorOnly: boolean;
    /** Distributor package (SSM document) name (old `-p`). Default `UptycsAgent`. */
    readonly packageName: string;
    /** Existing bucket to publish into (old `-b`); undefined: the program creates a private one. */
    readonly bucketName?: string;
    /** `api` (default) or `local` (old `-d`). */
    readonly installerSource: InstallerSource;
    /** Folder holding `<dir>/<installer>` per mapping entry, for `local` (default `installers`); `""` for `api`. */
    readonly installerDir: string;
    /** The mapping file read, for messages. */
    readonly mappingFile: string;
    /** The validated mapping entries, Linux first. */
    readonly entries: readonly AgentMappingEntry[];
    /** Build folder (content-addressed cache), relative to the project. Default `build`. */
    readonly buildDir: string;
    /** Tags for every taggable resource. Default none. */
    readonly tags: Readonly<Record<string, string>>;
    /** Accounts the package is shared with (document `Share` permission). Default none. */
    readonly shareWithAccounts: readonly string[];
    /** A State Manager association that keeps the package installed; undefined: none. */
    readonly association?: AssociationSettings;
    /** A one-time Run Command install after each publish; undefined: none. */
    readonly installOnPublish?: InstallOnPublishSettings;
    /** Package versions to keep; older ones are deleted after each publish. Default 20. */
    readonly keepVersions: number;
    /** The stack's `aws:region`. */
    readonly region: string;
    /** Regions to publish in (`regions`); undefined: the stack's `aws:region` alone, with today's resource names. */
    readonly regions?: readonly string[];
    /** Share with and install in every account of some OUs; undefined: none. */
    readonly organization?: OrganizationSettings;
    /**
     * The stack's `aws:` config (all but `aws:region`) as provider arguments, secrets kept
     * secret: each region's explicit provider gets the same credentials and settings.
     */
    readonly awsProviderArgs: Readonly<aws.ProviderArgs>;
    /**
     * The stack's AWS credential settings (`aws:profile`, keys, `aws:assumeRoles`, …), for the AWS
     * CLI of `installOnPublish`. Holds secrets: never a resource input.
     */
    readonly aws: AwsCredentialSettings;
}

// Exported by the runtime (used by Config.getSecret) but missing from its typings.
const { isConfigSecret } = pulumi.runtime as typeof pulumi.runtime & { isConfigSecret(key: string): boolean };

function fail(key: string, message: string): never {
    throw new pulumi.RunError(`config ${PROJECT}:${key} ${message}`);
}

/**
 * Checks the Uptycs credentials the dynamic provider will read, so a bad key file fails at preview.
 * Only the verdict leaves this function, never the content.
 */
function checkCredentials(config: pulumi.Config): void {
    const inline = config.get("apiKey");
    const file = config.get("apiKeyFile");
    if (inline !== undefined && file !== undefined) {
        fail("apiKey", "and apiKeyFile are both set: set one");
    }
    if (inline !== undefined) {
        if (!isConfigSecret(`${PROJECT}:apiKey`)) {
            fail("apiKey", "holds the API secret and must be set with `pulumi config set --secret apiKey`");
        }
        try {
            parseApiKey(inline, `config ${PROJECT}:apiKey`);
        } catch (e) {
            throw new pulumi.RunError((e as Error).message);
        }
        return;
    }
    if (file === undefined) {
        fail("apiKeyFile", "is not set: set it to the API key file downloaded from the Uptycs console (or set apiKey as a secret)");
    }
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        fail("apiKeyFile", `names ${file}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    try {
        parseApiKey(text, `config ${PROJECT}:apiKeyFile (${file})`);
    } catch (e) {
        throw new pulumi.RunError((e as Error).message);
    }
}

/**
 * Every `aws:` key of the stack but `aws:region`, as `aws.Provider` arguments: JSON lists and
 * objects (`aws:assumeRoles`, `aws:defaultTags`) parsed, secret values wrapped as secrets.
 */
function awsProviderArgs(): aws.ProviderArgs {
    const args: Record<string, pulumi.Input<unknown>> = {};
    for (const [key, raw] of Object.entries(pulumi.runtime.allConfig())) {
        const m = /^aws:(.+)$/.exec(key);
        if (m === null || m[1] === "region") {
            continue;
        }
        let value: unknown = raw;
        if (/^[[{]/.test(raw) || raw === "true" || raw === "false") {
            try {
                value = JSON.parse(raw);
            } catch {
                value = raw;
            }
        }
        args[m[1]] = isConfigSecret(key) ? pulumi.secret(value) : value;
    }
    return Object.freeze(args) as aws.ProviderArgs;
}

/**
 * Reads and validates the stack config.
 * @throws pulumi.RunError naming the offending key.
 */
export function loadConfig(): DistributorConfig {
    const config = new pulumi.Config(PROJECT);
    const get = (key: string): string | undefined => {
        const v = config.get(key);
        return v === undefined || v.trim() === "" ? undefined : v.trim();
    };
    let sensorOnly: boolean;
    try {
        sensorOnly = config.getBoolean("sensorOnly") ?? false;
    } catch {
        fail("sensorOnly", `must be true or false, got '${config.get("sensorOnly")}'`);
    }

    const agentVersion = get("agentVersion") ?? LATEST;
    if (agentVersion !== LATEST && !isAgentVersion(agentVersion)) {
        fail("agentVersion", `must be '${LATEST}' or a version such as 5.14.2.21, got '${agentVersion}'`);
    }

    const packageName = get("packageName") ?? "UptycsAgent";
    const nameProblem = packageNameProblem(packageName);
    if (nameProblem !== undefined) {
        fail("packageName", `'${packageName}' ${nameProblem}`);
    }

    const bucketName = get("bucketName");

    const installerSource = get("installerSource") ?? "api";
    if (installerSource !== "api" && installerSource !== "local") {
        fail("installerSource", `must be 'api' or 'local', got '${installerSource}'`);
    }
    // Only `local` reads the folder: in `api` mode it is "", so changing it rebuilds nothing.
    const installerDir = installerSource === "local" ? get("installerDir") ?? "installers" : "";
    if (installerSource === "local") {
        if (agentVersion === LATEST) {
            fail("agentVersion", "must be pinned (e.g. 5.14.2.21) when installerSource is 'local': it is the version of the installers in installerDir");
        }
        if (!fs.existsSync(installerDir) || !fs.statSync(installerDir).isDirectory()) {
            fail("installerDir", `names ${installerDir}, which is not a folder`);
        }
    } else {
        checkCredentials(config);
    }

    const mappingFile = get("mappingFile") ?? DEFAULT_MAPPING_FILE;
    let mappingText: string;
    try {
        mappingText = fs.readFileSync(mappingFile, "utf8");
    } catch (e) {
        fail("mappingFile", `names ${mappingFile}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    let entries: AgentMappingEntry[];
    try {
        entries = parseAgentMapping(mappingText, `config ${PROJECT}:mappingFile (${mappingFile})`);
    } catch (e) {
        throw new pulumi.RunError((e as Error).message);
    }

    try {
        requestPolicyFromConfig((key) => pulumi.runtime.getConfig(key));
    } catch (e) {
        throw new pulumi.RunError((e as Error).message);
    }

    const buildDir = get("buildDir") ?? "build";
    if (path.isAbsolute(buildDir) || buildDir.split(/[\\/]/).includes("..")) {
        fail("buildDir", `must be a folder inside the project, got '${buildDir}'`);
    }

    const parsed = <T>(key: string, parse: (value: unknown) => T): T | undefined => {
        const raw = get(key);
        if (raw === undefined) {
            return undefined;
        }
        let value: unknown;
        try {
            value = JSON.parse(raw);
        } catch {
            value = raw; // plain strings such as "all" are allowed where a value may be one
        }
        try {
            return parse(value);
        } catch (e) {
            fail(key, (e as Error).message);
        }
    };
    const tags = parsed("tags", parseTags) ?? {};
    const shareWithAccounts = parsed("shareWithAccounts", parseShareAccounts) ?? [];
    const association = parsed("association", parseAssociation);
    const installOnPublish = parsed("installOnPublish", parseInstallOnPublish);
    const keepVersions = parsed("keepVersions", (v) => {
        if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > MAX_PACKAGE_VERSIONS - 1) {
            throw new Error(`must be a whole number from 1 to ${MAX_PACKAGE_VERSIONS - 1} (a package holds at most ${MAX_PACKAGE_VERSIONS} versions, one is being published)`);
        }
        return v as number;
    }) ?? 20;
    const region = new pulumi.Config("aws").get("region") || undefined;
    if (region === undefined || !REGION_PATTERN.test(region)) {
        throw new pulumi.RunError(`config aws:region ${region === undefined ? "is not set" : `'${region}' is not an AWS region`}: pulumi config set aws:region us-east-1`);
    }
    const regions = parsed("regions", parseRegions);
    const publishRegions = regions ?? [region];
    for (const r of publishRegions) {
        if (bucketName === undefined) {
            break;
        }
        let name = "";
        try {
            name = bucketNameFor(bucketName, r, publishRegions.length);
        } catch (e) {
            fail("bucketName", (e as Error).message);
        }
        if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) {
            fail("bucketName", `'${name}' is not a valid S3 bucket name`);
        }
    }
    const organization = parsed("organization", (v) => parseOrganization(v, publishRegions));

    // The dynamic providers read the same keys in `configure`: a bad value fails here, at preview.
    let awsSettings: AwsCredentialSettings;
    try {
        awsSettings = awsSettingsFromConfig((key) => pulumi.runtime.getConfig(key));
        if (installOnPublish !== undefined && awsSettings.assumeRoles.length === 0) {
            awsCliBaseEnvironment(awsSettings);
        }
    } catch (e) {
        throw new pulumi.RunError((e as Error).message);
    }

    return Object.freeze({
        agentVersion, sensorOnly, packageName, bucketName, installerSource, installerDir, mappingFile,
        entries: Object.freeze([...entries]), buildDir, tags: Object.freeze(tags), shareWithAccounts: Object.freeze(shareWithAccounts),
        association, installOnPublish, keepVersions, region, aws: Object.freeze(awsSettings),
        regions: regions === undefined ? undefined : Object.freeze(regions), organization, awsProviderArgs: awsProviderArgs(),
    });
}
