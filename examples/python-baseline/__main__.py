"""A security-baseline program of its own, in Python, that adds the Uptycs agent as a component.

    pulumi package add ../..                  # generates the uptycs-distributor SDK (needs Node.js)
    pulumi stack init dev
    pulumi config set aws:region us-east-1
    pulumi config set --secret uptycs:apiKey < uptycs-api-key.json
    pulumi up

The same baseline as ../baseline (TypeScript), through the SDK `pulumi package add` generates.
"""
import pulumi
import pulumi_aws as aws
import pulumi_uptycs_distributor as uptycs_distributor

config = pulumi.Config()
team = config.get("team") or "secops"

# The baseline's own resource: where the fleet finds which package to install.
uptycs = uptycs_distributor.UptycsDistributorPackage(
    "uptycs",
    agent_version=config.get("uptycsAgentVersion") or "latest",
    sensor_only=config.get_bool("uptycsSensorOnly") or False,
    tags={"team": team, "baseline": "security"},
)
marker = aws.ssm.Parameter(
    "edr-package",
    name="/security-baseline/edr/package",
    type="String",
    value=pulumi.Output.concat(uptycs.package_name, "@", uptycs.document_version),
    tags={"team": team},
)

pulumi.export("edrPackage", marker.value)
pulumi.export("uptycsPackage", uptycs.package_name)
pulumi.export("uptycsVersion", uptycs.document_version)
pulumi.export("uptycsZips", uptycs.zips)
