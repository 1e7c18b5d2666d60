// A region's fleet in the SSM and Uptycs stand-ins, at any size, for the coverage benchmark and
// demo: every status occurs. `n` managed nodes under a fleet association (a tenth Windows; 1%
// offline, 2% failing their run, 5% with the agent in inventory; and of the tenth without an
// asset, a sixth each failed, offline, and installed but not enrolled), inventory gathered; `n`
// Uptycs assets, 90% of them the nodes' (host names short and fully qualified in turn; 4% at an
// older version, 2.5% silent for 5 hours), the rest hosts no node accounts for.
import { FakeAws } from "./fakeAws";
import { FakeUptycsApi } from "./fakeUptycsApi";

export const FLEET_ACCOUNT = "123456789012";
export const FLEET_REGION = "us-east-1";
export const FLEET_AGENT_VERSION = "5.14.2.21";
export const FLEET_ASSOCIATION = "UptycsAgent-install";

/** The stack outputs of the package that fleet runs, as `pulumi stack output --json` prints them. */
export const FLEET_OUTPUTS = Object.freeze({
    packageName: "UptycsAgent", agentVersion: FLEET_AGENT_VERSION, build: "protect",
    regions: { [FLEET_REGION]: { documentVersion: `${FLEET_AGENT_VERSION}-0badc0de`, fleetAssociation: FLEET_ASSOCIATION } },
});

/** Fills `aws` (its account `FLEET_ACCOUNT`, region `FLEET_REGION`) and `uptycs` with a fleet of `n`. */
export function populateFleet(aws: FakeAws, uptycs: FakeUptycsApi, n: number): void {
    const now = Date.now();
    const id = (i: number): string => `i-${i.toString(16).padStart(17, "0")}`;
    const assetless = (i: number, k: number): boolean => i >= n * 0.9 && i % 6 === k;
    aws.addNodes(FLEET_ACCOUNT, FLEET_REGION, Array.from({ length: n }, (_, i) => ({
        id: id(i), computerName: i % 2 === 0 ? `host-${i}.ec2.internal` : `host-${i}`, tags: { "uptycs-fleet": "yes" },
        platformType: i % 10 === 0 ? "Windows" : "Linux", pingStatus: i % 100 === 7 || assetless(i, 1) ? "ConnectionLost" : "Online",
        outcome: () => (i % 50 === 3 || assetless(i, 0) ? { status: "Failed", detailedStatus: "Failed" } : { status: "Success" }),
        applications: [{ Name: "bash", Version: "5.2" }, ...(i % 20 === 5 || assetless(i, 2) ? [{ Name: "uptycs-protect", Version: FLEET_AGENT_VERSION }] : [])],
    })));
    aws.applyAssociation(FLEET_ACCOUNT, FLEET_REGION, {
        name: "AWS-GatherSoftwareInventory", associationName: "inventory", parameters: {}, targets: [{ key: "InstanceIds", values: ["*"] }], applyOnlyAtCronInterval: true,
    });
    aws.applyAssociation(FLEET_ACCOUNT, FLEET_REGION, {
        name: "AWS-ConfigureAWSPackage", associationName: FLEET_ASSOCIATION, parameters: { action: "Install", name: "UptycsAgent", version: FLEET_OUTPUTS.regions[FLEET_REGION].documentVersion },
        targets: [{ key: "tag:uptycs-fleet", values: ["yes"] }],
    });
    uptycs.assets = Array.from({ length: n }, (_, i) => ({
        id: `asset-${i}`, hostName: i < n * 0.9 ? (i % 2 === 0 ? `host-${i}` : `host-${i}.ec2.internal`) : `laptop-${i}.corp.example.com`,
        agentVersion: i % 25 === 1 ? "5.13.1.4" : FLEET_AGENT_VERSION, protect: true, lastActivityAt: new Date(now - (i % 40 === 9 ? 300 : 5) * 60_000).toISOString(),
    }));
}
