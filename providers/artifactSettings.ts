/**
 * The settings of the `UptycsAgentArtifact` provider: where installers come from, and the stack
 * config it (and `RolloutGate`, for check-ins) reads in `configure` (the Uptycs key, the request
 * policy). Pure functions.
 */
import { DEFAULT_REQUEST_POLICY, RequestPolicy } from "./uptycsApi";

/** Where the installers come from. */
export const InstallerSource = {
    /** Downloaded from the Uptycs API (`/packageDownloads/osquery/...`). */
    Api: "api",
    /** Taken from `<installerDir>/<dir>/` (old `-d`, no download). */
    Local: "local",
} as const;
/** Where installers come from: the Uptycs API, or a folder filled by hand (old `-d` flag). */
export type InstallerSource = (typeof InstallerSource)[keyof typeof InstallerSource];

/** The provider settings, read in `configure` from any project's stack config as `uptycs:<name>`. */
export type ProviderSettingName = "apiKey" | "apiKeyFile" | "requestTimeout" | "requestRetries" | "requestBackoff";

/** The namespace of the provider settings: `pulumi config set --secret uptycs:apiKey < key.json`. */
export const SETTINGS_NAMESPACE = "uptycs";
/** Where this project's stacks kept them before; still read when `uptycs:<name>` is unset. */
export const LEGACY_SETTINGS_NAMESPACE = "uptycs-distributor";

/** A provider setting as found: the full config key it came from, and its value. */
export interface ProviderSetting {
    /** `uptycs:<name>`, or `uptycs-distributor:<name>` when only the legacy key is set. */
    readonly key: string;
    readonly value?: string;
    /** True when the value came from the legacy key. */
    readonly legacy: boolean;
}

/** Reads setting `name` through `get` (full config key → value): `uptycs:<name>`, else the legacy key. */
export function providerSetting(get: (key: string) => string | undefined, name: ProviderSettingName): ProviderSetting {
    const key = `${SETTINGS_NAMESPACE}:${name}`;
    const value = get(key);
    if (value !== undefined && value !== "") {
        return { key, value, legacy: false };
    }
    const legacyKey = `${LEGACY_SETTINGS_NAMESPACE}:${name}`;
    const legacyValue = get(legacyKey);
    return legacyValue !== undefined && legacyValue !== "" ? { key: legacyKey, value: legacyValue, legacy: true } : { key, legacy: false };
}

/**
 * The request policy from stack config (`uptycs:requestTimeout` seconds, `uptycs:requestRetries`,
 * `uptycs:requestBackoff` seconds), defaults from {@link DEFAULT_REQUEST_POLICY}.
 * @throws Error naming the key whose value is not a number in range.
 */
export function requestPolicyFromConfig(get: (key: string) => string | undefined): RequestPolicy {
    const num = (name: ProviderSettingName, fallback: number, min: number, max: number): number => {
        const { key, value } = providerSetting(get, name);
        if (value === undefined) {
            return fallback;
        }
        const n = Number(value);
        if (!Number.isFinite(n) || n < min || n > max) {
            throw new Error(`config ${key} must be a number from ${min} to ${max}, got '${value}'`);
        }
        return n;
    };
    return {
        idleTimeoutMs: num("requestTimeout", DEFAULT_REQUEST_POLICY.idleTimeoutMs / 1000, 0.1, 3600) * 1000,
        retries: Math.floor(num("requestRetries", DEFAULT_REQUEST_POLICY.retries, 0, 10)),
        minBackoffMs: num("requestBackoff", DEFAULT_REQUEST_POLICY.minBackoffMs / 1000, 0, 60) * 1000,
    };
}

/** The Uptycs settings a dynamic provider reads in `configure`: where the key is, and how requests are timed. */
export interface UptycsSettings {
    /** `uptycs:apiKey`: the key file's JSON (a secret). */
    readonly apiKey: ProviderSetting;
    /** `uptycs:apiKeyFile`: the key file's path. */
    readonly apiKeyFile: ProviderSetting;
    readonly policy: RequestPolicy;
}

/**
 * The Uptycs settings from stack config (`get`: full config key → value).
 * @throws Error naming the request-policy key whose value is out of range.
 */
export function uptycsSettingsFromConfig(get: (key: string) => string | undefined): UptycsSettings {
    return { apiKey: providerSetting(get, "apiKey"), apiKeyFile: providerSetting(get, "apiKeyFile"), policy: requestPolicyFromConfig(get) };
}
