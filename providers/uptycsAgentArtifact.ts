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
 *
 * The class orchestrates; the machinery is beside it: the settings it reads (./artifactSettings),
 * the installer cache (./installerCache), the download (./installerDownload) and the zip
 * assembly (./zipAssembly), reached by reference so that the serializer captures them.
 */
import * as pulumi from "@pulumi/pulumi";
import { installerNameProblem, INSTALLER_EXTENSION } from "../platforms/installer";
import { AgentMappingEntry, validateArtifactEntry } from "../platforms/mapping";
import { canonicalJson, sha256Hex } from "../platforms/digest";
import { zipFileNameOf, zipGroupOf } from "../platforms/manifest";
import { INSTALLER_PLACEHOLDER, PackageScripts, scriptsDigest } from "../platforms/scripts";
import { isAgentVersion, LATEST } from "../platforms/version";
import { InstallerSource, UptycsSettings, uptycsSettingsFromConfig } from "./artifactSettings";
import { fileFingerprint, installerCacheDir, prepareDir, sha256File, tightenBuildFolder } from "./buildFolder";
import { CorruptCache, readCachedInstaller, zipFromCache } from "./installerCache";
import { downloadIntoZip } from "./installerDownload";
import { apiKeyFromSettings, getAssetGroupId, getOfferedVersions, parseApiKey, tenantId, UptycsApiKey } from "./uptycsApi";
import { BuiltZip, linkZip, zipFromFile, ZipTarget } from "./zipAssembly";

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

/** The zip's file name in the manifest and S3: shared by every entry of its group (see `zipGroupOf`). */
function sharedZipName(props: Pick<CheckedProps, "entry" | "installerSource" | "version">, zipSha256: string): string {
    return zipFileNameOf(zipGroupOf(props.entry, props.installerSource), props.version, zipSha256);
}

/** Properties whose change changes the zip; `diff` reports them by these names. */
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
    private uptycs: UptycsSettings = uptycsSettingsFromConfig(() => undefined);
    private memo?: Map<string, Promise<unknown>>;

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.uptycs = uptycsSettingsFromConfig((key) => req.config.get(key));
    }

    /** One promise per key per process: one version lookup and one download per key, however many artifacts ask; a failure is not cached (the next caller tries again). */
    private once<T>(key: string, make: () => Promise<T>): Promise<T> {
        this.memo = this.memo ?? new Map();
        let p = this.memo.get(key) as Promise<T> | undefined;
        if (p === undefined) {
            p = make();
            this.memo.set(key, p);
            p.catch(() => this.memo?.delete(key));
        }
        return p;
    }

    /** The resource's own key (`text`, from its `apiKey` input; memoized by its digest, never by the key), else the stack's. */
    private async apiKey(text: string | undefined): Promise<UptycsApiKey> {
        if (text !== undefined) {
            return this.once(`apiKey:${sha256Hex(text)}`, async () => parseApiKey(text, "the apiKey input (the key file JSON)"));
        }
        return this.once("apiKey", () => apiKeyFromSettings(this.uptycs));
    }

    private async offeredVersions(apiKey: UptycsApiKey): Promise<string[]> {
        return this.once(`versions:${tenantId(apiKey)}`, () => getOfferedVersions(apiKey, this.uptycs.policy));
    }

    /**
     * Validates the inputs and resolves `latest` (so a preview shows the version). First makes the
     * build folder private: installers and zips embed the tenant's enrollment secret, whatever an
     * older version or a loose umask left. A `local` installer is hashed once per version of the
     * file: unchanged since the last run (size, inode, mtime), its sha256 stands.
     */
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
            const old = olds as Partial<CheckedProps>;
            localInstallerSha256 = old.localInstaller === localInstaller && old.localInstallerFingerprint === localInstallerFingerprint && typeof old.localInstallerSha256 === "string"
                ? old.localInstallerSha256
                : await sha256File(localInstaller);
        } else {
            const apiKey = await this.apiKey(ownKey as string | undefined);
            const offered = await this.offeredVersions(apiKey);
            tenant = tenantId(apiKey);
            assetGroupId = await this.once(`assetGroupId:${tenant}`, () => getAssetGroupId(apiKey, this.uptycs.policy));
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

    /**
     * What changes the zip, by name; state written when every entry had a zip name of its own
     * (the shared name is an update); and the zip itself, which lives on this machine only: gone,
     * or not what state says, it is rebuilt (size, inode and mtime as built: nothing is read;
     * otherwise its bytes decide).
     */
    async diff(_id: string, olds: UptycsAgentArtifactOutputs, news: CheckedProps): Promise<ArtifactDiffResult> {
        const diffs: string[] = ZIP_INPUTS.filter((k) => canonicalJson(olds[k]) !== canonicalJson(news[k]));
        if (diffs.length === 0 && olds.zipFileName !== sharedZipName(olds, olds.zipSha256)) {
            diffs.push("zipFileName");
        }
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

    /** Removes the zip; installers stay cached: other stacks of the checkout may use them. */
    async delete(_id: string, props: UptycsAgentArtifactOutputs): Promise<void> {
        const fs: typeof import("fs") = require("fs");
        await fs.promises.rm(props.zipPath, { force: true });
    }

    /**
     * The artifact's zip: built once per installer, scripts and build folder in this process
     * (entries that share them, e.g. every x86_64 RPM platform, get the same bytes), then
     * hard-linked under the entry's own name, once per file (several entries, or packages of one
     * program, may want the same zip). The key stays an input: a rotated key of the same tenant
     * changes no zip.
     */
    private async build(props: CheckedProps): Promise<UptycsAgentArtifactOutputs> {
        const path: typeof import("path") = require("path");
        const source = props.installerSource === "local" ? `${props.localInstaller}@${props.localInstallerSha256}` : this.cacheDirOf(props);
        const first = await this.once(`zip:${props.buildDir}:${source}:${props.scriptsDigest}`, () => this.buildZip(props));
        const ownName = zipFileNameOf(props.entry.dir, props.version, first.sha256);
        const zipPath = path.join(props.buildDir, "zips", ownName);
        if (zipPath !== first.zipPath) {
            await this.once(`link:${zipPath}`, () => linkZip(first.zipPath, zipPath));
        }
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

    /**
     * Builds the zip in one pass over the installer's bytes: as they arrive from the Uptycs API
     * (one download per installer per process, the zip then kept as the cache's copy), from the
     * cache's zip (read once, verified as it is read; a corrupt cache, never published, is
     * dropped and downloaded again, once), or from the local folder (whose fingerprint must be
     * the one `check` hashed: a change means the file changed since).
     */
    private async buildZip(props: CheckedProps, retried = false): Promise<BuiltZip> {
        const target: ZipTarget = { buildDir: props.buildDir, entryDir: props.entry.dir, version: props.version, scripts: props.scripts };
        if (props.installerSource === "local") {
            if ((await fileFingerprint(props.localInstaller)) !== props.localInstallerFingerprint) {
                throw new Error(`installerDir: ${props.localInstaller} changed while the update ran; run it again`);
            }
            return zipFromFile(target, props.localInstaller, props.localInstallerSha256);
        }
        const cacheDir = this.cacheDirOf(props);
        const memo = `installer:${props.buildDir}/${cacheDir}`;
        const owner = { tenant: props.tenant, assetGroupId: props.assetGroupId, uptPackage: props.entry.upt_package };
        let downloaded: BuiltZip | undefined;
        const carrier = await this.once(memo, async () => {
            const dir = await prepareDir(props.buildDir, ...cacheDir.split("/"));
            const cached = await readCachedInstaller(dir, owner);
            if (cached !== undefined) {
                return cached;
            }
            const request = {
                uptPackage: props.entry.upt_package, arch: props.entry.arch_type, version: props.version, sensorOnly: props.sensorOnly, assetGroupId: props.assetGroupId,
            };
            const got = await downloadIntoZip(await this.apiKey(props.apiKey), request, this.uptycs.policy, target, dir, owner);
            downloaded = got.zip;
            return got.carrier;
        });
        if (downloaded !== undefined) {
            return downloaded;
        }
        try {
            return await zipFromCache(target, carrier);
        } catch (e) {
            if (!(e instanceof CorruptCache) || retried) {
                throw e;
            }
            this.memo?.delete(memo);
            return this.buildZip(props, true);
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
