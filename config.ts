/**
 * Stack config of the `uptycs-distributor` project, read once into a frozen, typed
 * {@link UptycsDistributorPackageArgs}. The keys replace the original `create_package.py` flags
 * (see README and `Pulumi.yaml`) and are the component's argument names. Every problem is a
 * `pulumi.RunError` naming the config key, raised at preview.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { KnownPackageArgs, UptycsDistributorPackageArgs } from "./packageArgs";
import { isArgumentError, resolvePackageArgs } from "./resolvePackageArgs";
import { parseApiKey } from "./providers/uptycsApi";
import { providerSetting, requestPolicyFromConfig, SETTINGS_NAMESPACE } from "./providers/artifactSettings";

/** The project name: the namespace of every key below. */
export const PROJECT = "uptycs-distributor";

// Exported by the runtime (used by Config.getSecret) but missing from its typings.
const { isConfigSecret } = pulumi.runtime as typeof pulumi.runtime & { isConfigSecret(key: string): boolean };

/** The full config key of an argument (`aws:` keys are already full). */
const keyOf = (argument: string): string => (argument.includes(":") ? argument : `${PROJECT}:${argument}`);

/**
 * Checks the Uptycs credentials the dynamic provider will read (`uptycs:apiKey` or
 * `uptycs:apiKeyFile`, or this project's older `uptycs-distributor:` keys, with a hint to move),
 * so a bad key file fails at preview. Only the verdict leaves this function, never the content.
 */
function checkCredentials(): void {
    const get = (key: string): string | undefined => pulumi.runtime.getConfig(key)?.trim() || undefined;
    const inline = providerSetting(get, "apiKey");
    const file = providerSetting(get, "apiKeyFile");
    for (const legacy of [inline, file].filter((s) => s.legacy)) {
        const name = legacy.key.split(":")[1];
        void pulumi.log.warn(`config ${legacy.key} still works; move it to ${SETTINGS_NAMESPACE}:${name}, which the package reads in any project: `
            + `pulumi config set ${name === "apiKey" ? "--secret " : ""}${SETTINGS_NAMESPACE}:${name} ... && pulumi config rm ${name}`);
    }
    if (inline.value !== undefined && file.value !== undefined) {
        throw new pulumi.RunError(`config ${inline.key} and ${file.key} are both set: set one`);
    }
    try {
        if (inline.value !== undefined) {
            if (!isConfigSecret(inline.key)) {
                throw new Error(`config ${inline.key} holds the API secret and must be set with \`pulumi config set --secret ${inline.legacy ? "apiKey" : inline.key}\``);
            }
            parseApiKey(inline.value, `config ${inline.key}`);
            return;
        }
        if (file.value === undefined) {
            throw new Error(`config ${SETTINGS_NAMESPACE}:apiKeyFile is not set: set it to the API key file downloaded from the Uptycs console (or set ${SETTINGS_NAMESPACE}:apiKey as a secret)`);
        }
        let text: string;
        try {
            text = fs.readFileSync(file.value, "utf8");
        } catch (e) {
            throw new Error(`config ${file.key} names ${file.value}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
        }
        parseApiKey(text, `config ${file.key} (${file.value})`);
    } catch (e) {
        throw new pulumi.RunError((e as Error).message);
    }
}

/**
 * Reads and validates the stack config.
 * @throws pulumi.RunError naming the offending key.
 */
export function loadConfig(): UptycsDistributorPackageArgs {
    const config = new pulumi.Config(PROJECT);
    const get = (key: string): string | undefined => config.get(key)?.trim() || undefined;
    /** A JSON list or object key; plain strings (e.g. targets "all") are taken as they are. */
    const json = <T>(key: string): T | undefined => {
        const raw = get(key);
        if (raw === undefined) {
            return undefined;
        }
        try {
            return JSON.parse(raw) as T;
        } catch {
            return raw as T;
        }
    };
    /** A boolean or number key, read by the SDK's typed getter; text of another type names the key. */
    const typed = <T>(key: string, read: (k: string) => T | undefined, expected: string): T | undefined => {
        try {
            return read(key);
        } catch {
            throw new pulumi.RunError(`config ${PROJECT}:${key} must be ${expected}, got '${get(key)}'`);
        }
    };
    const args: KnownPackageArgs = {
        agentVersion: get("agentVersion"),
        sensorOnly: typed("sensorOnly", (k) => config.getBoolean(k), "true or false"),
        packageName: get("packageName"),
        bucketName: get("bucketName"),
        installerSource: get("installerSource") as KnownPackageArgs["installerSource"],
        installerDir: get("installerDir"),
        mappingFile: get("mappingFile"),
        buildDir: get("buildDir"),
        tags: json("tags"),
        shareWithAccounts: json("shareWithAccounts"),
        association: json("association"),
        installOnPublish: json("installOnPublish"),
        healthCheck: json("healthCheck"),
        keepVersions: typed("keepVersions", (k) => config.getNumber(k), "a whole number from 1 to 24"),
        overrideManualRollback: typed("overrideManualRollback", (k) => config.getBoolean(k), "true or false"),
        regions: json("regions"),
        organization: json("organization"),
    };
    let resolved;
    try {
        resolved = resolvePackageArgs(args);
    } catch (e) {
        throw new pulumi.RunError(isArgumentError(e) ? `config ${keyOf(e.argument)} ${e.message}` : (e as Error).message);
    }
    if (resolved.installerSource === "api") {
        checkCredentials();
    }
    try {
        requestPolicyFromConfig((key) => pulumi.runtime.getConfig(key));
    } catch (e) {
        throw new pulumi.RunError((e as Error).message);
    }
    return Object.freeze(args);
}
