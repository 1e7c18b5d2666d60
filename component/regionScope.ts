/**
 * Where one region's resources of the component go: its region, aws provider, account, and the
 * names and options of its resources.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ResolvedPackageArgs } from "../resolvePackageArgs";

/**
 * Where one region's resources go. Without `regions` in the config: today's names and the
 * default provider, so existing stacks see no change. With it: names end in `-<region>`, each
 * region has an explicit `aws.Provider`, and the stack's own region keeps today's names as aliases.
 */
export interface RegionScope {
    /** The region: with `regions`, as listed; else the region of the component's aws provider. */
    readonly region: pulumi.Output<string>;
    /** The region's explicit provider; undefined: the component's provider (explicit or default). */
    readonly provider?: aws.Provider;
    /** The account the region's provider deploys to. */
    readonly accountId: pulumi.Output<string>;
    /** The name of the resource named after `base` in this region. */
    name(base: string): string;
    /**
     * Options of the AWS resource named after `base`, with an alias from the name it had: `base`
     * without the region suffix in the stack's own region.
     */
    opts(base: string, extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions;
    aliases(base: string): pulumi.Alias[];
}

/**
 * The one region of a component without `regions`: its provider's (explicit: asked with
 * `aws.getRegion` through it; default: `aws:region`), under names without a region suffix.
 * @param accountId the account of the component's aws provider.
 */
export function providerScope(component: pulumi.ComponentResource, cfg: ResolvedPackageArgs, explicitProvider: boolean, accountId: pulumi.Output<string>): RegionScope {
    const region = explicitProvider ? aws.getRegionOutput({}, { parent: component }).region : pulumi.output(cfg.region!);
    return {
        region,
        accountId,
        name: (base) => base,
        opts: (_base, extra) => ({ parent: component, ...extra }),
        aliases: () => [],
    };
}

/**
 * One of `regions`: an explicit provider with the component's AWS settings (`awsCredentials`,
 * else the stack's `aws:` config) in `region`, whose own account the region's resources are bound
 * to; names end in `-<region>`.
 */
export function regionScope(component: pulumi.ComponentResource, name: string, cfg: ResolvedPackageArgs, region: string): RegionScope {
    const provider = new aws.Provider(`${name}-${region}`, { ...cfg.awsProviderArgs, region }, { parent: component });
    const home = region === cfg.region;
    const aliases = (base: string): pulumi.Alias[] => (home ? [{ name: base }] : []);
    return {
        region: pulumi.output(region),
        provider,
        accountId: aws.getCallerIdentityOutput({}, { parent: component, provider }).accountId,
        name: (base) => `${base}-${region}`,
        opts: (base, extra) => ({ parent: component, provider, aliases: aliases(base), ...extra }),
        aliases,
    };
}
