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
 * Provider settings, in the consuming stack: `uptycs:apiKey` (secret) or `uptycs:apiKeyFile` (or
 * the component's `apiKey` argument), `uptycs:requestTimeout`, `uptycs:requestRetries`,
 * `uptycs:requestBackoff`. AWS region and account: the aws provider the component is given
 * (`provider` / `providers`), else the default provider (`aws:region`); the program's own AWS calls
 * use the component's `awsCredentials`, else the stack's `aws:` config.
 */
export { LEGACY_COMPONENT_NAME, RegionalPackage, S3_PREFIX, targetOf, UptycsDistributorPackage } from "./distributorPackage";
export { AwsCredentialsArgs, UptycsDistributorPackageArgs } from "./packageArgs";
export {
    InstallerSource, ProviderSettingName, SETTINGS_NAMESPACE, UptycsAgentArtifact, UptycsAgentArtifactInputs, UptycsAgentArtifactOutputs,
} from "./providers/uptycsAgentArtifact";
export { AgentMappingEntry, parseAgentMapping, validateAgentMapping, versionKey } from "./platforms/mapping";
export { AssociationArgs, InstallationType, InstallOnPublishArgs, InstanceTargets } from "./platforms/rollout";
export { OrganizationArgs } from "./platforms/organization";
