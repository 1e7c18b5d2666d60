/**
 * AWS Systems Manager Distributor rules, as pure data and pure functions.
 *
 * Source: AWS Systems Manager Distributor user guide ("Supported package platforms and
 * architectures", "Create the JSON package manifest"), the SSM `CreateDocument` API reference,
 * and `../shared/reference/distributor-rules.md`.
 */

/** Installer family: decides the install scripts and the Uptycs `upt_package` that serves it. */
export type InstallerFamily = "rpm" | "deb" | "msi";

/** Architectures Uptycs builds installers for (Distributor also knows `386`; Uptycs ships none). */
export const Arch = {
    /** 64-bit Intel/AMD. */
    X86_64: "x86_64",
    /** 64-bit ARM (Graviton). */
    Arm64: "arm64",
} as const;
/** Architectures Uptycs builds installers for (Distributor also knows `386`; Uptycs ships none). */
export type Arch = (typeof Arch)[keyof typeof Arch];

/** A Distributor platform code and what it accepts. */
export interface PlatformRule {
    /** Installer family the platform uses. */
    readonly family: InstallerFamily;
    /** Architectures Distributor accepts for this platform and Uptycs serves. */
    readonly archs: readonly Arch[];
}

/**
 * Platform codes accepted in a Distributor manifest, with their family and architectures.
 * From the Distributor platform table; `rocky` and `almalinux` were added by AWS in 2025 (the SSM
 * agent reports them as such, e.g. "no manifest found for platform: almalinux").
 */
export const DISTRIBUTOR_PLATFORMS: Readonly<Record<string, PlatformRule>> = Object.freeze({
    amazon: { family: "rpm", archs: ["x86_64", "arm64"] },
    redhat: { family: "rpm", archs: ["x86_64", "arm64"] },
    centos: { family: "rpm", archs: ["x86_64"] },
    oracle: { family: "rpm", archs: ["x86_64"] },
    rocky: { family: "rpm", archs: ["x86_64", "arm64"] },
    almalinux: { family: "rpm", archs: ["x86_64", "arm64"] },
    suse: { family: "rpm", archs: ["x86_64"] },
    opensuse: { family: "rpm", archs: ["x86_64"] },
    opensuseleap: { family: "rpm", archs: ["x86_64"] },
    ubuntu: { family: "deb", archs: ["x86_64", "arm64"] },
    debian: { family: "deb", archs: ["x86_64"] },
    windows: { family: "msi", archs: ["x86_64"] },
});

/** The version key that matches any platform release. */
export const ANY_VERSION = "_any";

/** Manifest `version` and document VersionName pattern (SSM CreateDocument `VersionName`). */
export const VERSION_NAME_PATTERN = /^[a-zA-Z0-9_\-.]{1,128}$/;

/** Document name pattern (SSM CreateDocument `Name`). */
export const DOCUMENT_NAME_PATTERN = /^[a-zA-Z0-9_\-.]{3,128}$/;

/** Name prefixes AWS reserves for its own documents (case-insensitive for the first three). */
const RESERVED_NAME_PREFIXES_ANY_CASE = ["aws", "amazon", "amzn"];
const RESERVED_NAME_PREFIXES = ["AWSEC2", "AWSConfigRemediation", "AWSSupport"];

/** At most this many attachments (zips) per document version. */
export const MAX_ATTACHMENTS = 20;
/** At most this many bytes of document content (the manifest). */
export const MAX_CONTENT_BYTES = 64 * 1024;
/** At most this many bytes per attached file (1 GB). */
export const MAX_FILE_BYTES = 1024 * 1024 * 1024;
/** At most this many versions per Distributor package. */
export const MAX_PACKAGE_VERSIONS = 25;
/**
 * At most this many accounts a document is shared with, per region (SSM quota "Shared SSM
 * documents", raisable). `ModifyDocumentPermission` takes 20 per call; the AWS provider batches.
 */
export const MAX_SHARE_ACCOUNTS = 1000;

/**
 * Why `name` is not a valid Distributor package (document) name, or `undefined` when it is.
 */
export function packageNameProblem(name: string): string | undefined {
    if (!DOCUMENT_NAME_PATTERN.test(name)) {
        return "must be 3 to 128 characters of letters, digits, '_', '-' and '.'";
    }
    const lower = name.toLowerCase();
    const anyCase = RESERVED_NAME_PREFIXES_ANY_CASE.find((p) => lower.startsWith(p));
    const exact = RESERVED_NAME_PREFIXES.find((p) => name.startsWith(p));
    const reserved = anyCase ?? exact;
    return reserved === undefined ? undefined : `must not start with '${reserved}' (reserved by AWS)`;
}

/**
 * The Distributor platform code the SSM agent derives from an os-release `ID`
 * (`rhel`→redhat, `ol`→oracle, `amzn`→amazon, `sles`→suse, `opensuse-leap`→opensuseleap).
 * Windows instances report `windows`. Other ids pass through unchanged.
 */
export function platformFromOsReleaseId(id: string): string {
    const aliases: Record<string, string> = {
        rhel: "redhat",
        ol: "oracle",
        amzn: "amazon",
        sles: "suse",
        "opensuse-leap": "opensuseleap",
        "opensuse-tumbleweed": "opensuse",
    };
    return aliases[id] ?? id;
}
