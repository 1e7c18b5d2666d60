/**
 * `UptycsDistributorPackage`: the Uptycs agent as an AWS Systems Manager Distributor package.
 *
 * One {@link UptycsAgentArtifact} (zip) per mapping entry, built once whatever the regions. Then
 * in each region: one S3 object per zip and one for `manifest.json` under the `uptycs/` prefix,
 * and the `Package` SSM document whose content is the manifest and whose attachment source is
 * that prefix (AWS Distributor: "Create a package (advanced)"); entries whose zips are
 * byte-identical share one object and one manifest file. A changed zip gets a new name, so
 * its object is replaced: Pulumi creates the new object, updates the document (Distributor copies
 * the files at that moment), and only then deletes the old object.
 *
 * Optionally, for an AWS Organization: the package is shared with every account of some OUs, and
 * a service-managed CloudFormation StackSet puts a State Manager association installing it into
 * each of those accounts and regions (AWS CloudFormation, "StackSets concepts").
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
    ArgumentError, isArgumentError, isKnown, KnownPackageArgs, ResolvedPackageArgs, resolvePackageArgs, SHAPING_ARGUMENTS, UptycsDistributorPackageArgs,
} from "./packageArgs";
import { denyInsecureTransportPolicy } from "./platforms/bucketPolicy";
import { buildManifest, DistributorManifest, manifestJson, PackageZip, zipGroupOf } from "./platforms/manifest";
import { AgentMappingEntry, entryFamily, versionKey } from "./platforms/mapping";
import { bucketNameFor, organizationTemplate, VERSION_PARAMETER } from "./platforms/organization";
import {
    AssociationSettings, configurePackageParameters, parseShareAccounts, sendCommandInput, shareAccountIds, ssmTargets, stagesOverlappingFleet,
} from "./platforms/rollout";
import { scriptTemplates } from "./platforms/scripts";
import { awsCliEnvironmentFor } from "./providers/awsCredentials";
import { UptycsAgentArtifact } from "./providers/uptycsAgentArtifact";
import { DistributorVersionPruner, PackageVersionName } from "./providers/packageVersions";
import { RolloutGate } from "./providers/rolloutGate";

/**
 * The component's type token, `<package>:index:<class>`: the one the component provider host
 * serves it under to programs in other languages (the package is package.json's `name`).
 */
export const COMPONENT_TYPE = "uptycs-distributor:index:UptycsDistributorPackage";

/** Its type token before it was served to other languages: existing stacks keep their component through an alias. */
export const LEGACY_COMPONENT_TYPE = "uptycs:index:DistributorPackage";

/** The S3 prefix (folder) that holds the zips and the manifest: the document's SourceUrl. */
export const S3_PREFIX = "uptycs";

/**
 * The component name this project's program uses. Its artifacts and zip objects were named
 * after the mapping `dir` alone before names carried the component's name: a component of this
 * name keeps those resources through aliases (only one component of a program can, as two with
 * the same alias would collide).
 */
export const LEGACY_COMPONENT_NAME = "uptycs";

/** `platform/version/arch`, the key of an entry in the manifest and in the `zips` output. */
export function targetOf(entry: AgentMappingEntry): string {
    return `${entry.name}/${versionKey(entry)}/${entry.arch_type}`;
}

/** One region the package is published in, as the `regions` output lists it. */
export interface PublishedRegion {
    /** The `Package` document's ARN. */
    readonly documentArn: string;
    /** Its default version (VersionName). */
    readonly documentVersion: string;
    /** The bucket holding the zips and the manifest. */
    readonly bucketName: string;
}

/** The component's outputs, as {@link UptycsDistributorPackage} exposes them. */
interface PackageOutputs {
    readonly packageName: pulumi.Output<string>;
    readonly documentVersion: pulumi.Output<string>;
    readonly agentVersion: pulumi.Output<string>;
    readonly bucketName: pulumi.Output<string>;
    readonly zips: pulumi.Output<Record<string, string>>;
    readonly regions: pulumi.Output<Record<string, PublishedRegion>>;
    readonly rollout: pulumi.Output<Record<string, RegionRollout>>;
}

/** What one ring's gate saw, as the `rollout` output lists it. */
export interface StageRollout {
    /** The stage name. */
    readonly name: string;
    /** The version its association is pinned to. */
    readonly version: string;
    /** Instances whose run ended in Success. */
    readonly succeeded: number;
    /** Instances whose run ended otherwise (Failed, TimedOut, …). */
    readonly failed: number;
    /** Instances the run reached. */
    readonly total: number;
}

/** A region's staged rollout, as the `rollout` output lists it. */
export interface RegionRollout {
    /** The rings, in order, each with what its gate saw. */
    readonly stages: StageRollout[];
    /** The version the fleet association (and an organization's StackSet) is pinned to: the last ring's approved one. */
    readonly fleetVersion: string;
}

/** What the package is in one region. */
export interface RegionalPackage {
    /** The `Package` document's ARN. */
    readonly documentArn: pulumi.Output<string>;
    /** Its default version (VersionName). */
    readonly documentVersion: pulumi.Output<string>;
    /** The bucket holding the zips and the manifest. */
    readonly bucketName: pulumi.Output<string>;
    /** The version the fleet gets: the published one, or with `association.stages` the one the last ring proved. */
    readonly fleetVersion: pulumi.Output<string>;
    /** With `association`: the rings and the fleet's version. */
    readonly rollout?: pulumi.Output<RegionRollout>;
}

/**
 * Where one region's resources go. Without `regions` in the config: today's names and the
 * default provider, so existing stacks see no change. With it: names end in `-<region>`, each
 * region has an explicit `aws.Provider`, and the stack's own region keeps today's names as aliases.
 */
interface RegionScope {
    /** The region: with `regions`, as listed; else the region of the component's aws provider. */
    readonly region: pulumi.Output<string>;
    /** The region's explicit provider; undefined: the component's provider (explicit or default). */
    readonly provider?: aws.Provider;
    /** The account the region's provider deploys to. */
    readonly accountId: pulumi.Output<string>;
    name(base: string): string;
    /**
     * Options of the AWS resource named after `base`, with an alias from the name it had: `base`
     * without the region suffix in the stack's own region.
     */
    opts(base: string, extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions;
    aliases(base: string): pulumi.Alias[];
}

/** The artifacts by the zip they share (`zipGroupOf`), in mapping order. */
function groupArtifacts(cfg: ResolvedPackageArgs, artifacts: readonly UptycsAgentArtifact[]): Map<string, UptycsAgentArtifact[]> {
    const groups = new Map<string, UptycsAgentArtifact[]>();
    cfg.entries.forEach((entry, i) => {
        const group = zipGroupOf(entry, cfg.installerSource);
        groups.set(group, [...(groups.get(group) ?? []), artifacts[i]]);
    });
    return groups;
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
 * The Uptycs agent as an AWS Systems Manager Distributor package: one zip per agent mapping entry,
 * the Distributor manifest, and the `Package` SSM document in each region, optionally installed by
 * State Manager, Run Command, or across an AWS Organization. Provider settings: `uptycs:apiKey`
 * (secret) or `uptycs:apiKeyFile`, `uptycs:requestTimeout`, `uptycs:requestRetries`, `uptycs:requestBackoff`.
 */
export class UptycsDistributorPackage extends pulumi.ComponentResource {
    /** The Distributor package (SSM document) name. */
    public readonly packageName: pulumi.Output<string>;
    /** The default version (= manifest `version`) in the first region: `<agent version>-<8 hex of content>`. */
    public readonly documentVersion: pulumi.Output<string>;
    /** The agent version published, e.g. `5.14.2.21`. */
    public readonly agentVersion: pulumi.Output<string>;
    /** The bucket holding the zips and the manifest in the first region. */
    public readonly bucketName: pulumi.Output<string>;
    /** `platform/version/arch` → zip file name. */
    public readonly zips: pulumi.Output<Record<string, string>>;
    /** Region → the document's ARN, its default version and the bucket, for every region published in. */
    public readonly regions: pulumi.Output<Record<string, PublishedRegion>>;
    /**
     * Region → the staged rollout (`association`): each ring's version and what its gate saw
     * (succeeded, failed, total), and the fleet association's version. Empty without `association`.
     */
    public readonly rollout: pulumi.Output<Record<string, RegionRollout>>;

    /**
     * Arguments may be outputs: those that shape the package (see `SHAPING_ARGUMENTS`) are
     * validated, and the resources registered, once their values are known.
     * @throws pulumi.ResourceError naming the argument (`args.<name>`) or stack config key
     *   (`aws:region`, `aws:assumeRoles`, …) whose value is wrong.
     */
    constructor(name: string, args: UptycsDistributorPackageArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
        super(COMPONENT_TYPE, name, {}, { ...opts, aliases: [...(opts.aliases ?? []), { type: LEGACY_COMPONENT_TYPE }] });
        // The aws provider the component was given (`provider`, `providers`, or a parent's): its
        // region and account are where everything of the package goes and is looked at.
        const explicitProvider = this.getProvider("aws:index:getRegion") !== undefined;
        const shaping = Object.fromEntries(SHAPING_ARGUMENTS.filter((k) => args[k] !== undefined).map((k) => [k, args[k]]));
        let outputs: PackageOutputs;
        if (isKnown(shaping)) {
            outputs = this.build(name, args as KnownPackageArgs, explicitProvider);
        } else {
            // Outputs of other resources, or inputs a program in another language sent as outputs.
            const built = pulumi.output(shaping).apply((known) => this.build(name, { ...args, ...known } as KnownPackageArgs, explicitProvider));
            outputs = {
                packageName: built.apply((o) => o.packageName), documentVersion: built.apply((o) => o.documentVersion),
                agentVersion: built.apply((o) => o.agentVersion), bucketName: built.apply((o) => o.bucketName),
                zips: built.apply((o) => o.zips), regions: built.apply((o) => o.regions), rollout: built.apply((o) => o.rollout),
            };
        }
        this.packageName = outputs.packageName;
        this.documentVersion = outputs.documentVersion;
        this.agentVersion = outputs.agentVersion;
        this.bucketName = outputs.bucketName;
        this.zips = outputs.zips;
        this.regions = outputs.regions;
        this.rollout = outputs.rollout;
        this.registerOutputs({ ...outputs });
    }

    /** A bad argument as this component's error, named as the user wrote it. */
    private argumentError(e: ArgumentError): pulumi.ResourceError {
        return new pulumi.ResourceError(`${e.argument.includes(":") ? `config ${e.argument}` : `args.${e.argument}`} ${e.message}`, this);
    }

    /** Everything of the package, from arguments whose shaping values are known. */
    private build(name: string, args: KnownPackageArgs, explicitProvider: boolean): PackageOutputs {
        let cfg: ResolvedPackageArgs;
        try {
            cfg = resolvePackageArgs(args, { explicitProvider, errorOf: (e) => this.argumentError(e) });
        } catch (e) {
            throw isArgumentError(e) ? this.argumentError(e) : new pulumi.ResourceError((e as Error).message, this);
        }
        const legacy = name === LEGACY_COMPONENT_NAME;

        // Region-independent: built once, however many regions publish them.
        const artifacts = cfg.entries.map((entry) => new UptycsAgentArtifact(`${name}-${entry.dir}`, {
            entry,
            agentVersion: cfg.agentVersion,
            sensorOnly: cfg.sensorOnly,
            installerSource: cfg.installerSource,
            installerDir: cfg.installerDir,
            packageName: cfg.packageName,
            scripts: scriptTemplates(entryFamily(entry), cfg.packageName, cfg.healthCheck),
            buildDir: cfg.buildDir,
            apiKey: cfg.apiKey,
        }, { parent: this, aliases: legacy ? [{ name: entry.dir }] : [] }));
        const zipFacts = pulumi.all(artifacts.map((a) => pulumi.all([a.version, a.zipFileName, a.zipSha256, a.zipSize])));
        const contentManifest = pulumi.all([zipFacts, cfg.sensorOnly]).apply(([facts, sensorOnly]) => {
            const versions = [...new Set(facts.map(([v]) => v))];
            if (versions.length !== 1) {
                throw new pulumi.ResourceError(`the artifacts resolved different agent versions (${versions.join(", ")}); run again`, this);
            }
            const zips: PackageZip[] = facts.map(([, zipFileName, zipSha256, zipSize], i) => ({ entry: cfg.entries[i], zipFileName, zipSha256, zipSize }));
            try {
                return buildManifest(zips, { agentVersion: versions[0], sensorOnly });
            } catch (e) {
                throw new pulumi.ResourceError((e as Error).message, this);
            }
        });

        // The account the component's aws provider deploys to: the package-version resources,
        // which call AWS themselves, refuse to read or delete anything in another; the
        // organization's members install the package shared from it.
        const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const shareWith = this.shareWith(cfg, accountId);

        const scopes = cfg.regions === undefined
            ? [this.providerScope(cfg, explicitProvider, accountId)]
            : cfg.regions.map((region) => this.regionScope(name, cfg, region));
        for (const warning of cfg.association === undefined ? [] : stagesOverlappingFleet(cfg.association)) {
            void pulumi.log.warn(warning, this);
        }
        const published = scopes.map((scope) => this.publish(name, cfg, scope, artifacts, contentManifest, shareWith));
        // By region name where names are known (`regions`, or the default provider's aws:region).
        const byRegion = Object.fromEntries((cfg.regions ?? (cfg.region === undefined ? [] : [cfg.region])).map((r, i) => [r, published[i]]));

        if (cfg.organization !== undefined) {
            this.rollOutToOrganization(name, cfg, accountId, byRegion);
        }

        return {
            packageName: pulumi.output(cfg.packageName),
            documentVersion: published[0].documentVersion,
            agentVersion: artifacts[0].version,
            bucketName: published[0].bucketName,
            zips: pulumi.all(artifacts.map((a) => a.zipFileName)).apply((names) => Object.fromEntries(names.map((n, i) => [targetOf(cfg.entries[i]), n]))),
            regions: pulumi.all(published.map((p, i) => pulumi.all([scopes[i].region, p.documentArn, p.documentVersion, p.bucketName]))).apply((rows) =>
                Object.fromEntries(rows.map(([region, documentArn, documentVersion, bucketName]) => [region, { documentArn, documentVersion, bucketName }]))),
            rollout: pulumi.all(published.map((p, i) => pulumi.all([scopes[i].region, p.rollout]))).apply((rows) =>
                Object.fromEntries(rows.filter((row): row is [string, RegionRollout] => row[1] !== undefined))),
        };
    }

    /**
     * The one region of a component without `regions`: its provider's (explicit: asked with
     * `aws.getRegion` through it; default: `aws:region`), under names without a region suffix.
     */
    private providerScope(cfg: ResolvedPackageArgs, explicitProvider: boolean, accountId: pulumi.Output<string>): RegionScope {
        const region = explicitProvider ? aws.getRegionOutput({}, { parent: this }).region : pulumi.output(cfg.region!);
        const aliases = (): pulumi.Alias[] => [];
        return {
            region,
            accountId,
            name: (base) => base,
            opts: (_base, extra) => ({ parent: this, ...extra }),
            aliases,
        };
    }

    /**
     * One of `regions`: an explicit provider with the component's AWS settings (`awsCredentials`,
     * else the stack's `aws:` config) in `region`; names end in `-<region>`.
     */
    private regionScope(name: string, cfg: ResolvedPackageArgs, region: string): RegionScope {
        const provider = new aws.Provider(`${name}-${region}`, { ...cfg.awsProviderArgs, region }, { parent: this });
        const home = region === cfg.region;
        const aliases = (base: string): pulumi.Alias[] => (home ? [{ name: base }] : []);
        return {
            region: pulumi.output(region),
            provider,
            accountId: aws.getCallerIdentityOutput({}, { parent: this, provider }).accountId,
            name: (base) => `${base}-${region}`,
            opts: (base, extra) => ({ parent: this, provider, aliases: aliases(base), ...extra }),
            aliases,
        };
    }

    /**
     * The accounts the package is shared with: `shareWithAccounts`, plus with an organization every
     * active account under its OUs, but never the publishing account; at most 1000.
     */
    private shareWith(cfg: ResolvedPackageArgs, accountId: pulumi.Output<string>): pulumi.Output<string[]> {
        const ous = cfg.organization?.organizationalUnitIds ?? [];
        const members = ous.map((parentId) => aws.organizations.getOrganizationalUnitDescendantAccountsOutput({ parentId }, { parent: this }).accounts);
        return pulumi.all([accountId, pulumi.all(members), pulumi.output(cfg.shareWithAccounts)]).apply(([own, lists, listed]) => {
            let shared: string[];
            try {
                shared = parseShareAccounts(listed);
            } catch (e) {
                throw new pulumi.ResourceError(`args.shareWithAccounts ${(e as Error).message}`, this);
            }
            try {
                return shareAccountIds(shared, lists.flat(), own);
            } catch (e) {
                throw new pulumi.ResourceError(`config ${(e as Error).message}`, this);
            }
        });
    }

    /** Everything of the package in one region: bucket, objects, manifest, document, upkeep, install. */
    private publish(name: string, cfg: ResolvedPackageArgs, scope: RegionScope, artifacts: readonly UptycsAgentArtifact[], contentManifest: pulumi.Output<DistributorManifest>,
        shareWith: pulumi.Output<string[]>): RegionalPackage {
        const region = scope.region;
        const regionCount = cfg.regions?.length ?? 1;
        const bucketName = cfg.bucketName !== undefined
            ? pulumi.all([cfg.bucketName, region]).apply(([b, region]) => {
                try {
                    return bucketNameFor(b, region, regionCount);
                } catch (e) {
                    throw new pulumi.ResourceError(`args.bucketName ${(e as Error).message}`, this);
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
                    throw new pulumi.ResourceError(`the zips of group ${group} differ (${names.join(", ")}); run again`, this);
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
        // The document's VersionName output: whatever follows waits for the new default version.
        const documentVersion = document.versionName.apply((v) => v ?? "");

        new DistributorVersionPruner(scope.name(`${name}-prune`), {
            packageName: document.name,
            documentVersion,
            keepVersions: cfg.keepVersions,
            region,
            accountId,
            credentials,
        }, scope.opts(`${name}-prune`));

        // Each ring's association is pinned to what the ring before it proved (the first to the
        // published version), and the fleet's to what the last ring proved.
        let fleetVersion = documentVersion;
        let rollout: pulumi.Output<RegionRollout> | undefined;
        if (cfg.association !== undefined) {
            const a = cfg.association;
            const stages: pulumi.Output<StageRollout>[] = [];
            for (const stage of a.stages) {
                const settings = { targets: stage.targets, maxConcurrency: stage.maxConcurrency, maxErrors: stage.maxErrors };
                const association = this.association(cfg, scope, `${name}-association-${stage.name}`, pulumi.interpolate`${document.name}-install-${stage.name}`, fleetVersion, settings);
                const gate = new RolloutGate(scope.name(`${name}-gate-${stage.name}`), {
                    stage: stage.name,
                    packageName: cfg.packageName,
                    associationId: association.associationId,
                    version: fleetVersion,
                    associationSettings: JSON.stringify({ scheduleExpression: a.scheduleExpression, installationType: a.installationType, complianceSeverity: a.complianceSeverity, ...settings }),
                    minSuccessPercent: stage.minSuccessPercent,
                    minTargets: stage.minTargets,
                    timeoutMinutes: stage.timeoutMinutes,
                    region,
                    accountId,
                    credentials,
                }, scope.opts(`${name}-gate-${stage.name}`));
                stages.push(pulumi.all([fleetVersion, gate.succeeded, gate.failed, gate.total])
                    .apply(([version, succeeded, failed, total]) => ({ name: stage.name, version, succeeded, failed, total })));
                fleetVersion = gate.approvedVersion;
            }
            this.association(cfg, scope, `${name}-association`, pulumi.interpolate`${document.name}-install`, fleetVersion, a);
            rollout = pulumi.all([pulumi.all(stages), fleetVersion]).apply(([stages, fleetVersion]) => ({ stages, fleetVersion }));
        }

        // A one-time install goes out with the fleet's version: with rings, only once they proved it.
        if (cfg.installOnPublish !== undefined) {
            const settings = cfg.installOnPublish;
            // The CLI gets the component's AWS credentials (profile, files, keys; roles assumed
            // here), secrets as Pulumi secrets. Assuming roles calls STS, so not during preview.
            const cliCredentials = pulumi.all([cfg.aws.settings, region]).apply(([aws, region]) => (pulumi.runtime.isDryRun() && aws.assumeRoles.length > 0
                ? undefined
                : awsCliEnvironmentFor(aws, region)));
            // Values reach the AWS CLI through the environment, never through shell parsing.
            new command.local.Command(scope.name(`${name}-install-on-publish`), {
                create: 'aws ssm send-command --region "$UPTYCS_REGION" --cli-input-json "$UPTYCS_SEND_COMMAND" --output text --query Command.CommandId',
                // Only a new version (triggers: replace) installs; fresh role credentials alone do not.
                update: "true",
                environment: pulumi.all([cliCredentials, fleetVersion, region]).apply(([c, v, region]): pulumi.Output<Record<string, string>> => {
                    const env: Record<string, string> = { UPTYCS_REGION: region, UPTYCS_SEND_COMMAND: sendCommandInput(cfg.packageName, v, settings), ...c?.plain, ...c?.secret };
                    return Object.keys(c?.secret ?? {}).length > 0 ? pulumi.secret(env) : pulumi.output(env);
                }),
                triggers: [fleetVersion],
            }, { parent: this, dependsOn: [document], aliases: scope.aliases(`${name}-install-on-publish`) });
        }

        return { documentArn: document.arn, documentVersion, bucketName, fleetVersion, rollout };
    }

    /**
     * An association of `AWS-ConfigureAWSPackage` installing `version`: pinning the version makes
     * each new one update the association, and an updated association runs at once on its targets.
     * `settings`: the targets and rate controls (the fleet's, or a ring's); schedule,
     * installationType and compliance severity are the fleet's.
     */
    private association(cfg: ResolvedPackageArgs, scope: RegionScope, base: string, associationName: pulumi.Output<string>, version: pulumi.Output<string>,
        settings: Pick<AssociationSettings, "targets" | "maxConcurrency" | "maxErrors">): aws.ssm.Association {
        const a = cfg.association!;
        return new aws.ssm.Association(scope.name(base), {
            name: "AWS-ConfigureAWSPackage",
            associationName,
            parameters: version.apply((v) => configurePackageParameters(cfg.packageName, v, a.installationType)),
            targets: ssmTargets(settings.targets),
            scheduleExpression: a.scheduleExpression,
            applyOnlyAtCronInterval: false,
            maxConcurrency: settings.maxConcurrency,
            maxErrors: settings.maxErrors,
            complianceSeverity: a.complianceSeverity,
            tags: { ...cfg.tags },
        }, scope.opts(base));
    }

    /**
     * A service-managed StackSet (auto-deployment on) whose template installs the package in
     * every account of the OUs, one stack instance per region over all the OUs. The fleet's
     * version (the published VersionName, or with `association.stages` the one the last ring
     * proved) is a StackSet parameter: each new one updates the StackSet, and so the
     * associations, which run again. A region whose VersionName differs (its own history) gets it
     * as a parameter override.
     */
    private rollOutToOrganization(name: string, cfg: ResolvedPackageArgs, accountId: pulumi.Output<string>, byRegion: Record<string, RegionalPackage>): void {
        const org = cfg.organization!;
        const preferences = {
            maxConcurrentPercentage: org.preferences.maxConcurrentPercentage,
            failureTolerancePercentage: org.preferences.failureTolerancePercentage,
            regionConcurrencyType: org.preferences.regionConcurrencyType,
        };
        // The first region's fleet version (with rings, what its last ring proved), once every
        // region's rings passed: a region whose ring failed must not get it through the StackSet.
        const version = pulumi.all(org.regions.map((r) => byRegion[r].fleetVersion)).apply((versions) => versions[0]);
        const stackSet = new aws.cloudformation.StackSet(`${name}-org`, {
            name: `${cfg.packageName}-install`,
            description: `Installs the Uptycs agent (Distributor package ${cfg.packageName}) in every account of ${org.organizationalUnitIds.join(", ")}`,
            permissionModel: "SERVICE_MANAGED",
            autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
            managedExecution: { active: true },
            callAs: org.callAs,
            operationPreferences: preferences,
            templateBody: accountId.apply((acct) => JSON.stringify(organizationTemplate(cfg.packageName, acct, org), null, 2)),
            parameters: { [VERSION_PARAMETER]: version },
            tags: { ...cfg.tags },
        }, { parent: this });
        for (const region of org.regions) {
            const own = byRegion[region].fleetVersion;
            new aws.cloudformation.StackSetInstance(`${name}-org-${region}`, {
                stackSetName: stackSet.name,
                stackSetInstanceRegion: region,
                deploymentTargets: { organizationalUnitIds: [...org.organizationalUnitIds] },
                callAs: org.callAs,
                operationPreferences: preferences,
                parameterOverrides: pulumi.all([own, version]).apply(([v, common]) => (v === common ? undefined : { [VERSION_PARAMETER]: v })),
            }, { parent: this });
        }
    }
}
