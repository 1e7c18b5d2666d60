/**
 * The library entry of the package (`main` in package.json, built to `dist/` by `npm run build`,
 * which `prepare` runs on install): the Uptycs agent as an AWS Systems Manager Distributor package,
 * as a Pulumi component for any TypeScript/JavaScript program.
 *
 * ```ts
 * import { UptycsDistributorPackage } from "uptycs-distributor";
 * const uptycs = new UptycsDistributorPackage("uptycs", { agentVersion: "5.14.2.21", regions: ["us-east-1", "eu-west-1"] });
 * ```
 *
 * Provider settings, in the consuming stack: `uptycs:apiKey` (secret) or `uptycs:apiKeyFile`,
 * `uptycs:requestTimeout`, `uptycs:requestRetries`, `uptycs:requestBackoff`; AWS credentials and
 * region from the stack's `aws:` config, as for the default AWS provider.
 */
export { RegionalPackage, S3_PREFIX, targetOf, UptycsDistributorPackage } from "./distributorPackage";
export { UptycsDistributorPackageArgs } from "./packageArgs";
export {
    InstallerSource, ProviderSettingName, SETTINGS_NAMESPACE, UptycsAgentArtifact, UptycsAgentArtifactInputs, UptycsAgentArtifactOutputs,
} from "./providers/uptycsAgentArtifact";
export { AgentMappingEntry, parseAgentMapping, validateAgentMapping, versionKey } from "./platforms/mapping";
export { AssociationArgs, InstallationType, InstallOnPublishArgs, InstanceTargets } from "./platforms/rollout";
export { OrganizationArgs } from "./platforms/organization";
