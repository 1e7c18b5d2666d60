// Type-level checks of the component's arguments, compiled by `tsc` in `npm test` (never run):
// each `@ts-expect-error` line must fail to compile, or tsc reports the directive as unused.
import * as pulumi from "@pulumi/pulumi";
import { UptycsDistributorPackage, UptycsDistributorPackageArgs } from "../../lib";

export function argumentTypes(bucket: pulumi.Output<string>): UptycsDistributorPackage[] {
    const ok: UptycsDistributorPackageArgs = {
        agentVersion: "5.14.2.21",
        sensorOnly: pulumi.output(true),
        bucketName: bucket,
        shareWithAccounts: [bucket.apply(() => "111122223333")],
        association: { targets: { tagKey: "uptycs", tagValues: ["on"] }, installationType: "In-place update" },
        regions: ["us-east-1", "eu-west-1"],
        organization: { organizationalUnitIds: ["ou-ab12-3xk9q7tw"], callAs: "DELEGATED_ADMIN" },
        apiKey: pulumi.secret("{}"),
        // Secrets from config or another resource, as the provider itself takes them.
        awsCredentials: { accessKey: "AKIAEXAMPLE", secretKey: bucket.apply(() => "secret"), token: pulumi.secret("token") },
    };
    return [
        new UptycsDistributorPackage("ok", ok),
        // @ts-expect-error `sensoronly` is misspelled (sensorOnly)
        new UptycsDistributorPackage("misspelled", { sensoronly: true }),
        // @ts-expect-error installationType takes the two values AWS-ConfigureAWSPackage knows
        new UptycsDistributorPackage("bad-enum", { installOnPublish: { targets: "all", installationType: "Reinstall" } }),
        // @ts-expect-error keepVersions is a number
        new UptycsDistributorPackage("bad-type", { keepVersions: "20" }),
    ];
}
