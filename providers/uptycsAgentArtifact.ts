/**
 * `UptycsAgentArtifact`: one zip of the Distributor package, for one agent mapping entry.
 *
 * A Pulumi dynamic resource. `check` validates the entry and resolves `latest` to a concrete
 * agent version (so `pulumi preview` shows the version that will be published); `diff` names
 * what changed, including a local zip that is missing or differs from state; `create`/`update`
 * download the installer (or take it from a local folder), render the scripts and write a
 * byte-deterministic zip in the build folder; `delete` removes that zip.
 *
 * Credentials: the provider reads the stack config `uptycs:apiKey` (secret key file JSON) or
 * `uptycs:apiKeyFile` (path) in `configure`, in any project (this project's older
 * `uptycs-distributor:` keys still work), unless the resource is given its own key (`apiKey`, a
 * Pulumi secret, never returned as an output) for a package of another tenant. The provider object is serialized into state and run by Pulumi's dynamic
 * provider host in plain node: everything it uses is a captured function or a node module.
 */
import * as pulumi from "@pulumi/pulumi";
import { installerNameProblem, INSTALLER_EXTENSION } from "../platforms/installer";
import { AgentMappingEntry, validateArtifactEntry } from "../platforms/mapping";
import { canonicalJson, sha256Hex } from "../platforms/digest";
import { zipFileNameOf, zipGroupOf } from "../platforms/manifest";
import { fillScripts, INSTALLER_PLACEHOLDER, PackageScripts, scriptsDigest } from "../platforms/scripts";
import { isAgentVersion, LATEST } from "../platforms/version";
import {
    countIo, fileFingerprint, hashingTap, installerCacheDir, partFile, prepareDir, sha256File, tightenBuildFolder, writeFileAtomic,
} from "./buildFolder";
import {
    DEFAULT_REQUEST_POLICY, downloadInstaller, DownloadedInstaller, getAssetGroupId, getOfferedVersions,
    parseApiKey, RequestPolicy, tenantId, UptycsApiKey,
} from "./uptycsApi";
import { writeDeterministicZip, ZipEntry, zipEntryDataOffset, ZipResult } from "./zip";

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

/** Inputs of {@link UptycsAgentArtifact}. */
export interface UptycsAgentArtifactInputs {
    /** The mapping entry this zip serves. */
    readonly entry: pulumi.Input<AgentMappingEntry>;
    /** `latest` or a concrete version such as `5.14.2.21`. */
    readonly agentVersion: pulumi.Input<string>;
    /** Sensor-only (osquery) build instead of Uptycs Protect. */
    readonly sensorOnly: pulumi.Input<boolean>;
    /** `api` (download) or `local` (take `<installerDir>/<entry.dir>/<one installer>`). */
    readonly installerSource: pulumi.Input<InstallerSource>;
    /** Folder of the per-entry installer folders, for `local`; relative to the project. Default `""`. */
    readonly installerDir?: pulumi.Input<string>;
    /** Distributor package name, prefixed to the scripts' log lines. */
    readonly packageName: pulumi.Input<string>;
    /**
     * The zip's scripts (file name → text, see `scriptTemplates`), the installer's name still
     * {@link INSTALLER_PLACEHOLDER}: rendered by the program, so the provider carries no templates.
     */
    readonly scripts: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Build folder, relative to the project. */
    readonly buildDir: pulumi.Input<string>;
    /**
     * The Uptycs API key file's JSON, a Pulumi secret, overriding the stack's `uptycs:apiKey` /
     * `uptycs:apiKeyFile` for this artifact. Never an output.
     */
    readonly apiKey?: pulumi.Input<string>;
}

/** The inputs after `check`: defaults filled, `latest` resolved, fingerprints of what feeds the zip. */
interface CheckedProps {
    readonly entry: AgentMappingEntry;
    readonly agentVersion: string;
    readonly sensorOnly: boolean;
    readonly installerSource: InstallerSource;
    readonly installerDir: string;
    readonly packageName: string;
    /** The script templates; an input only (state keeps {@link scriptsDigest}). */
    readonly scripts: PackageScripts;
    readonly buildDir: string;
    /** The concrete agent version that is built. */
    readonly version: string;
    /**
     * The Uptycs tenant the installer comes from, `<API host>/<customerId>`; `""` for `local`.
     * Installers embed their tenant's enrollment secret: another tenant is another zip.
     */
    readonly tenant: string;
    /** The asset group the installer enrolls into (`GET /objectGroups`, named `assets`); `""` for `local`. */
    readonly assetGroupId: string;
    /** sha256 of `scripts` (a template change changes the zip). */
    readonly scriptsDigest: string;
    /** For `local`: the installer's path and sha256 as found by `check`; `""` for `api`. */
    readonly localInstaller: string;
    readonly localInstallerSha256: string;
    /**
     * For `local`: the installer's size, inode and mtime when it was hashed; while they stay the
     * same, `check` trusts the sha256 instead of reading the file again.
     */
    readonly localInstallerFingerprint: string;
    /** The resource's own key file JSON (secret), when it has one. */
    readonly apiKey?: string;
}

/** Outputs of {@link UptycsAgentArtifact} (also its state): never the key, nor the script text (its digest stands for it). */
export interface UptycsAgentArtifactOutputs extends Omit<CheckedProps, "apiKey" | "scripts"> {
    /** Installer file name inside the zip, as the Uptycs API named it. */
    readonly installerFileName: string;
    /** Installer size in bytes. */
    readonly installerSize: number;
    /** Hex sha256 of the installer. */
    readonly installerSha256: string;
    /**
     * `<group>-<version>-<12 hex>.zip` (group: `<upt_package>-<arch_type>`, or `dir` for `local`):
     * the name in the manifest and S3, shared by the entries whose zips are byte-identical;
     * changes whenever the zip's content changes.
     */
    readonly zipFileName: string;
    /** Path of the zip relative to the project (inside `buildDir`): `zips/<dir>-<version>-<12 hex>.zip`, the entry's own hard link. */
    readonly zipPath: string;
    /** Hex sha256 of the zip. */
    readonly zipSha256: string;
    /** Zip size in bytes. */
    readonly zipSize: number;
    /** The zip's size, inode and mtime when built: while they stay the same, `diff` reads none of it. */
    readonly zipFingerprint: string;
}

/**
 * `diff`'s answer with the changed property names. The engine derives its own display of the
 * change from the checked inputs (so `preview` shows e.g. `version`); `diffs` serves callers and tests.
 */
export interface ArtifactDiffResult extends pulumi.dynamic.DiffResult {
    /** Changed properties: names from the checked inputs, or `zipSha256` for a missing/changed local zip. */
    readonly diffs: string[];
}

/** `installer.json` of a cached installer: whose it is, what was downloaded, and where its bytes are. */
interface CachedInstaller extends DownloadedInstaller {
    readonly tenant: string;
    readonly assetGroupId: string;
    /** The zip in the cache folder (a hard link of the first zip built from the download) holding the installer, stored. */
    readonly zipFile: string;
    /** Where the installer's bytes start in it. */
    readonly dataOffset: number;
}

/** A cached installer found on disk (not yet verified: its bytes are hashed as they are read). */
interface CarrierZip extends CachedInstaller {
    /** Path of `zipFile`. */
    readonly file: string;
}

/** A zip written for an artifact, and the installer in it. */
interface BuiltZip extends ZipResult {
    readonly zipPath: string;
    readonly installer: DownloadedInstaller;
}

/** The cache's installer was not what `installer.json` says: drop it and download again. */
class CorruptCache extends Error {}

/** The name of the cache's zip that holds the installer. */
const CARRIER_ZIP = "installer.zip";

/** Properties whose change changes the zip; `diff` reports them by these names. */
/** The zip's file name in the manifest and S3: shared by every entry of its group (see `zipGroupOf`). */
function sharedZipName(props: Pick<CheckedProps, "entry" | "installerSource" | "version">, zipSha256: string): string {
    return zipFileNameOf(zipGroupOf(props.entry, props.installerSource), props.version, zipSha256);
}

const ZIP_INPUTS: readonly (keyof UptycsAgentArtifactOutputs & keyof CheckedProps)[] = [
    "version", "tenant", "assetGroupId", "sensorOnly", "entry", "installerSource", "installerDir", "packageName", "buildDir",
    "scriptsDigest", "localInstallerSha256",
];

/**
 * Finds the one installer in a `local` folder.
 * @throws Error naming the folder when it is missing, or holds zero or several installers.
 */
async function findLocalInstaller(installerDir: string, entry: AgentMappingEntry): Promise<string> {
    const fs: typeof import("fs") = require("fs");
    const path: typeof import("path") = require("path");
    const dir = path.join(installerDir, entry.dir);
    const ext = INSTALLER_EXTENSION[entry.upt_package];
    let names: string[];
    try {
        names = await fs.promises.readdir(dir);
    } catch {
        throw new Error(`installerDir: the folder ${dir} for '${entry.dir}' does not exist or cannot be read`);
    }
    const installers = names.filter((n) => n.toLowerCase().endsWith(ext)).sort();
    if (installers.length !== 1) {
        throw new Error(`installerDir: the folder ${dir} must hold exactly one ${ext} installer, found ${installers.length}${installers.length ? ` (${installers.join(", ")})` : ""}`);
    }
    const problem = installerNameProblem(installers[0], entry.upt_package);
    if (problem !== undefined) {
        throw new Error(`installerDir: the installer name '${installers[0]}' in ${dir} ${problem}`);
    }
    return path.join(dir, installers[0]);
}

/** The dynamic provider of {@link UptycsAgentArtifact}. Holds per-process memos, never clients. */
export class UptycsAgentArtifactProvider implements pulumi.dynamic.ResourceProvider {
    private apiKeyText?: ProviderSetting;
    private apiKeyFile?: ProviderSetting;
    private policy: RequestPolicy = DEFAULT_REQUEST_POLICY;
    private memo?: Map<string, Promise<unknown>>;

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        const get = (key: string): string | undefined => req.config.get(key);
        this.apiKeyText = providerSetting(get, "apiKey");
        this.apiKeyFile = providerSetting(get, "apiKeyFile");
        this.policy = requestPolicyFromConfig(get);
    }

    /** One promise per key per process: one version lookup and one download per key, however many artifacts ask. */
    private once<T>(key: string, make: () => Promise<T>): Promise<T> {
        this.memo = this.memo ?? new Map();
        let p = this.memo.get(key) as Promise<T> | undefined;
        if (p === undefined) {
            p = make();
            this.memo.set(key, p);
            // A failure is not cached: the next caller tries again.
            p.catch(() => this.memo?.delete(key));
        }
        return p;
    }

    /** The resource's own key (`text`, from its `apiKey` input), else the stack's. */
    private async apiKey(text: string | undefined): Promise<UptycsApiKey> {
        if (text !== undefined) {
            // Memoized by digest: the key itself is never a map key.
            return this.once(`apiKey:${sha256Hex(text)}`, async () => parseApiKey(text, "the apiKey input (the key file JSON)"));
        }
        return this.once("apiKey", async () => {
            const fs: typeof import("fs") = require("fs");
            const inline = this.apiKeyText;
            if (inline?.value !== undefined) {
                return parseApiKey(inline.value, `config ${inline.key}`);
            }
            const file = this.apiKeyFile;
            if (file?.value === undefined) {
                throw new Error(`no Uptycs credentials: set config ${SETTINGS_NAMESPACE}:apiKeyFile (path to the key file) or ${SETTINGS_NAMESPACE}:apiKey (its JSON, as a secret)`);
            }
            let text: string;
            try {
                text = await fs.promises.readFile(file.value, "utf8");
            } catch (e) {
                throw new Error(`config ${file.key}: cannot read ${file.value} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
            }
            return parseApiKey(text, `config ${file.key} (${file.value})`);
        });
    }

    private async offeredVersions(apiKey: UptycsApiKey): Promise<string[]> {
        return this.once(`versions:${tenantId(apiKey)}`, () => getOfferedVersions(apiKey, this.policy));
    }

    async check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
        const failures: pulumi.dynamic.CheckFailure[] = [];
        const fail = (property: string, reason: string): void => {
            failures.push({ property, reason });
        };
        let entry: AgentMappingEntry | undefined;
        try {
            entry = validateArtifactEntry(news.entry, "entry");
        } catch (e) {
            fail("entry", (e as Error).message);
        }
        const agentVersion = news.agentVersion;
        if (typeof agentVersion !== "string" || (agentVersion !== LATEST && !isAgentVersion(agentVersion))) {
            fail("agentVersion", `must be '${LATEST}' or a version such as 5.14.2.21, got '${String(agentVersion)}'`);
        }
        const source = news.installerSource;
        if (source !== "api" && source !== "local") {
            fail("installerSource", `must be 'api' or 'local', got '${String(source)}'`);
        }
        if (source === "local" && agentVersion === LATEST) {
            fail("agentVersion", "installerSource 'local' needs a pinned agentVersion (the version of the installers in installerDir)");
        }
        if (typeof news.sensorOnly !== "boolean") {
            fail("sensorOnly", "must be a boolean");
        }
        for (const key of ["packageName", "buildDir"]) {
            if (typeof news[key] !== "string" || news[key] === "") {
                fail(key, "must be a non-empty string");
            }
        }
        const scripts = news.scripts;
        if (typeof scripts !== "object" || scripts === null || Array.isArray(scripts) || Object.keys(scripts).length === 0
            || !Object.values(scripts).every((t) => typeof t === "string") || !Object.values(scripts).some((t) => (t as string).includes(INSTALLER_PLACEHOLDER))) {
            fail("scripts", `must map script names to their text, naming the installer as ${INSTALLER_PLACEHOLDER}`);
        }
        const ownKey = news.apiKey;
        if (ownKey !== undefined && typeof ownKey !== "string") {
            fail("apiKey", "must be the key file's JSON text");
        }
        if (failures.length > 0 || entry === undefined) {
            return { inputs: news, failures };
        }
        // Installers and zips embed the tenant's enrollment secret: whatever an older version or
        // a loose umask left, the build folder is private before anything else happens.
        const buildDir = news.buildDir as string;
        await this.once(`private:${buildDir}`, () => tightenBuildFolder(buildDir));
        const installerDir = typeof news.installerDir === "string" ? news.installerDir : "";
        let version = agentVersion as string;
        let localInstaller = "";
        let localInstallerSha256 = "";
        let localInstallerFingerprint = "";
        let tenant = "";
        let assetGroupId = "";
        if (source === "local") {
            localInstaller = await findLocalInstaller(installerDir, entry);
            localInstallerFingerprint = (await fileFingerprint(localInstaller)) ?? "";
            // Hashed once per version of the file: unchanged since the last run, its sha256 stands.
            const old = olds as Partial<CheckedProps>;
            localInstallerSha256 = old.localInstaller === localInstaller && old.localInstallerFingerprint === localInstallerFingerprint && typeof old.localInstallerSha256 === "string"
                ? old.localInstallerSha256
                : await sha256File(localInstaller);
        } else {
            const apiKey = await this.apiKey(ownKey as string | undefined);
            const offered = await this.offeredVersions(apiKey);
            tenant = tenantId(apiKey);
            assetGroupId = await this.once(`assetGroupId:${tenant}`, () => getAssetGroupId(apiKey, this.policy));
            if (version === LATEST) {
                version = offered[0];
            } else if (!offered.includes(version)) {
                fail("agentVersion", `the Uptycs tenant does not offer agent version ${version} (offered: ${offered.slice(0, 10).join(", ")})`);
            }
        }
        const checked: CheckedProps = {
            entry,
            agentVersion: agentVersion as string,
            sensorOnly: news.sensorOnly as boolean,
            installerSource: source as InstallerSource,
            installerDir,
            packageName: news.packageName as string,
            buildDir: news.buildDir as string,
            version,
            tenant,
            assetGroupId,
            scripts: scripts as PackageScripts,
            scriptsDigest: scriptsDigest(scripts as PackageScripts),
            localInstaller,
            localInstallerSha256,
            localInstallerFingerprint,
            ...(ownKey === undefined ? {} : { apiKey: ownKey as string }),
        };
        return { inputs: { ...news, ...checked }, failures };
    }

    async diff(_id: string, olds: UptycsAgentArtifactOutputs, news: CheckedProps): Promise<ArtifactDiffResult> {
        const diffs: string[] = ZIP_INPUTS.filter((k) => canonicalJson(olds[k]) !== canonicalJson(news[k]));
        // State written when every entry had a zip name of its own: the shared name is an update.
        if (diffs.length === 0 && olds.zipFileName !== sharedZipName(olds, olds.zipSha256)) {
            diffs.push("zipFileName");
        }
        // The zip lives on this machine only: rebuild it when it is gone or not what state says.
        // Size, inode and mtime as built: nothing to read; otherwise its bytes decide.
        if (diffs.length === 0) {
            const fingerprint = await fileFingerprint(olds.zipPath);
            if (fingerprint === undefined || (fingerprint !== olds.zipFingerprint && (await this.zipSha256(olds.zipPath)) !== olds.zipSha256)) {
                diffs.push("zipSha256");
            }
        }
        return { changes: diffs.length > 0, diffs, replaces: [], deleteBeforeReplace: false };
    }

    /** sha256 of a zip, hashed once per file version per process (hard-linked zips share one). */
    private async zipSha256(file: string): Promise<string | undefined> {
        const fs: typeof import("fs") = require("fs");
        const stat = await fs.promises.stat(file).catch(() => undefined);
        if (stat === undefined) {
            return undefined;
        }
        return this.once(`sha:${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}`, () => sha256File(file));
    }

    async create(inputs: CheckedProps): Promise<pulumi.dynamic.CreateResult> {
        return { id: inputs.entry.dir, outs: await this.build(inputs) };
    }

    async update(_id: string, _olds: UptycsAgentArtifactOutputs, news: CheckedProps): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: await this.build(news) };
    }

    async delete(_id: string, props: UptycsAgentArtifactOutputs): Promise<void> {
        const fs: typeof import("fs") = require("fs");
        // Installers stay cached: other stacks of the checkout may use them.
        await fs.promises.rm(props.zipPath, { force: true });
    }

    /**
     * The artifact's zip: built once per installer, scripts and build folder in this process
     * (entries that share them, e.g. every x86_64 RPM platform, get the same bytes), then
     * hard-linked under the entry's own name.
     */
    private async build(props: CheckedProps): Promise<UptycsAgentArtifactOutputs> {
        const fs: typeof import("fs") = require("fs");
        const path: typeof import("path") = require("path");
        const source = props.installerSource === "local" ? `${props.localInstaller}@${props.localInstallerSha256}` : this.cacheDirOf(props);
        const first = await this.once(`zip:${props.buildDir}:${source}:${props.scriptsDigest}`, () => this.buildZip(props));
        // Each entry keeps its own hard link, so deleting one entry's artifact never removes the
        // file that other entries (and the S3 object they share) still read.
        const ownName = zipFileNameOf(props.entry.dir, props.version, first.sha256);
        const zipPath = path.join(props.buildDir, "zips", ownName);
        if (zipPath !== first.zipPath) {
            // Once per file: several entries, or packages of one program, may want the same zip.
            await this.once(`link:${zipPath}`, async () => {
                const [have, want] = await Promise.all([fs.promises.stat(zipPath).catch(() => undefined), fs.promises.stat(first.zipPath)]);
                if (have?.ino !== want.ino || have?.dev !== want.dev) {
                    const part = partFile(path.dirname(zipPath), ownName);
                    await fs.promises.rm(part, { force: true });
                    await fs.promises.link(first.zipPath, part).catch(() => fs.promises.copyFile(first.zipPath, part));
                    await fs.promises.rename(part, zipPath);
                }
            });
        }
        // The key stays an input: a rotated key of the same tenant changes no zip.
        const { apiKey, scripts, ...checked } = props;
        return {
            ...checked,
            installerFileName: first.installer.fileName,
            installerSize: first.installer.size,
            installerSha256: first.installer.sha256,
            zipFileName: sharedZipName(props, first.sha256),
            zipPath,
            zipSha256: first.sha256,
            zipSize: first.size,
            zipFingerprint: (await fileFingerprint(zipPath)) ?? "",
        };
    }

    /** The installer's cache folder, relative to the build folder. */
    private cacheDirOf(props: CheckedProps): string {
        return installerCacheDir({
            tenant: props.tenant, assetGroupId: props.assetGroupId, uptPackage: props.entry.upt_package, arch: props.entry.arch_type,
            sensorOnly: props.sensorOnly, version: props.version,
        });
    }

    /** The zip entries of the scripts for `installer`, and the installer's entry from `stream`. */
    private entries(props: CheckedProps, installer: string, stream: NodeJS.ReadableStream): ZipEntry[] {
        return [
            ...Object.entries(fillScripts(props.scripts, installer)).map(([name, content]) => ({ name, content, mode: 0o755 })),
            { name: installer, stream, mode: 0o644 },
        ];
    }

    /** Moves a written zip part into `zips/` under its content-derived name. */
    private async publishZip(props: CheckedProps, part: string, zip: ZipResult, installer: DownloadedInstaller): Promise<BuiltZip> {
        const fs: typeof import("fs") = require("fs");
        const path: typeof import("path") = require("path");
        const zipDir = await prepareDir(props.buildDir, "zips");
        const zipPath = path.join(zipDir, `${props.entry.dir}-${props.version}-${zip.sha256.slice(0, 12)}.zip`);
        await fs.promises.rename(part, zipPath);
        return { ...zip, zipPath, installer };
    }

    /**
     * Builds the zip in one pass over the installer's bytes: as they arrive from the Uptycs API
     * (hashed, CRC-32'd and written straight into the zip, which the cache then keeps), from the
     * cache's zip (read once, verified as it is read), or from the local folder (read once).
     */
    private async buildZip(props: CheckedProps, retried = false): Promise<BuiltZip> {
        const fs: typeof import("fs") = require("fs");
        const path: typeof import("path") = require("path");
        const { pipeline }: typeof import("stream") = require("stream");
        if (props.installerSource === "local") {
            // `check` hashed this version of the file; a changed fingerprint means it changed since.
            if ((await fileFingerprint(props.localInstaller)) !== props.localInstallerFingerprint) {
                throw new Error(`installerDir: ${props.localInstaller} changed while the update ran; run it again`);
            }
            const fileName = path.basename(props.localInstaller);
            const part = partFile(await prepareDir(props.buildDir, "zips"), `${props.entry.dir}-${props.localInstallerSha256.slice(0, 16)}`);
            try {
                const zip = await writeDeterministicZip(this.entries(props, fileName, fs.createReadStream(props.localInstaller)), part);
                const { size } = await fs.promises.stat(props.localInstaller);
                countIo("read", size);
                return await this.publishZip(props, part, zip, { fileName, size, sha256: props.localInstallerSha256 });
            } finally {
                await fs.promises.rm(part, { force: true });
            }
        }
        const cacheDir = this.cacheDirOf(props);
        const memo = `installer:${props.buildDir}/${cacheDir}`;
        // One download per installer per process; it builds this artifact's zip on the way.
        let downloaded: BuiltZip | undefined;
        const carrier = await this.once(memo, async () => {
            const dir = await prepareDir(props.buildDir, ...cacheDir.split("/"));
            const cached = await this.cachedInstaller(props, dir);
            if (cached !== undefined) {
                return cached;
            }
            const got = await this.download(props, dir);
            downloaded = got.zip;
            return got.carrier;
        });
        if (downloaded !== undefined) {
            return downloaded;
        }
        const part = partFile(await prepareDir(props.buildDir, "zips"), `${props.entry.dir}-${carrier.sha256.slice(0, 16)}`);
        try {
            const tap = hashingTap();
            pipeline(fs.createReadStream(carrier.file, { start: carrier.dataOffset, end: carrier.dataOffset + carrier.size - 1 }), tap.stream, () => undefined);
            const zip = await writeDeterministicZip(this.entries(props, carrier.fileName, tap.stream), part);
            countIo("read", carrier.size);
            const read = await tap.result;
            if (read.size !== carrier.size || read.sha256 !== carrier.sha256) {
                throw new CorruptCache(`the cached installer ${carrier.fileName} is not what was downloaded`);
            }
            return await this.publishZip(props, part, zip, carrier);
        } catch (e) {
            if (!(e instanceof CorruptCache) || retried) {
                throw e;
            }
            // Never published: dropped, and downloaded again.
            await fs.promises.rm(path.join(path.dirname(carrier.file), "installer.json"), { force: true });
            this.memo?.delete(memo);
            return this.buildZip(props, true);
        } finally {
            await fs.promises.rm(part, { force: true });
        }
    }

    /**
     * The installer in the cache folder `dir`, when `installer.json` is there, is this tenant's
     * and asset group's, and its zip holds the bytes it names; `undefined` otherwise (a folder
     * of an older version of the program, a killed download).
     */
    private async cachedInstaller(props: CheckedProps, dir: string): Promise<CarrierZip | undefined> {
        const fs: typeof import("fs") = require("fs");
        const path: typeof import("path") = require("path");
        const metaFile = path.join(dir, "installer.json");
        const meta = await fs.promises.readFile(metaFile, "utf8").then((t) => JSON.parse(t) as Partial<CachedInstaller>).catch(() => undefined);
        if (meta === undefined) {
            return undefined;
        }
        const file = path.join(dir, CARRIER_ZIP);
        const stat = await fs.promises.stat(file).catch(() => undefined);
        if (meta.tenant === props.tenant && meta.assetGroupId === props.assetGroupId && meta.zipFile === CARRIER_ZIP
            && typeof meta.fileName === "string" && installerNameProblem(meta.fileName, props.entry.upt_package) === undefined
            && typeof meta.sha256 === "string" && Number.isInteger(meta.size) && Number.isInteger(meta.dataOffset)
            && stat !== undefined && stat.size >= meta.dataOffset! + meta.size!) {
            return { ...(meta as CachedInstaller), file };
        }
        await fs.promises.rm(metaFile, { force: true });
        return undefined;
    }

    /**
     * Downloads the installer straight into this artifact's zip (a part file in the cache folder
     * `dir`), then publishes that zip and keeps it, hard-linked, as the cache's zip.
     */
    private async download(props: CheckedProps, dir: string): Promise<{ carrier: CarrierZip; zip: BuiltZip }> {
        const fs: typeof import("fs") = require("fs");
        const path: typeof import("path") = require("path");
        const { pipeline }: typeof import("stream") = require("stream");
        const apiKey = await this.apiKey(props.apiKey);
        const part = partFile(dir, "download");
        try {
            const got = await downloadInstaller(apiKey, {
                uptPackage: props.entry.upt_package, arch: props.entry.arch_type, version: props.version, sensorOnly: props.sensorOnly, assetGroupId: props.assetGroupId,
            }, this.policy, async (fileName, body, progress) => {
                const tap = hashingTap(progress);
                // A broken body fails the zip (the tap's error ends the archive).
                pipeline(body, tap.stream, () => undefined);
                const zip = await writeDeterministicZip(this.entries(props, fileName, tap.stream), part);
                return { ...(await tap.result), zip };
            });
            const carrierFile = path.join(dir, CARRIER_ZIP);
            const meta: CachedInstaller = {
                tenant: props.tenant, assetGroupId: props.assetGroupId, fileName: got.fileName, size: got.size, sha256: got.sha256,
                zipFile: CARRIER_ZIP, dataOffset: await zipEntryDataOffset(part, got.fileName),
            };
            await fs.promises.rm(carrierFile, { force: true });
            await fs.promises.link(part, carrierFile).catch(() => fs.promises.copyFile(part, carrierFile));
            await writeFileAtomic(path.join(dir, "installer.json"), JSON.stringify(meta, null, 2));
            const installer = { fileName: got.fileName, size: got.size, sha256: got.sha256 };
            return { carrier: { ...meta, file: carrierFile }, zip: await this.publishZip(props, part, got.zip, installer) };
        } finally {
            await fs.promises.rm(part, { force: true });
        }
    }
}

// One provider object for every artifact: serialized once, and one instance in the host, so
// the per-process memos (version lookup, downloads) are shared.
const ARTIFACT_PROVIDER = new UptycsAgentArtifactProvider();

/**
 * One zip of the Uptycs Distributor package (type `uptycs:UptycsAgentArtifact`), named after the
 * mapping entry's `dir`. See the module comment for its lifecycle.
 */
export class UptycsAgentArtifact extends pulumi.dynamic.Resource {
    /** Concrete agent version built (resolved from `latest` at preview). */
    public readonly version!: pulumi.Output<string>;
    public readonly entry!: pulumi.Output<AgentMappingEntry>;
    public readonly installerFileName!: pulumi.Output<string>;
    /** Installer size in bytes. */
    public readonly installerSize!: pulumi.Output<number>;
    public readonly installerSha256!: pulumi.Output<string>;
    public readonly zipFileName!: pulumi.Output<string>;
    /** Zip path relative to the project. */
    public readonly zipPath!: pulumi.Output<string>;
    public readonly zipSha256!: pulumi.Output<string>;
    /** Zip size in bytes. */
    public readonly zipSize!: pulumi.Output<number>;

    constructor(name: string, args: UptycsAgentArtifactInputs, opts?: pulumi.CustomResourceOptions) {
        const outputs: Record<Exclude<keyof UptycsAgentArtifactOutputs, keyof CheckedProps> | "version", undefined> = {
            version: undefined, installerFileName: undefined, installerSize: undefined, installerSha256: undefined,
            zipFileName: undefined, zipPath: undefined, zipSha256: undefined, zipSize: undefined, zipFingerprint: undefined,
        };
        super(ARTIFACT_PROVIDER, name, { installerDir: "", ...args, ...outputs }, { ...opts, additionalSecretOutputs: ["apiKey"] }, "uptycs", "UptycsAgentArtifact");
    }
}
