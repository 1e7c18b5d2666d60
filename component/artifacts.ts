/**
 * The region-independent part of the package: one {@link UptycsAgentArtifact} (zip) per mapping
 * entry, and the Distributor manifest their zips make, before the package's history names its
 * version.
 */
import * as pulumi from "@pulumi/pulumi";
import { ResolvedPackageArgs } from "../resolvePackageArgs";
import { buildManifest, DistributorManifest, PackageZip, zipGroupOf } from "../platforms/manifest";
import { entryFamily } from "../platforms/mapping";
import { scriptTemplates } from "../platforms/scripts";
import { UptycsAgentArtifact } from "../providers/uptycsAgentArtifact";

/**
 * One artifact per mapping entry, named `<component>-<dir>`; the component named
 * `legacyName` keeps the artifacts named after the `dir` alone through aliases.
 */
export function buildArtifacts(component: pulumi.ComponentResource, name: string, cfg: ResolvedPackageArgs, legacyName: string): UptycsAgentArtifact[] {
    return cfg.entries.map((entry) => new UptycsAgentArtifact(`${name}-${entry.dir}`, {
        entry,
        agentVersion: cfg.agentVersion,
        sensorOnly: cfg.sensorOnly,
        installerSource: cfg.installerSource,
        installerDir: cfg.installerDir,
        packageName: cfg.packageName,
        scripts: scriptTemplates(entryFamily(entry), cfg.packageName, cfg.healthCheck),
        buildDir: cfg.buildDir,
        apiKey: cfg.apiKey,
    }, { parent: component, aliases: name === legacyName ? [{ name: entry.dir }] : [] }));
}

/**
 * The manifest of the artifacts' zips, its version derived from its content (the package's
 * history may still rename it, per region).
 * @throws pulumi.ResourceError when the artifacts resolved different agent versions (a release
 *   between two downloads: run again), or the manifest breaks a Distributor rule.
 */
export function contentManifestOf(component: pulumi.ComponentResource, cfg: ResolvedPackageArgs, artifacts: readonly UptycsAgentArtifact[]): pulumi.Output<DistributorManifest> {
    const zipFacts = pulumi.all(artifacts.map((a) => pulumi.all([a.version, a.zipFileName, a.zipSha256, a.zipSize])));
    return pulumi.all([zipFacts, cfg.sensorOnly]).apply(([facts, sensorOnly]) => {
        const versions = [...new Set(facts.map(([v]) => v))];
        if (versions.length !== 1) {
            throw new pulumi.ResourceError(`the artifacts resolved different agent versions (${versions.join(", ")}); run again`, component);
        }
        const zips: PackageZip[] = facts.map(([, zipFileName, zipSha256, zipSize], i) => ({ entry: cfg.entries[i], zipFileName, zipSha256, zipSize }));
        try {
            return buildManifest(zips, { agentVersion: versions[0], sensorOnly });
        } catch (e) {
            throw new pulumi.ResourceError((e as Error).message, component);
        }
    });
}

/** The artifacts by the zip they share (`zipGroupOf`), in mapping order. */
export function groupArtifacts(cfg: ResolvedPackageArgs, artifacts: readonly UptycsAgentArtifact[]): Map<string, UptycsAgentArtifact[]> {
    const groups = new Map<string, UptycsAgentArtifact[]>();
    cfg.entries.forEach((entry, i) => {
        const group = zipGroupOf(entry, cfg.installerSource);
        groups.set(group, [...(groups.get(group) ?? []), artifacts[i]]);
    });
    return groups;
}
