/**
 * The library entry of the package (`main` in package.json, built to `dist/` by `npm run build`,
 * which `prepare` runs on install): the Uptycs agent as an AWS Systems Manager Distributor package,
 * as a Pulumi component for any TypeScript/JavaScript program. It is also the plugin entry of the
 * source-based plugin package (PulumiPlugin.yaml): the language host loads it and serves the
 * component classes it exports to Python, Go, C#, Java and YAML programs, so exporting another
 * `ComponentResource` class here publishes it to them.
 *
 * ```ts
 * import { UptycsDistributorPackage } from "uptycs-distributor";
 * const uptycs = new UptycsDistributorPackage("uptycs", { agentVersion: "5.14.2.21", regions: ["us-east-1", "eu-west-1"] });
 * ```
 *
 * Provider settings, in the consuming stack: `uptycs:apiKey` (secret) or `uptycs:apiKeyFile` (or
 * the component's `apiKey` argument), `uptycs:requestTimeout`, `uptycs:requestRetries`,
 * `uptycs:requestBackoff`. AWS region and account: the aws provider the component is given
 * (`provider` / `providers`), else the default provider (`aws:region`); the program's own AWS calls
 * use the component's `awsCredentials`, else the stack's `aws:` config.
 */
export {
    COMPONENT_TYPE, LEGACY_COMPONENT_NAME, LEGACY_COMPONENT_TYPE, PublishedRegion, RegionalPackage, RegionRollout, S3_PREFIX, StageRollout, targetOf,
    UptycsDistributorPackage,
} from "./distributorPackage";
export {
    Association, AssociationArgs, AwsAssumeRole, AwsCredentials, AwsCredentialsArgs, HealthCheck, InstallOnPublish, InstallOnPublishArgs, InstanceTarget, Organization,
    OrganizationArgs, RolloutStage, UptycsDistributorPackageArgs,
} from "./packageArgs";
export { InstallerSource, ProviderSettingName, SETTINGS_NAMESPACE } from "./providers/artifactSettings";
export { UptycsAgentArtifact, UptycsAgentArtifactInputs, UptycsAgentArtifactOutputs } from "./providers/uptycsAgentArtifact";
export { AgentMappingEntry, parseAgentMapping, UptPackage, validateAgentMapping, versionKey } from "./platforms/mapping";
export { InstallationType, InstanceTargets } from "./platforms/rollout";
export { Build } from "./platforms/coverage";
export { CallAs, RegionConcurrencyType } from "./platforms/organization";
export { Arch } from "./platforms/distributor";
