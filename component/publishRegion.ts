/**
 * The package in one region: a private bucket (unless one is given), one S3 object per distinct
 * zip and one for `manifest.json` under the `uptycs/` prefix, the VersionName the package's
 * history allows, the `Package` SSM document (AWS Distributor: "Create a package (advanced)"),
 * and the pruner that keeps its versions under the quota.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ResolvedPackageArgs } from "../resolvePackageArgs";
import { denyInsecureTransportPolicy } from "../platforms/bucketPolicy";
import { DistributorManifest, manifestJson } from "../platforms/manifest";
import { bucketNameFor } from "../platforms/organization";
import { DistributorVersionPruner, PackageVersionName } from "../providers/packageVersions";
import { UptycsAgentArtifact } from "../providers/uptycsAgentArtifact";
import { groupArtifacts } from "./artifacts";
import { RegionScope } from "./regionScope";

/** The S3 prefix (folder) that holds the zips and the manifest: the document's SourceUrl. */
export const S3_PREFIX = "uptycs";

/** The published package in one region, before any install. */
export interface PublishedDocument {
    /** The `Package` document. */
    readonly document: aws.ssm.Document;
    /** Its VersionName output: whatever waits for it waits for the new default version. */
    readonly documentVersion: pulumi.Output<string>;
    /** The bucket holding the zips and the manifest. */
    readonly bucketName: pulumi.Output<string>;
}

/**
 * A private bucket: public access blocked, bucket-owner-enforced ownership, SSE-S3 by default,
 * and a policy denying plain-HTTP requests. Installers embed the tenant's enrollment secret.
 */
function createPrivateBucket(base: string, tags: Record<string, string>, scope: RegionScope): pulumi.Output<string> {
    const bucket = new aws.s3.Bucket(scope.name(base), { tags }, scope.opts(base));
    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(scope.name(base), {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
    }, scope.opts(base));
    new aws.s3.BucketOwnershipControls(scope.name(base), {
        bucket: bucket.id,
        rule: { objectOwnership: "BucketOwnerEnforced" },
    }, scope.opts(base));
    new aws.s3.BucketServerSideEncryptionConfiguration(scope.name(base), {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    }, scope.opts(base));
    // After the public access block: S3 refuses concurrent changes to a bucket's access settings.
    new aws.s3.BucketPolicy(scope.name(base), {
        bucket: bucket.id,
        policy: bucket.arn.apply((arn) => JSON.stringify(denyInsecureTransportPolicy(arn))),
    }, scope.opts(base, { dependsOn: [publicAccessBlock] }));
    return bucket.bucket;
}

/**
 * Publishes the package in `scope`'s region. A changed zip gets a new name, so its object is
 * replaced: Pulumi creates the new object, updates the document (Distributor copies the files at
 * that moment), and only then deletes the old object.
 * @param shareWith the accounts the document is shared with.
 * @throws pulumi.ResourceError naming `args.bucketName` when the bucket name does not fit the
 *   region, or when a group's zips differ (a release between two downloads: run again).
 */
export function publishRegion(component: pulumi.ComponentResource, name: string, cfg: ResolvedPackageArgs, scope: RegionScope, artifacts: readonly UptycsAgentArtifact[],
    contentManifest: pulumi.Output<DistributorManifest>, shareWith: pulumi.Output<string[]>): PublishedDocument {
    const region = scope.region;
    const regionCount = cfg.regions?.length ?? 1;
    const bucketName = cfg.bucketName !== undefined
        ? pulumi.all([cfg.bucketName, region]).apply(([b, region]) => {
            try {
                return bucketNameFor(b, region, regionCount);
            } catch (e) {
                throw new pulumi.ResourceError(`args.bucketName ${(e as Error).message}`, component);
            }
        })
        : createPrivateBucket(`${name}-bucket`, { ...cfg.tags }, scope);

    // One object per distinct zip: the entries of a group share its bytes and its name. The
    // per-entry objects of older stacks are deleted at the end of the update, after the
    // document took the new files, and never under a key a group object uses (another name).
    const zipObjects = [...groupArtifacts(cfg, artifacts)].map(([group, members]) => new aws.s3.BucketObjectv2(scope.name(`${name}-${group}-zip`), {
        bucket: bucketName,
        key: pulumi.all(members.map((a) => a.zipFileName)).apply((names) => {
            if (new Set(names).size !== 1) {
                throw new pulumi.ResourceError(`the zips of group ${group} differ (${names.join(", ")}); run again`, component);
            }
            return `${S3_PREFIX}/${names[0]}`;
        }),
        // Built only once the zip exists: the engine hashes a FileAsset when it is registered.
        source: members[0].zipPath.apply((p) => new pulumi.asset.FileAsset(p)),
        contentType: "application/zip",
        tags: { ...cfg.tags },
    }, scope.opts(`${name}-${group}-zip`)));

    const accountId = scope.accountId;
    // The explicit provider's credentials, when the component was given them (a secret).
    const credentials = cfg.aws.explicit ? cfg.aws.settings : undefined;
    // Content published before and replaced since (a sensor-only switch flipped back) cannot
    // reuse its VersionName: the package's history in this region decides the final name.
    const versionName = new PackageVersionName(scope.name(`${name}-version`), {
        packageName: cfg.packageName,
        contentVersion: contentManifest.version,
        overrideManualRollback: cfg.overrideManualRollback,
        region,
        accountId,
        credentials,
    }, scope.opts(`${name}-version`)).versionName;
    const manifestText = pulumi.all([contentManifest, versionName]).apply(([m, version]) => manifestJson({ ...m, version }));

    const manifestObject = new aws.s3.BucketObjectv2(scope.name(`${name}-manifest`), {
        bucket: bucketName,
        key: `${S3_PREFIX}/manifest.json`,
        content: manifestText,
        contentType: "application/json",
        tags: { ...cfg.tags },
    }, scope.opts(`${name}-manifest`));

    const document = new aws.ssm.Document(scope.name(`${name}-document`), {
        name: cfg.packageName,
        documentType: "Package",
        documentFormat: "JSON",
        content: manifestText,
        versionName,
        attachmentsSources: [{ key: "SourceUrl", values: [pulumi.interpolate`s3://${bucketName}/${S3_PREFIX}`] }],
        permissions: shareWith.apply((ids) => (ids.length > 0 ? { type: "Share", accountIds: ids.join(",") } : undefined)),
        tags: { ...cfg.tags },
    }, scope.opts(`${name}-document`, { dependsOn: [...zipObjects, manifestObject] }));
    const documentVersion = document.versionName.apply((v) => v ?? "");

    new DistributorVersionPruner(scope.name(`${name}-prune`), {
        packageName: document.name,
        documentVersion,
        keepVersions: cfg.keepVersions,
        region,
        accountId,
        credentials,
    }, scope.opts(`${name}-prune`));

    return { document, documentVersion, bucketName };
}
