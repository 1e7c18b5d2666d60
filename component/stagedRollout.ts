/**
 * Installing the published package in one region: State Manager associations of
 * `AWS-ConfigureAWSPackage`, ring by ring behind a {@link RolloutGate} each, then the fleet's; and
 * the optional one-time Run Command (`aws ssm send-command`) with the fleet's version.
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ResolvedPackageArgs } from "../resolvePackageArgs";
import { buildOf } from "../platforms/coverage";
import { AssociationSettings, configurePackageParameters, sendCommandInput, ssmTargets } from "../platforms/rollout";
import { awsCliEnvironmentFor } from "../providers/awsCredentials";
import { RolloutGate } from "../providers/rolloutGate";
import { PublishedDocument } from "./publishRegion";
import { RegionScope } from "./regionScope";

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

/** Where the published version got to in one region. */
export interface RegionInstall {
    /** The version the fleet gets: the published one, or with `association.stages` the one the last ring proved. */
    readonly fleetVersion: pulumi.Output<string>;
    /** With `association`: the rings and the fleet's version. */
    readonly rollout?: pulumi.Output<RegionRollout>;
    /** With `association`: the fleet association's name (`<package>-install`), whose targets the coverage report reads. */
    readonly fleetAssociation?: pulumi.Output<string>;
}

/**
 * An association of `AWS-ConfigureAWSPackage` installing `version`: pinning the version makes
 * each new one update the association, and an updated association runs at once on its targets.
 * `settings`: the targets and rate controls (the fleet's, or a ring's); schedule,
 * installationType and compliance severity are the fleet's.
 */
function packageAssociation(cfg: ResolvedPackageArgs, scope: RegionScope, base: string, associationName: pulumi.Output<string>, version: pulumi.Output<string>,
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
 * The rings (each pinned to what the ring before it proved, the first to the published version,
 * and judged by its gate) and the fleet association pinned to what the last ring proved; without
 * `association`, none, and the fleet's version is the published one.
 */
function rollOutRings(name: string, cfg: ResolvedPackageArgs, scope: RegionScope, published: PublishedDocument): RegionInstall {
    const { document, documentVersion } = published;
    if (cfg.association === undefined) {
        return { fleetVersion: documentVersion };
    }
    const a = cfg.association;
    // The explicit provider's credentials, when the component was given them (a secret).
    const credentials = cfg.aws.explicit ? cfg.aws.settings : undefined;
    let fleetVersion = documentVersion;
    const stages: pulumi.Output<StageRollout>[] = [];
    for (const stage of a.stages) {
        const settings = { targets: stage.targets, maxConcurrency: stage.maxConcurrency, maxErrors: stage.maxErrors };
        const association = packageAssociation(cfg, scope, `${name}-association-${stage.name}`, pulumi.interpolate`${document.name}-install-${stage.name}`, fleetVersion, settings);
        const gate = new RolloutGate(scope.name(`${name}-gate-${stage.name}`), {
            stage: stage.name,
            packageName: cfg.packageName,
            associationId: association.associationId,
            version: fleetVersion,
            associationSettings: JSON.stringify({ scheduleExpression: a.scheduleExpression, installationType: a.installationType, complianceSeverity: a.complianceSeverity, ...settings }),
            minSuccessPercent: stage.minSuccessPercent,
            minTargets: stage.minTargets,
            timeoutMinutes: stage.timeoutMinutes,
            requireCheckIn: stage.requireCheckIn,
            build: pulumi.output(cfg.sensorOnly).apply(buildOf),
            // The component's own tenant key, only where a check-in reads the tenant (a secret).
            apiKey: stage.requireCheckIn ? cfg.apiKey : undefined,
            region: scope.region,
            accountId: scope.accountId,
            credentials,
        }, scope.opts(`${name}-gate-${stage.name}`));
        stages.push(pulumi.all([fleetVersion, gate.succeeded, gate.failed, gate.total])
            .apply(([version, succeeded, failed, total]) => ({ name: stage.name, version, succeeded, failed, total })));
        fleetVersion = gate.approvedVersion;
    }
    const fleetName = pulumi.interpolate`${document.name}-install`;
    const fleet = packageAssociation(cfg, scope, `${name}-association`, fleetName, fleetVersion, a);
    const rollout = pulumi.all([pulumi.all(stages), fleetVersion]).apply(([stages, fleetVersion]) => ({ stages, fleetVersion }));
    // Once the association exists: the report reads it by this name.
    return { fleetVersion, rollout, fleetAssociation: pulumi.all([fleet.associationName, fleetName]).apply(([made, wanted]) => made ?? wanted) };
}

/**
 * The one-time install (`installOnPublish`): `aws ssm send-command` with the fleet's version, so
 * with rings only once they proved it; only a new version runs it again.
 */
function installOnPublish(component: pulumi.ComponentResource, name: string, cfg: ResolvedPackageArgs, scope: RegionScope, document: aws.ssm.Document,
    fleetVersion: pulumi.Output<string>): void {
    const settings = cfg.installOnPublish!;
    const region = scope.region;
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
    }, { parent: component, dependsOn: [document], aliases: scope.aliases(`${name}-install-on-publish`) });
}

/** Installs the package published in `scope`'s region: rings, fleet, and the one-time install. */
export function installRegion(component: pulumi.ComponentResource, name: string, cfg: ResolvedPackageArgs, scope: RegionScope, published: PublishedDocument): RegionInstall {
    const installed = rollOutRings(name, cfg, scope, published);
    if (cfg.installOnPublish !== undefined) {
        installOnPublish(component, name, cfg, scope, published.document, installed.fleetVersion);
    }
    return installed;
}
