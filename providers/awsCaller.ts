/**
 * What the dynamic resources that call AWS themselves (`PackageVersionName`,
 * `DistributorVersionPruner`, `RolloutGate`) share: where they call (the region and account of the
 * component's aws provider) and with which credentials (the component's explicit provider's, a
 * secret input never returned as an output, else the stack's `aws:` config read in `configure`).
 */
import * as pulumi from "@pulumi/pulumi";
import { AwsCredentialSettings, awsSettingsFromConfig } from "./awsCredentials";

/** The resource inputs for resolved properties `T`. */
export type InputsOf<T> = { readonly [K in keyof T]: pulumi.Input<T[K]> };

/** Inputs every AWS-calling resource takes besides its own. */
export interface CallerProps {
    /** AWS region: the region of the component's aws provider (or of one of `regions`). */
    readonly region: string;
    /** The account of the component's aws provider (`aws.getCallerIdentity`); nothing is read or changed elsewhere. */
    readonly accountId: string;
    /**
     * Credentials of the component's explicit provider (its `awsCredentials` argument), instead of
     * the stack's `aws:` config. A secret; never an output.
     */
    readonly credentials?: AwsCredentialSettings;
}

/** The settings for a call: the resource's own credentials, else the stack's. */
export const credentialsFor = (props: CallerProps, stack: AwsCredentialSettings): AwsCredentialSettings => props.credentials ?? stack;

/** `props` without `credentials`: what is kept as outputs. */
export function withoutCredentials<T extends CallerProps>(props: T): Omit<T, "credentials"> {
    const { credentials, ...outs } = props;
    return outs;
}

/** The stack's AWS credential settings, as a dynamic provider's `configure` receives the stack config. */
export function awsSettingsOf(req: pulumi.dynamic.ConfigureRequest): AwsCredentialSettings {
    return awsSettingsFromConfig((key) => req.config.get(key));
}
