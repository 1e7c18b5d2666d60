// A security-baseline program of its own that adds the Uptycs agent as a component.
//
//   npm ci                                             # installs uptycs-distributor from ../..
//   pulumi stack init dev
//   pulumi config set aws:region us-east-1
//   pulumi config set --secret uptycs:apiKey < uptycs-api-key.json
//   pulumi up
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { UptycsDistributorPackage } from "uptycs-distributor";

const config = new pulumi.Config();
const team = config.get("team") ?? "secops";

// The baseline's own resource: where the fleet finds which package to install.
const uptycs = new UptycsDistributorPackage("uptycs", {
    agentVersion: config.get("uptycsAgentVersion") ?? "latest",
    sensorOnly: config.getBoolean("uptycsSensorOnly") ?? false,
    tags: { team, baseline: "security" },
});
const marker = new aws.ssm.Parameter("edr-package", {
    name: "/security-baseline/edr/package",
    type: "String",
    value: pulumi.interpolate`${uptycs.packageName}@${uptycs.documentVersion}`,
    tags: { team },
});

export const edrPackage = marker.value;
export const uptycsPackage = uptycs.packageName;
export const uptycsVersion = uptycs.documentVersion;
export const uptycsZips = uptycs.zips;
