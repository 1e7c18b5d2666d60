/**
 * The Uptycs agent mapping: which installer goes to which Distributor platform/version/arch.
 *
 * The file format is the original tool's `uptycs-agent-mapping.json` (`{"linux": [...],
 * "windows": [...]}`); see the Uptycs "build-package" docs. Pure functions, no I/O.
 */
import type { ErrorObject } from "ajv";
import { ANY_VERSION, Arch, DISTRIBUTOR_PLATFORMS, InstallerFamily, MAX_ATTACHMENTS } from "./distributor";

/** The Uptycs package families served by `/packageDownloads/osquery/{upt_package}/...`. */
export const UptPackage = {
    /** RPM installers. */
    Centos: "centos",
    /** DEB installers. */
    Debian: "debian",
    /** MSI installers. */
    Windows: "windows",
} as const;
/** Uptycs package family to download (the `upt_package` of the Uptycs API's installer request). */
export type UptPackage = (typeof UptPackage)[keyof typeof UptPackage];

/** One entry of the mapping file: one zip in the Distributor package. */
export interface AgentMappingEntry {
    /** Uptycs package family to download: `centos` (RPM), `debian` (DEB) or `windows` (MSI). */
    readonly upt_package: UptPackage;
    /** os-release id the entry was written for (informational, e.g. `amzn2`). */
    readonly id?: string;
    /** Folder / artifact name; unique; also the Pulumi resource name and the zip name's prefix. */
    readonly dir: string;
    /** Distributor platform code, e.g. `amazon`, `redhat`, `ubuntu`, `windows`. */
    readonly name: string;
    /** Platform major version, or `_any`. */
    readonly major_version: string;
    /** Platform minor version, or `""`. Ignored when `major_version` is `_any`. */
    readonly minor_version: string;
    /** Instance architecture. */
    readonly arch_type: Arch;
}

/** The installer family each `upt_package` serves. */
export const UPT_PACKAGE_FAMILY: Readonly<Record<UptPackage, InstallerFamily>> = Object.freeze({
    centos: "rpm",
    debian: "deb",
    windows: "msi",
});

/** JSON Schema of one entry; unknown properties are tolerated, as in the original file. */
const ENTRY_SCHEMA = {
    type: "object",
    required: ["upt_package", "dir", "name", "major_version", "arch_type"],
    properties: {
        upt_package: { enum: Object.values(UptPackage) },
        id: { type: "string" },
        dir: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$" },
        name: { enum: Object.keys(DISTRIBUTOR_PLATFORMS) },
        major_version: { type: "string", pattern: "^(_any|[0-9]+)$" },
        minor_version: { type: "string", pattern: "^([0-9]+)?$" },
        arch_type: { enum: Object.values(Arch) },
    },
};

/**
 * What a zip is built from: the installer family, the architecture and the folder name. Where
 * the entry goes in the manifest (platform, versions) is not the artifact's concern, and its
 * check stays small (the artifact's serialized provider is stored in every artifact's state).
 */
const ARTIFACT_ENTRY_SCHEMA = {
    type: "object",
    required: ["upt_package", "dir", "arch_type"],
    properties: { upt_package: ENTRY_SCHEMA.properties.upt_package, dir: ENTRY_SCHEMA.properties.dir, arch_type: ENTRY_SCHEMA.properties.arch_type },
};

// Entries are validated one by one, so messages name them as `linux[2]`.
const MAPPING_SCHEMA = {
    type: "object",
    required: ["linux", "windows"],
    properties: { linux: { type: "array" }, windows: { type: "array" } },
};

/**
 * `value`'s errors against `schema`, each prefixed by `where`. Ajv is required here, not at
 * module scope, so the dynamic provider's closure captures `require("ajv")`.
 */
function schemaErrors(schema: object, value: unknown, where: string): string[] {
    const AjvClass: typeof import("ajv").default = require("ajv");
    const validate = new AjvClass({ allErrors: true, strict: false }).compile(schema);
    if (validate(value)) {
        return [];
    }
    return (validate.errors ?? []).map((e: ErrorObject) => {
        const allowed = e.keyword === "enum" ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")})` : "";
        return `${where}${e.instancePath.replace(/\//g, ".")} ${e.message ?? "is invalid"}${allowed}`;
    });
}

/** The manifest version key of an entry: `_any`, `"8"` or `"8.6"`. */
export function versionKey(entry: AgentMappingEntry): string {
    if (entry.major_version === ANY_VERSION) {
        return ANY_VERSION;
    }
    return entry.minor_version ? `${entry.major_version}.${entry.minor_version}` : entry.major_version;
}

/** The installer family an entry uses. */
export function entryFamily(entry: AgentMappingEntry): InstallerFamily {
    return UPT_PACKAGE_FAMILY[entry.upt_package];
}

/**
 * Validates what an `UptycsAgentArtifact` builds its zip from: `upt_package`, `dir` and
 * `arch_type` (the component checks whole entries with {@link validateAgentMappingEntry}).
 * @throws Error listing every problem, each prefixed with `where`.
 */
export function validateArtifactEntry(entry: unknown, where: string): AgentMappingEntry {
    const problems = schemaErrors(ARTIFACT_ENTRY_SCHEMA, entry, where);
    if (problems.length > 0) {
        throw new Error(problems.join("; "));
    }
    return entry as AgentMappingEntry;
}

/**
 * Validates one mapping entry against the schema and the Distributor platform rules.
 * @param where names the entry in error messages, e.g. `mappingFile linux[2]`.
 * @throws Error listing every problem, each prefixed with `where`.
 */
export function validateAgentMappingEntry(entry: unknown, where: string): AgentMappingEntry {
    const problems = schemaErrors(ENTRY_SCHEMA, entry, where);
    if (problems.length === 0) {
        const e = entry as AgentMappingEntry;
        const rule = DISTRIBUTOR_PLATFORMS[e.name];
        if (rule.family !== UPT_PACKAGE_FAMILY[e.upt_package]) {
            problems.push(`${where}: upt_package '${e.upt_package}' does not serve platform '${e.name}' (needs a ${rule.family} installer)`);
        }
        if (!rule.archs.includes(e.arch_type)) {
            problems.push(`${where}: platform '${e.name}' has no arch '${e.arch_type}' in Distributor (allowed: ${rule.archs.join(", ")})`);
        }
    }
    if (problems.length > 0) {
        throw new Error(problems.join("; "));
    }
    return entry as AgentMappingEntry;
}

/**
 * Validates a parsed mapping file and flattens it, Linux entries first, in file order.
 *
 * Rules: schema per entry; `dir` unique; one entry per platform/version/arch; at least one entry;
 * at most {@link MAX_ATTACHMENTS} entries (one zip each, the Distributor attachment limit).
 * @param source names the file in error messages.
 * @throws Error naming `source` and each offending entry.
 */
export function validateAgentMapping(mapping: unknown, source: string): AgentMappingEntry[] {
    const problems = schemaErrors(MAPPING_SCHEMA, mapping, source);
    if (problems.length > 0) {
        throw new Error(problems.join("; "));
    }
    const m = mapping as { linux: unknown[]; windows: unknown[] };
    const entries = [
        ...m.linux.map((e, i) => validateAgentMappingEntry(e, `${source}.linux[${i}]`)),
        ...m.windows.map((e, i) => validateAgentMappingEntry(e, `${source}.windows[${i}]`)),
    ];
    if (entries.length === 0) {
        throw new Error(`${source}: no entries in 'linux' or 'windows'`);
    }
    if (entries.length > MAX_ATTACHMENTS) {
        throw new Error(`${source}: ${entries.length} entries, but a Distributor package version holds at most ${MAX_ATTACHMENTS} files`);
    }
    const seenDir = new Set<string>();
    const seenTarget = new Map<string, string>();
    for (const e of entries) {
        if (seenDir.has(e.dir.toLowerCase())) {
            throw new Error(`${source}: duplicate dir '${e.dir}'`);
        }
        seenDir.add(e.dir.toLowerCase());
        const target = `${e.name}/${versionKey(e)}/${e.arch_type}`;
        const other = seenTarget.get(target);
        if (other !== undefined) {
            throw new Error(`${source}: entries '${other}' and '${e.dir}' both target ${target}`);
        }
        seenTarget.set(target, e.dir);
    }
    // Distributor's prefix matching of version keys has failed in the field ("no manifest found
    // for platform: amazon, version 2.0"), so every platform/arch must have an `_any` fallback.
    for (const e of entries) {
        if (!seenTarget.has(`${e.name}/${ANY_VERSION}/${e.arch_type}`)) {
            throw new Error(`${source}: ${e.name}/${e.arch_type} has no '${ANY_VERSION}' entry ('${e.dir}' targets version ${versionKey(e)} only)`);
        }
    }
    return entries;
}

/**
 * Parses and validates mapping file text.
 * @throws Error naming `source` when the text is not JSON or the mapping is invalid.
 */
export function parseAgentMapping(text: string, source: string): AgentMappingEntry[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (e) {
        throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
    }
    return validateAgentMapping(parsed, source);
}
