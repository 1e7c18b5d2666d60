// Wiring only: stack config → the component's arguments → the Distributor package → stack outputs.
import { loadConfig } from "./config";
import { UptycsDistributorPackage } from "./distributorPackage";

const pkg = new UptycsDistributorPackage("uptycs", loadConfig());

/** The Distributor package (SSM document) name, for Run Command / State Manager. */
export const packageName = pkg.packageName;
/** The document's default version; changes whenever any zip or the agent version changes. */
export const documentVersion = pkg.documentVersion;
/** The Uptycs agent version published. */
export const agentVersion = pkg.agentVersion;
/** The agent build published: `protect` (Uptycs Protect) or `sensor-only`. */
export const build = pkg.agentBuild;
/** The bucket holding `uptycs/*.zip` and `uptycs/manifest.json`. */
export const bucketName = pkg.bucketName;
/** platform/version/arch → zip. */
export const zips = pkg.zips;
/** Region → the document's ARN, its version, the bucket and (with `association`) the fleet association's name, for every region published in. */
export const regions = pkg.regions;
/** Region → each ring's version and what its gate saw, and the fleet association's version (with `association`). */
export const rollout = pkg.rollout;
