/**
 * The one place that turns the stack's `aws:` config into credentials for every AWS call this
 * program makes itself: the SDK clients of the dynamic providers (package version names, pruning)
 * and the AWS CLI of `installOnPublish`. They must reach the account the stack's `aws` provider
 * deploys to, so they honour the same keys (@pulumi/aws 7 `config/vars.d.ts`):
 * - `aws:accessKey` / `aws:secretKey` / `aws:token`: static keys (first, as with the provider);
 * - else `aws:profile`, `aws:sharedCredentialsFiles`, `aws:sharedConfigFiles`: a shared-file profile;
 * - else the SDK's default chain (environment, `AWS_PROFILE`, SSO, web identity, instance role);
 * - then `aws:assumeRoles`, a list of roles assumed in order, each with the previous credentials.
 * `aws:assumeRoleWithWebIdentity` is not supported (a config error, never a silent fallback).
 *
 * Secrets (`aws:secretKey`, `aws:token`) reach the dynamic providers through `configure` (the
 * stack config), never as resource inputs. Credential code is the SDK's own
 * (`@aws-sdk/credential-providers`: `fromIni`, `fromTemporaryCredentials`, `fromNodeProviderChain`).
 * These functions also run inside serialized dynamic providers: node modules are required inside.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@aws-sdk/types";
import { refuseUnknownFields } from "../platforms/objects";

/** One entry of `aws:assumeRoles`. */
export interface AwsAssumeRole {
    /** ARN of the role to assume. */
    readonly roleArn: string;
    /** Session name; default `uptycs-distributor`. */
    readonly sessionName?: string;
    readonly externalId?: string;
    /** Session length in seconds (900 to 43200), from the provider's `duration` (e.g. `1h`). */
    readonly durationSeconds?: number;
    /** IAM policy JSON that further restricts the session. */
    readonly policy?: string;
    readonly policyArns?: readonly string[];
    readonly sourceIdentity?: string;
    readonly tags?: Readonly<Record<string, string>>;
    readonly transitiveTagKeys?: readonly string[];
}

/** The stack's AWS credential settings. Holds secrets: never put it in a resource input or output. */
export interface AwsCredentialSettings {
    readonly profile?: string;
    readonly sharedCredentialsFiles: readonly string[];
    readonly sharedConfigFiles: readonly string[];
    readonly accessKey?: string;
    /** Sensitive. */
    readonly secretKey?: string;
    /** Sensitive. */
    readonly token?: string;
    readonly assumeRoles: readonly AwsAssumeRole[];
}

/** The `aws:` config keys read. */
export const AWS_CONFIG_KEYS = Object.freeze({
    profile: "aws:profile",
    sharedCredentialsFiles: "aws:sharedCredentialsFiles",
    sharedConfigFiles: "aws:sharedConfigFiles",
    accessKey: "aws:accessKey",
    secretKey: "aws:secretKey",
    token: "aws:token",
    assumeRoles: "aws:assumeRoles",
    assumeRoleWithWebIdentity: "aws:assumeRoleWithWebIdentity",
});

/** Session name used when an `aws:assumeRoles` entry has none. */
export const DEFAULT_ROLE_SESSION_NAME = "uptycs-distributor";

/**
 * Seconds in a Go duration as the AWS provider takes it (`1h`, `90m`, `1h30m`, `3600s`).
 * @throws Error when it is not one, or outside 15 minutes to 12 hours (STS AssumeRole).
 */
export function parseRoleDuration(text: string): number {
    const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6, "µs": 1e-6, ns: 1e-9 };
    const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
        throw new Error(`duration '${text}' is not a duration such as 1h or 45m`);
    }
    const seconds = Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0));
    if (seconds < 900 || seconds > 43200) {
        throw new Error(`duration '${text}' must be from 15m to 12h`);
    }
    return seconds;
}

function parseJson(key: string, raw: string): unknown {
    try {
        return JSON.parse(raw);
    } catch {
        throw new Error(`${key} is not valid JSON`);
    }
}

function stringList(key: string, raw: string | undefined): string[] {
    if (raw === undefined || raw === "") {
        return [];
    }
    const v = parseJson(key, raw);
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && x !== "")) {
        throw new Error(`${key} must be a list of file paths`);
    }
    return v as string[];
}

function parseRole(key: string, value: unknown): AwsAssumeRole {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new Error(`${key} must be an object with roleArn`);
    }
    const r = value as Record<string, unknown>;
    try {
        refuseUnknownFields(r, ["roleArn", "sessionName", "externalId", "duration", "policy", "policyArns", "sourceIdentity", "tags", "transitiveTagKeys"]);
    } catch (e) {
        throw new Error(`${key} ${(e as Error).message}`);
    }
    const str = (field: string): string | undefined => {
        const v = r[field];
        if (v !== undefined && typeof v !== "string") {
            throw new Error(`${key}.${field} must be a string`);
        }
        return v === "" ? undefined : v;
    };
    const roleArn = str("roleArn");
    if (roleArn === undefined || !/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/.+$/.test(roleArn)) {
        throw new Error(`${key}.roleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got '${roleArn ?? ""}'`);
    }
    const duration = str("duration");
    let durationSeconds: number | undefined;
    try {
        durationSeconds = duration === undefined ? undefined : parseRoleDuration(duration);
    } catch (e) {
        throw new Error(`${key}.${(e as Error).message}`);
    }
    const list = (field: string): string[] | undefined => {
        const v = r[field];
        if (v !== undefined && (!Array.isArray(v) || !v.every((x) => typeof x === "string"))) {
            throw new Error(`${key}.${field} must be a list of strings`);
        }
        return v as string[] | undefined;
    };
    const tags = r.tags;
    if (tags !== undefined && (typeof tags !== "object" || tags === null || Array.isArray(tags) || !Object.values(tags).every((t) => typeof t === "string"))) {
        throw new Error(`${key}.tags must be a map of strings`);
    }
    return {
        roleArn, sessionName: str("sessionName"), externalId: str("externalId"), durationSeconds, policy: str("policy"),
        policyArns: list("policyArns"), sourceIdentity: str("sourceIdentity"), tags: tags as Record<string, string> | undefined,
        transitiveTagKeys: list("transitiveTagKeys"),
    };
}

/** The credential fields, as named in `aws:` config and in the component's `awsCredentials` argument. */
type AwsCredentialField = Exclude<keyof typeof AWS_CONFIG_KEYS, "assumeRoleWithWebIdentity">;

/**
 * Reads the credential settings through `get` (field → raw text: JSON for lists, as stack config
 * holds them); `name` names a field in messages (e.g. `config aws:profile`).
 * @throws Error starting with the field's name when its value is bad.
 */
function awsSettingsFrom(get: (field: AwsCredentialField) => string | undefined, name: (field: AwsCredentialField) => string): AwsCredentialSettings {
    const str = (field: AwsCredentialField): string | undefined => {
        const v = get(field);
        return v === undefined || v === "" ? undefined : v;
    };
    const accessKey = str("accessKey");
    const secretKey = str("secretKey");
    if ((accessKey === undefined) !== (secretKey === undefined)) {
        throw new Error(`${name("accessKey")} and ${name("secretKey").replace(/^config /, "")} go together: set both or neither`);
    }
    const rolesRaw = str("assumeRoles");
    let assumeRoles: AwsAssumeRole[] = [];
    if (rolesRaw !== undefined) {
        const v = parseJson(name("assumeRoles"), rolesRaw);
        if (!Array.isArray(v)) {
            throw new Error(`${name("assumeRoles")} must be a list of {roleArn, sessionName, externalId, duration, ...}`);
        }
        assumeRoles = v.map((r, i) => parseRole(`${name("assumeRoles")}[${i}]`, r));
    }
    return {
        profile: str("profile"),
        sharedCredentialsFiles: stringList(name("sharedCredentialsFiles"), str("sharedCredentialsFiles")),
        sharedConfigFiles: stringList(name("sharedConfigFiles"), str("sharedConfigFiles")),
        accessKey,
        secretKey,
        token: str("token"),
        assumeRoles,
    };
}

/**
 * Reads the credential settings through `get` (full key → raw config text, as
 * `pulumi.runtime.getConfig` or a dynamic provider's `req.config.get` returns it).
 * @throws Error naming the config key of a bad value (`config aws:<key> ...`).
 */
export function awsSettingsFromConfig(get: (key: string) => string | undefined): AwsCredentialSettings {
    const webIdentity = get(AWS_CONFIG_KEYS.assumeRoleWithWebIdentity);
    if (webIdentity !== undefined && webIdentity !== "") {
        throw new Error(`config ${AWS_CONFIG_KEYS.assumeRoleWithWebIdentity} is not supported by this program's own AWS calls (package version names, pruning, installOnPublish); use ${AWS_CONFIG_KEYS.assumeRoles} or AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN`);
    }
    return awsSettingsFrom((field) => get(AWS_CONFIG_KEYS[field]), (field) => `config ${AWS_CONFIG_KEYS[field]}`);
}

/**
 * The settings of an `awsCredentials` argument (values resolved).
 * @param argument how messages name the argument, e.g. `awsCredentials`.
 * @throws Error starting with `<argument>.<field>` when a value is bad.
 */
export function awsSettingsFromArgs(args: { readonly [F in AwsCredentialField]?: unknown }, argument: string): AwsCredentialSettings {
    return awsSettingsFrom((field) => {
        const v = args[field];
        return v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v);
    }, (field) => `${argument}.${field}`);
}

/** Where the credentials come from, for messages: key names and non-secret values only. */
export function describeAwsCredentials(s: AwsCredentialSettings): string {
    const K = AWS_CONFIG_KEYS;
    let base: string;
    if (s.accessKey !== undefined) {
        base = `${K.accessKey} ${s.accessKey}`;
    } else if (s.profile !== undefined || s.sharedCredentialsFiles.length > 0 || s.sharedConfigFiles.length > 0) {
        base = `${K.profile} '${s.profile ?? "default"}'${s.sharedCredentialsFiles.length > 0 ? ` in ${s.sharedCredentialsFiles.join(", ")}` : ""}`;
    } else {
        base = "the default credential chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, instance role)";
    }
    return s.assumeRoles.length === 0 ? base : `${base}, then ${K.assumeRoles} ${s.assumeRoles.map((r) => r.roleArn).join(" → ")}`;
}

/**
 * The credential provider for these settings (see the module comment for the order).
 * @param region the region of the STS calls that assume roles.
 */
export function awsCredentialProvider(s: AwsCredentialSettings, region: string): AwsCredentialIdentityProvider {
    const cp: typeof import("@aws-sdk/credential-providers") = require("@aws-sdk/credential-providers");
    let credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
    if (s.accessKey !== undefined && s.secretKey !== undefined) {
        const identity: AwsCredentialIdentity = { accessKeyId: s.accessKey, secretAccessKey: s.secretKey, sessionToken: s.token };
        credentials = async () => identity;
    } else if (s.profile !== undefined || s.sharedCredentialsFiles.length > 0 || s.sharedConfigFiles.length > 0) {
        // The SDK reads one file of each kind; the AWS provider's first file is the one it reads first.
        credentials = cp.fromIni({ profile: s.profile, filepath: s.sharedCredentialsFiles[0], configFilepath: s.sharedConfigFiles[0] });
    } else {
        credentials = cp.fromNodeProviderChain();
    }
    for (const role of s.assumeRoles) {
        credentials = cp.fromTemporaryCredentials({
            masterCredentials: credentials,
            clientConfig: { region },
            params: {
                RoleArn: role.roleArn,
                RoleSessionName: role.sessionName ?? DEFAULT_ROLE_SESSION_NAME,
                ExternalId: role.externalId,
                DurationSeconds: role.durationSeconds,
                Policy: role.policy,
                PolicyArns: role.policyArns?.map((arn) => ({ arn })),
                SourceIdentity: role.sourceIdentity,
                Tags: role.tags === undefined ? undefined : Object.entries(role.tags).map(([Key, Value]) => ({ Key, Value })),
                TransitiveTagKeys: role.transitiveTagKeys === undefined ? undefined : [...role.transitiveTagKeys],
            },
        });
    }
    return typeof credentials === "function" ? credentials : async () => credentials as AwsCredentialIdentity;
}

/** Client config (`region`, `credentials`) for an AWS SDK v3 client of this stack. */
export function awsClientConfig(s: AwsCredentialSettings, region: string): { region: string; credentials: AwsCredentialIdentityProvider } {
    return { region, credentials: awsCredentialProvider(s, region) };
}

/**
 * The account these credentials reach (STS `GetCallerIdentity`).
 * @throws Error naming the credential source when STS refuses them.
 */
export async function awsAccountOf(s: AwsCredentialSettings, region: string): Promise<string> {
    const sts: typeof import("@aws-sdk/client-sts") = require("@aws-sdk/client-sts");
    const client = new sts.STSClient(awsClientConfig(s, region));
    try {
        const { Account } = await client.send(new sts.GetCallerIdentityCommand({}));
        if (Account === undefined) {
            throw new Error("STS GetCallerIdentity returned no account");
        }
        return Account;
    } catch (e) {
        throw new Error(`the AWS credentials from ${describeAwsCredentials(s)} do not work in ${region}: ${(e as Error).message}`);
    } finally {
        client.destroy();
    }
}

/**
 * Refuses to go on unless the credentials reach `expectedAccount`, the account of the stack's
 * `aws` provider (`aws.getCallerIdentity`): nothing is listed, chosen or deleted in another account.
 * @param action what would have been done, for the message (e.g. `delete old versions of UptycsAgent`).
 * @throws Error naming both accounts and the config keys to fix.
 */
export async function assertAwsAccount(s: AwsCredentialSettings, region: string, expectedAccount: string, action: string): Promise<void> {
    const actual = await awsAccountOf(s, region);
    if (actual !== expectedAccount) {
        throw new Error(`refusing to ${action}: the AWS credentials of this program's own calls (${describeAwsCredentials(s)}) reach account ${actual}, `
            + `but the component's aws provider deploys to account ${expectedAccount}. Make them the same account: set ${AWS_CONFIG_KEYS.profile}, `
            + `${AWS_CONFIG_KEYS.accessKey}/${AWS_CONFIG_KEYS.secretKey} or ${AWS_CONFIG_KEYS.assumeRoles} in the stack (not only in the environment), `
            + "or, for a component given an explicit aws provider, its awsCredentials argument with that provider's credentials");
    }
}

/** Environment for the AWS CLI: `plain` may be shown; `secret` must be passed as a Pulumi secret. */
export interface AwsCliEnvironment {
    readonly plain: Readonly<Record<string, string>>;
    readonly secret: Readonly<Record<string, string>>;
}

/**
 * The AWS CLI environment that gives it these credentials without roles: static keys
 * (`AWS_ACCESS_KEY_ID`, secret `AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`), or the profile and
 * files (`AWS_PROFILE`, `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`); nothing for the default
 * chain. With `aws:assumeRoles`, resolve the roles first ({@link awsCliEnvironmentFor}).
 * @throws Error when a list names more files than the CLI reads (one of each).
 */
export function awsCliBaseEnvironment(s: AwsCredentialSettings): AwsCliEnvironment {
    if (s.accessKey !== undefined && s.secretKey !== undefined) {
        return { plain: { AWS_ACCESS_KEY_ID: s.accessKey }, secret: { AWS_SECRET_ACCESS_KEY: s.secretKey, ...(s.token !== undefined ? { AWS_SESSION_TOKEN: s.token } : {}) } };
    }
    for (const key of ["sharedCredentialsFiles", "sharedConfigFiles"] as const) {
        if (s[key].length > 1) {
            throw new Error(`config ${AWS_CONFIG_KEYS[key]} lists ${s[key].length} files; the AWS CLI (installOnPublish) reads one`);
        }
    }
    const plain: Record<string, string> = {};
    if (s.profile !== undefined) {
        plain.AWS_PROFILE = s.profile;
    }
    if (s.sharedCredentialsFiles.length > 0) {
        plain.AWS_SHARED_CREDENTIALS_FILE = s.sharedCredentialsFiles[0];
    }
    if (s.sharedConfigFiles.length > 0) {
        plain.AWS_CONFIG_FILE = s.sharedConfigFiles[0];
    }
    return { plain, secret: {} };
}

/**
 * The AWS CLI environment for these settings. Without roles, {@link awsCliBaseEnvironment}; with
 * `aws:assumeRoles`, the CLI cannot chain roles from its environment, so the roles are assumed
 * here (STS, through {@link awsCredentialProvider}) and the temporary keys handed over as secrets.
 */
export async function awsCliEnvironmentFor(s: AwsCredentialSettings, region: string): Promise<AwsCliEnvironment> {
    if (s.assumeRoles.length === 0) {
        return awsCliBaseEnvironment(s);
    }
    const c = await awsCredentialProvider(s, region)();
    return {
        plain: { AWS_ACCESS_KEY_ID: c.accessKeyId },
        secret: { AWS_SECRET_ACCESS_KEY: c.secretAccessKey, ...(c.sessionToken !== undefined ? { AWS_SESSION_TOKEN: c.sessionToken } : {}) },
    };
}
