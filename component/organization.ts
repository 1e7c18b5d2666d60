/**
 * The package for an AWS Organization: shared with every account of some OUs, and installed in
 * each of those accounts and regions by a service-managed CloudFormation StackSet whose template
 * holds a State Manager association (AWS CloudFormation, "StackSets concepts").
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ResolvedPackageArgs } from "../resolvePackageArgs";
import { organizationTemplate, VERSION_PARAMETER } from "../platforms/organization";
import { parseShareAccounts, shareAccountIds } from "../platforms/rollout";

/**
 * The accounts the package is shared with: `shareWithAccounts`, plus with an organization every
 * active account under its OUs, but never the publishing account; at most 1000.
 * @throws pulumi.ResourceError naming `args.shareWithAccounts`, or the config, when the list is
 *   malformed or the accounts exceed the limit.
 */
export function shareWith(component: pulumi.ComponentResource, cfg: ResolvedPackageArgs, accountId: pulumi.Output<string>): pulumi.Output<string[]> {
    const ous = cfg.organization?.organizationalUnitIds ?? [];
    const members = ous.map((parentId) => aws.organizations.getOrganizationalUnitDescendantAccountsOutput({ parentId }, { parent: component }).accounts);
    return pulumi.all([accountId, pulumi.all(members), pulumi.output(cfg.shareWithAccounts)]).apply(([own, lists, listed]) => {
        let shared: string[];
        try {
            shared = parseShareAccounts(listed);
        } catch (e) {
            throw new pulumi.ResourceError(`args.shareWithAccounts ${(e as Error).message}`, component);
        }
        try {
            return shareAccountIds(shared, lists.flat(), own);
        } catch (e) {
            throw new pulumi.ResourceError(`config ${(e as Error).message}`, component);
        }
    });
}

/**
 * A service-managed StackSet (auto-deployment on) whose template installs the package in every
 * account of the OUs, one stack instance per region over all the OUs. The fleet's version (the
 * published VersionName, or with `association.stages` the one the last ring proved) is a StackSet
 * parameter: each new one updates the StackSet, and so the associations, which run again. A
 * region whose VersionName differs (its own history) gets it as a parameter override.
 * @param fleetVersions region → the version its fleet gets, for every region of `organization`.
 */
export function rollOutToOrganization(component: pulumi.ComponentResource, name: string, cfg: ResolvedPackageArgs, accountId: pulumi.Output<string>,
    fleetVersions: Readonly<Record<string, pulumi.Output<string>>>): void {
    const org = cfg.organization!;
    const preferences = {
        maxConcurrentPercentage: org.preferences.maxConcurrentPercentage,
        failureTolerancePercentage: org.preferences.failureTolerancePercentage,
        regionConcurrencyType: org.preferences.regionConcurrencyType,
    };
    // The first region's fleet version (with rings, what its last ring proved), once every
    // region's rings passed: a region whose ring failed must not get it through the StackSet.
    const version = pulumi.all(org.regions.map((r) => fleetVersions[r])).apply((versions) => versions[0]);
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
    }, { parent: component });
    for (const region of org.regions) {
        const own = fleetVersions[region];
        new aws.cloudformation.StackSetInstance(`${name}-org-${region}`, {
            stackSetName: stackSet.name,
            stackSetInstanceRegion: region,
            deploymentTargets: { organizationalUnitIds: [...org.organizationalUnitIds] },
            callAs: org.callAs,
            operationPreferences: preferences,
            parameterOverrides: pulumi.all([own, version]).apply(([v, common]) => (v === common ? undefined : { [VERSION_PARAMETER]: v })),
        }, { parent: component });
    }
}
