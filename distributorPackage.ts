/**
 * `UptycsDistributorPackage`: the Uptycs agent as an AWS Systems Manager Distributor package.
 *
 * The steps of a publish, each in a module of its own under `component/`:
 * 1. `artifacts`: one `UptycsAgentArtifact` (zip) per mapping entry, built once whatever the
 *    regions, and the Distributor manifest of their zips;
 * 2. `organization` (`shareWith`): the accounts the package is shared with;
 * 3. `regionScope`: each region's provider, account and resource names;
 * 4. `publishRegion`: in each region, the bucket, one S3 object per distinct zip and the manifest
 *    under `uptycs/`, the VersionName the package's history allows, the `Package` document and
 *    its pruner;
 * 5. `stagedRollout`: in each region, the rings (association and gate each), the fleet
 *    association and the one-time Run Command;
 * 6. `organization` (`rollOutToOrganization`): the StackSet installing the package in every
 *    account of the OUs.
 * docs/architecture.md follows one mapping entry through them.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { buildArtifacts, contentManifestOf } from "./component/artifacts";
import { rollOutToOrganization, shareWith } from "./component/organization";
import { publishRegion } from "./component/publishRegion";
import { providerScope, regionScope } from "./component/regionScope";
import { installRegion, RegionInstall, RegionRollout } from "./component/stagedRollout";
import { isKnown, KnownPackageArgs, SHAPING_ARGUMENTS, UptycsDistributorPackageArgs } from "./packageArgs";
import { Build, buildOf } from "./platforms/coverage";
import { AgentMappingEntry, versionKey } from "./platforms/mapping";
import { stagesOverlappingFleet } from "./platforms/rollout";
import { ArgumentError, isArgumentError, ResolvedPackageArgs, resolvePackageArgs } from "./resolvePackageArgs";

export { S3_PREFIX } from "./component/publishRegion";
export { RegionRollout, StageRollout } from "./component/stagedRollout";

/**
 * The component's type token, `<package>:index:<class>`: the one the component provider host
 * serves it under to programs in other languages (the package is package.json's `name`).
 */
export const COMPONENT_TYPE = "uptycs-distributor:index:UptycsDistributorPackage";

/** Its type token before it was served to other languages: existing stacks keep their component through an alias. */
export const LEGACY_COMPONENT_TYPE = "uptycs:index:DistributorPackage";

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
    /** With `association`: the fleet association's name, whose targets the coverage report (`npm run coverage`) reads. */
    readonly fleetAssociation?: string;
}

/** The component's outputs, as {@link UptycsDistributorPackage} exposes them. */
interface PackageOutputs {
    readonly packageName: pulumi.Output<string>;
    readonly documentVersion: pulumi.Output<string>;
    readonly agentVersion: pulumi.Output<string>;
    readonly agentBuild: pulumi.Output<Build>;
    readonly bucketName: pulumi.Output<string>;
    readonly zips: pulumi.Output<Record<string, string>>;
    readonly regions: pulumi.Output<Record<string, PublishedRegion>>;
    readonly rollout: pulumi.Output<Record<string, RegionRollout>>;
}

/** What the package is in one region. */
export interface RegionalPackage extends RegionInstall {
    /** The `Package` document's ARN. */
    readonly documentArn: pulumi.Output<string>;
    /** Its default version (VersionName). */
    readonly documentVersion: pulumi.Output<string>;
    /** The bucket holding the zips and the manifest. */
    readonly bucketName: pulumi.Output<string>;
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
    /**
     * The agent build published: `protect` (Uptycs Protect) or `sensor-only` (a `Build`; a string
     * here, as the schema served to other languages has no union types).
     */
    public readonly agentBuild: pulumi.Output<string>;
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
                agentVersion: built.apply((o) => o.agentVersion), agentBuild: built.apply((o) => o.agentBuild), bucketName: built.apply((o) => o.bucketName),
                zips: built.apply((o) => o.zips), regions: built.apply((o) => o.regions), rollout: built.apply((o) => o.rollout),
            };
        }
        this.packageName = outputs.packageName;
        this.documentVersion = outputs.documentVersion;
        this.agentVersion = outputs.agentVersion;
        this.agentBuild = outputs.agentBuild;
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

    /** Everything of the package, from arguments whose shaping values are known: the steps of a publish. */
    private build(name: string, args: KnownPackageArgs, explicitProvider: boolean): PackageOutputs {
        let cfg: ResolvedPackageArgs;
        try {
            cfg = resolvePackageArgs(args, { explicitProvider, errorOf: (e) => this.argumentError(e) });
        } catch (e) {
            throw isArgumentError(e) ? this.argumentError(e) : new pulumi.ResourceError((e as Error).message, this);
        }

        // Region-independent: the zips, built once however many regions publish them, and their manifest.
        const artifacts = buildArtifacts(this, name, cfg, LEGACY_COMPONENT_NAME);
        const contentManifest = contentManifestOf(this, cfg, artifacts);

        // The account the component's aws provider deploys to: the package-version resources,
        // which call AWS themselves, refuse to read or delete anything in another; the
        // organization's members install the package shared from it.
        const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const sharedWith = shareWith(this, cfg, accountId);

        // Each region: publish the document, then install it ring by ring and on the fleet.
        const scopes = cfg.regions === undefined
            ? [providerScope(this, cfg, explicitProvider, accountId)]
            : cfg.regions.map((region) => regionScope(this, name, cfg, region));
        for (const warning of cfg.association === undefined ? [] : stagesOverlappingFleet(cfg.association)) {
            void pulumi.log.warn(warning, this);
        }
        const published: RegionalPackage[] = scopes.map((scope) => {
            const document = publishRegion(this, name, cfg, scope, artifacts, contentManifest, sharedWith);
            const installed = installRegion(this, name, cfg, scope, document);
            return { documentArn: document.document.arn, documentVersion: document.documentVersion, bucketName: document.bucketName, ...installed };
        });

        // The organization's accounts, by region name where names are known (`regions`, or the default provider's aws:region).
        if (cfg.organization !== undefined) {
            const regionNames = cfg.regions ?? (cfg.region === undefined ? [] : [cfg.region]);
            rollOutToOrganization(this, name, cfg, accountId, Object.fromEntries(regionNames.map((r, i) => [r, published[i].fleetVersion])));
        }

        return {
            packageName: pulumi.output(cfg.packageName),
            documentVersion: published[0].documentVersion,
            agentVersion: artifacts[0].version,
            agentBuild: pulumi.output(cfg.sensorOnly).apply(buildOf),
            bucketName: published[0].bucketName,
            zips: pulumi.all(artifacts.map((a) => a.zipFileName)).apply((names) => Object.fromEntries(names.map((n, i) => [targetOf(cfg.entries[i]), n]))),
            regions: pulumi.all(published.map((p, i) => pulumi.all([scopes[i].region, p.documentArn, p.documentVersion, p.bucketName, p.fleetAssociation]))).apply((rows) =>
                Object.fromEntries(rows.map(([region, documentArn, documentVersion, bucketName, fleetAssociation]) =>
                    [region, { documentArn, documentVersion, bucketName, ...(fleetAssociation === undefined ? {} : { fleetAssociation }) }]))),
            rollout: pulumi.all(published.map((p, i) => pulumi.all([scopes[i].region, p.rollout]))).apply((rows) =>
                Object.fromEntries(rows.filter((row): row is [string, RegionRollout] => row[1] !== undefined))),
        };
    }
}
