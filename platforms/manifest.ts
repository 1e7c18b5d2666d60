/**
 * The Distributor package manifest (`manifest.json`) and the document VersionName.
 *
 * Format: AWS Distributor "Create the JSON package manifest" (schemaVersion 2.0). The manifest is
 * the `Package` document's content; every `file` it names must be an attachment.
 */
import {
    ANY_VERSION, DISTRIBUTOR_PLATFORMS, MAX_ATTACHMENTS, MAX_CONTENT_BYTES, MAX_FILE_BYTES, VERSION_NAME_PATTERN,
} from "./distributor";
import { sha256Hex } from "./digest";
import { AgentMappingEntry, versionKey } from "./mapping";

/**
 * The zip a mapping entry shares with others: entries of one group get byte-identical zips, so
 * they name one file in the manifest and one S3 object. With installers from the Uptycs API the
 * zip depends only on the installer (`upt_package`, `arch_type`, the component's agent version
 * and build) and the scripts (the installer family): `<upt_package>-<arch_type>`, e.g. the
 * x86_64 RPM serves every RPM platform. A `local` folder per entry may hold any installer: its
 * `dir` alone. Several platforms may name one file: "Different platforms might sometimes use the
 * same file, but all files that you attach to your package must be listed in the Files section
 * of the manifest" (AWS Systems Manager User Guide, Distributor, "Create a package").
 */
export function zipGroupOf(entry: AgentMappingEntry, installerSource: "api" | "local"): string {
    return installerSource === "api" ? `${entry.upt_package}-${entry.arch_type}` : entry.dir;
}

/**
 * The file name of a zip (its S3 object's base name and its name in the manifest):
 * `<group>-<agent version>-<12 hex of its sha256>.zip`, so it changes exactly when the bytes do.
 */
export function zipFileNameOf(group: string, agentVersion: string, zipSha256: string): string {
    return `${group}-${agentVersion}-${zipSha256.slice(0, 12)}.zip`;
}

/** One built zip and the mapping entry it serves. */
export interface PackageZip {
    readonly entry: AgentMappingEntry;
    /** Zip file name (the S3 object's base name). */
    readonly zipFileName: string;
    /** Hex sha256 of the zip's bytes. */
    readonly zipSha256: string;
    /** Zip size in bytes. */
    readonly zipSize: number;
}

/** A Distributor manifest, schemaVersion 2.0. */
export interface DistributorManifest {
    readonly schemaVersion: "2.0";
    readonly version: string;
    readonly publisher: string;
    readonly description: string;
    /** platform → version key → arch → `{ file }`. */
    readonly packages: Record<string, Record<string, Record<string, { file: string }>>>;
    /** zip name → `{ checksums: { sha256 } }`. */
    readonly files: Record<string, { checksums: { sha256: string } }>;
}

/** What {@link buildManifest} needs besides the zips. */
export interface ManifestOptions {
    /** Concrete agent version, e.g. `5.14.2.21`. */
    readonly agentVersion: string;
    /** Sensor-only (osquery) build rather than Uptycs Protect. */
    readonly sensorOnly: boolean;
}

function sortedObject<T>(entries: [string, T][]): Record<string, T> {
    return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Builds the manifest with keys in a fixed order, so equal inputs give byte-equal JSON.
 *
 * `version` (also the document VersionName) is `<agentVersion>-<8 hex>`: the suffix is the sha256
 * of everything else in the manifest, so publishing the same agent version with other content
 * (sensor-only switch, changed scripts, other installer) yields a new VersionName, never a
 * DuplicateDocumentVersionName, and unchanged content yields the same one (no new version).
 * @throws Error when the result breaks a Distributor rule (see {@link manifestProblems}) or a zip
 *   exceeds the 1 GB attachment size.
 */
export function buildManifest(zips: readonly PackageZip[], options: ManifestOptions): DistributorManifest {
    const platforms = new Map<string, [string, string, string][]>();
    for (const z of zips) {
        const rows = platforms.get(z.entry.name) ?? [];
        rows.push([versionKey(z.entry), z.entry.arch_type, z.zipFileName]);
        platforms.set(z.entry.name, rows);
    }
    const packages = sortedObject([...platforms].map(([platform, rows]) => {
        const byVersion = new Map<string, [string, { file: string }][]>();
        for (const [ver, arch, file] of rows) {
            byVersion.set(ver, [...(byVersion.get(ver) ?? []), [arch, { file }]]);
        }
        return [platform, sortedObject([...byVersion].map(([ver, archs]) => [ver, sortedObject(archs)]))];
    }));
    const files = sortedObject([...new Map(zips.map((z) => [z.zipFileName, { checksums: { sha256: z.zipSha256 } }]))]);
    const build = options.sensorOnly ? "sensor-only (osquery)" : "Uptycs Protect";
    const body = {
        publisher: "Uptycs",
        description: `Uptycs agent ${options.agentVersion}, ${build} build`,
        packages,
        files,
    };
    const manifest: DistributorManifest = {
        schemaVersion: "2.0",
        version: `${options.agentVersion}-${sha256Hex(JSON.stringify(body)).slice(0, 8)}`,
        ...body,
    };
    const problems = [
        ...manifestProblems(manifest),
        ...zips.filter((z) => manifest.files[z.zipFileName].checksums.sha256 !== z.zipSha256)
            .map((z) => `${z.zipFileName} names two zips (sha256 ${manifest.files[z.zipFileName].checksums.sha256} and ${z.zipSha256})`),
        ...zips.filter((z) => z.zipSize > MAX_FILE_BYTES).map((z) => `${z.zipFileName} is ${z.zipSize} bytes, over the ${MAX_FILE_BYTES}-byte limit per attached file`),
    ];
    if (problems.length > 0) {
        throw new Error(`the Distributor manifest is invalid: ${problems.join("; ")}`);
    }
    return manifest;
}

/** The manifest as the document content and `manifest.json`: 2-space JSON, trailing newline. */
export function manifestJson(manifest: DistributorManifest): string {
    return JSON.stringify(manifest, null, 2) + "\n";
}

/**
 * Every Distributor rule the manifest breaks (empty when none): version pattern, platform codes,
 * architectures, each platform has an `_any` key, every `file` listed in `files` with a sha256,
 * no unused file, at most {@link MAX_ATTACHMENTS} files, content at most {@link MAX_CONTENT_BYTES}.
 */
export function manifestProblems(manifest: DistributorManifest): string[] {
    const problems: string[] = [];
    if (!VERSION_NAME_PATTERN.test(manifest.version)) {
        problems.push(`version '${manifest.version}' does not match ${VERSION_NAME_PATTERN}`);
    }
    const used = new Set<string>();
    for (const [platform, versions] of Object.entries(manifest.packages)) {
        const rule = DISTRIBUTOR_PLATFORMS[platform];
        if (rule === undefined) {
            problems.push(`unknown platform '${platform}'`);
            continue;
        }
        if (!(ANY_VERSION in versions)) {
            problems.push(`platform '${platform}' has no '${ANY_VERSION}' version key`);
        }
        for (const [ver, archs] of Object.entries(versions)) {
            for (const [arch, { file }] of Object.entries(archs)) {
                if (!(rule.archs as readonly string[]).includes(arch)) {
                    problems.push(`${platform}/${ver}: arch '${arch}' is not allowed`);
                }
                if (!(file in manifest.files)) {
                    problems.push(`${platform}/${ver}/${arch}: file '${file}' is not listed in files`);
                }
                used.add(file);
            }
        }
    }
    for (const [file, { checksums }] of Object.entries(manifest.files)) {
        if (!/^[0-9a-f]{64}$/.test(checksums.sha256)) {
            problems.push(`file '${file}' has no valid sha256`);
        }
        if (!used.has(file)) {
            problems.push(`file '${file}' is listed but no platform uses it`);
        }
    }
    if (Object.keys(manifest.files).length === 0) {
        problems.push("no files");
    }
    if (Object.keys(manifest.files).length > MAX_ATTACHMENTS) {
        problems.push(`${Object.keys(manifest.files).length} files, at most ${MAX_ATTACHMENTS} allowed per version`);
    }
    const size = Buffer.byteLength(manifestJson(manifest));
    if (size > MAX_CONTENT_BYTES) {
        problems.push(`${size} bytes of content, at most ${MAX_CONTENT_BYTES} allowed`);
    }
    return problems;
}
