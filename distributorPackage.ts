/**
 * `UptycsDistributorPackage`: the Uptycs agent as an AWS Systems Manager Distributor package.
 *
 * One {@link UptycsAgentArtifact} (zip) per mapping entry, one S3 object per zip and one for
 * `manifest.json` under the `uptycs/` prefix, and the `Package` SSM document whose content is the
 * manifest and whose attachment source is that prefix (AWS Distributor: "Create a package
 * (advanced)"). A changed zip gets a new name, so its object is replaced: Pulumi creates the new
 * object, updates the document (Distributor copies the files at that moment), and only then
 * deletes the old object.
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { DistributorConfig } from "./config";
import { buildManifest, manifestJson, PackageZip } from "./platforms/manifest";
import { AgentMappingEntry, versionKey } from "./platforms/mapping";
import { configurePackageParameters, sendCommandInput, ssmTargets } from "./platforms/rollout";
import { UptycsAgentArtifact } from "./providers/uptycsAgentArtifact";
import { DistributorVersionPruner, PackageVersionName } from "./providers/packageVersions";

/** The S3 prefix (folder) that holds the zips and the manifest: the document's SourceUrl. */
export const S3_PREFIX = "uptycs";

/** `platform/version/arch`, the key of an entry in the manifest and in the `zips` output. */
export function targetOf(entry: AgentMappingEntry): string {
    return `${entry.name}/${versionKey(entry)}/${entry.arch_type}`;
}

/**
 * A private bucket: public access blocked, bucket-owner-enforced ownership, SSE-S3 by default.
 * Installers embed the tenant's enrollment secret.
 */
function createPrivateBucket(name: string, tags: Record<string, string>, parent: pulumi.Resource): pulumi.Output<string> {
    const bucket = new aws.s3.Bucket(name, { tags }, { parent });
    new aws.s3.BucketPublicAccessBlock(name, {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
    }, { parent });
    new aws.s3.BucketOwnershipControls(name, {
        bucket: bucket.id,
        rule: { objectOwnership: "BucketOwnerEnforced" },
    }, { parent });
    new aws.s3.BucketServerSideEncryptionConfiguration(name, {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    }, { parent });
    return bucket.bucket;
}

/** The published package. */
export class UptycsDistributorPackage extends pulumi.ComponentResource {
    /** The Distributor package (SSM document) name. */
    public readonly packageName: pulumi.Output<string>;
    /** The document's default version (= manifest `version`): `<agent version>-<8 hex of content>`. */
    public readonly documentVersion: pulumi.Output<string>;
    /** The agent version published, e.g. `5.14.2.21`. */
    public readonly agentVersion: pulumi.Output<string>;
    /** The bucket holding the zips and the manifest. */
    public readonly bucketName: pulumi.Output<string>;
    /** `platform/version/arch` → zip file name. */
    public readonly zips: pulumi.Output<Record<string, string>>;
    /** The manifest JSON (also at `s3://<bucket>/uptycs/manifest.json`). */
    public readonly manifest: pulumi.Output<string>;
    public readonly artifacts: readonly UptycsAgentArtifact[];
    public readonly document: aws.ssm.Document;

    constructor(name: string, cfg: DistributorConfig, opts: pulumi.ComponentResourceOptions = {}) {
        super("uptycs:index:DistributorPackage", name, {}, opts);
        const bucketName = cfg.bucketName !== undefined ? pulumi.output(cfg.bucketName) : createPrivateBucket(`${name}-bucket`, { ...cfg.tags }, this);

        this.artifacts = cfg.entries.map((entry) => new UptycsAgentArtifact(entry.dir, {
            entry,
            agentVersion: cfg.agentVersion,
            sensorOnly: cfg.sensorOnly,
            installerSource: cfg.installerSource,
            installerDir: cfg.installerDir,
            packageName: cfg.packageName,
            buildDir: cfg.buildDir,
        }, { parent: this }));

        const zipObjects = this.artifacts.map((artifact, i) => new aws.s3.BucketObjectv2(`${cfg.entries[i].dir}-zip`, {
            bucket: bucketName,
            key: pulumi.interpolate`${S3_PREFIX}/${artifact.zipFileName}`,
            // Built only once the zip exists: the engine hashes a FileAsset when it is registered.
            source: artifact.zipPath.apply((p) => new pulumi.asset.FileAsset(p)),
            contentType: "application/zip",
            tags: { ...cfg.tags },
        }, { parent: this }));

        const zipFacts = pulumi.all(this.artifacts.map((a) => pulumi.all([a.version, a.zipFileName, a.zipSha256, a.zipSize])));
        const contentManifest = zipFacts.apply((facts) => {
            const versions = [...new Set(facts.map(([v]) => v))];
            if (versions.length !== 1) {
                throw new pulumi.ResourceError(`the artifacts resolved different agent versions (${versions.join(", ")}); run again`, this);
            }
            const zips: PackageZip[] = facts.map(([, zipFileName, zipSha256, zipSize], i) => ({ entry: cfg.entries[i], zipFileName, zipSha256, zipSize }));
            try {
                return buildManifest(zips, { agentVersion: versions[0], sensorOnly: cfg.sensorOnly });
            } catch (e) {
                throw new pulumi.ResourceError((e as Error).message, this);
            }
        });
        // Content published before and replaced since (a sensor-only switch flipped back) cannot
        // reuse its VersionName: the package's history decides the final name.
        const versionName = new PackageVersionName(`${name}-version`, {
            packageName: cfg.packageName,
            contentVersion: contentManifest.version,
            region: cfg.region,
        }, { parent: this }).versionName;
        const manifest = pulumi.all([contentManifest, versionName]).apply(([m, version]) => ({ ...m, version }));
        this.manifest = manifest.apply(manifestJson);

        const manifestObject = new aws.s3.BucketObjectv2(`${name}-manifest`, {
            bucket: bucketName,
            key: `${S3_PREFIX}/manifest.json`,
            content: this.manifest,
            contentType: "application/json",
            tags: { ...cfg.tags },
        }, { parent: this });

        this.document = new aws.ssm.Document(`${name}-document`, {
            name: cfg.packageName,
            documentType: "Package",
            documentFormat: "JSON",
            content: this.manifest,
            versionName: manifest.version,
            attachmentsSources: [{ key: "SourceUrl", values: [pulumi.interpolate`s3://${bucketName}/${S3_PREFIX}`] }],
            permissions: cfg.shareWithAccounts.length > 0 ? { type: "Share", accountIds: cfg.shareWithAccounts.join(",") } : undefined,
            tags: { ...cfg.tags },
        }, { parent: this, dependsOn: [...zipObjects, manifestObject] });
        // The document's VersionName output: whatever follows waits for the new default version.
        const published = this.document.versionName.apply((v) => v ?? "");

        new DistributorVersionPruner(`${name}-prune`, {
            packageName: this.document.name,
            documentVersion: published,
            keepVersions: cfg.keepVersions,
            region: cfg.region,
        }, { parent: this });

        if (cfg.association !== undefined) {
            const a = cfg.association;
            new aws.ssm.Association(`${name}-association`, {
                name: "AWS-ConfigureAWSPackage",
                associationName: pulumi.interpolate`${this.document.name}-install`,
                // Pinning the published version makes each publish update the association, and an
                // updated association runs at once on its targets.
                parameters: published.apply((v) => configurePackageParameters(cfg.packageName, v, a.installationType)),
                targets: ssmTargets(a.targets),
                scheduleExpression: a.scheduleExpression,
                applyOnlyAtCronInterval: false,
                maxConcurrency: a.maxConcurrency,
                maxErrors: a.maxErrors,
                complianceSeverity: a.complianceSeverity,
                tags: { ...cfg.tags },
            }, { parent: this });
        }

        if (cfg.installOnPublish !== undefined) {
            const settings = cfg.installOnPublish;
            // Values reach the AWS CLI through the environment, never through shell parsing.
            new command.local.Command(`${name}-install-on-publish`, {
                create: 'aws ssm send-command --region "$UPTYCS_REGION" --cli-input-json "$UPTYCS_SEND_COMMAND" --output text --query Command.CommandId',
                environment: {
                    UPTYCS_REGION: cfg.region,
                    UPTYCS_SEND_COMMAND: published.apply((v) => sendCommandInput(cfg.packageName, v, settings)),
                },
                triggers: [published],
            }, { parent: this, dependsOn: [this.document] });
        }

        this.packageName = this.document.name;
        this.documentVersion = manifest.version;
        this.agentVersion = this.artifacts[0].version;
        this.bucketName = bucketName;
        this.zips = pulumi.all(this.artifacts.map((a) => a.zipFileName)).apply((names) =>
            Object.fromEntries(names.map((n, i) => [targetOf(cfg.entries[i]), n])));
        this.registerOutputs({
            packageName: this.packageName, documentVersion: this.documentVersion, agentVersion: this.agentVersion,
            bucketName: this.bucketName, zips: this.zips,
        });
    }
}
