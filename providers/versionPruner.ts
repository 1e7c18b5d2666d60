/**
 * `DistributorVersionPruner`: keeps a Distributor package within its quota of 25 versions.
 *
 * After each publish (its inputs carry the new document version), it lists the package's
 * versions (SSM `ListDocumentVersions`) and deletes the oldest beyond `keepVersions`, never the
 * default version (SSM `DeleteDocument` with `VersionName`). AWS credentials come from the
 * standard chain of the machine running `pulumi up`; the region from the stack's `aws:region`.
 * Runs in the serialized dynamic provider: the AWS SDK is required inside the methods.
 */
import * as pulumi from "@pulumi/pulumi";
import { PackageVersion, versionsToPrune } from "../platforms/rollout";

/** Inputs of {@link DistributorVersionPruner}. */
export interface VersionPrunerInputs {
    /** The Distributor package (SSM document) name. */
    readonly packageName: pulumi.Input<string>;
    /** The version just published; a new one triggers a prune. */
    readonly documentVersion: pulumi.Input<string>;
    /** How many versions to keep, 1 to 25. */
    readonly keepVersions: pulumi.Input<number>;
    /** AWS region of the package. */
    readonly region: pulumi.Input<string>;
}

/** Outputs (and state) of {@link DistributorVersionPruner}. */
export interface VersionPrunerOutputs {
    readonly packageName: string;
    readonly documentVersion: string;
    readonly keepVersions: number;
    readonly region: string;
    /** Version names deleted by the last prune. */
    readonly deletedVersions: string[];
}

type PrunerProps = Omit<VersionPrunerOutputs, "deletedVersions">;

async function listVersions(packageName: string, region: string): Promise<PackageVersion[]> {
    const ssm: typeof import("@aws-sdk/client-ssm") = require("@aws-sdk/client-ssm");
    const client = new ssm.SSMClient({ region });
    try {
        const versions: PackageVersion[] = [];
        for await (const page of ssm.paginateListDocumentVersions({ client }, { Name: packageName })) {
            for (const v of page.DocumentVersions ?? []) {
                versions.push({ documentVersion: v.DocumentVersion ?? "0", versionName: v.VersionName, isDefault: v.IsDefaultVersion === true });
            }
        }
        return versions;
    } finally {
        client.destroy();
    }
}

/**
 * Deletes the versions beyond `keepVersions`; returns their names. Nothing to prune: no delete call.
 * @throws Error naming the package and version when AWS refuses.
 */
export async function pruneVersions(props: PrunerProps): Promise<string[]> {
    const ssm: typeof import("@aws-sdk/client-ssm") = require("@aws-sdk/client-ssm");
    const doomed = versionsToPrune(await listVersions(props.packageName, props.region), props.keepVersions);
    if (doomed.length === 0) {
        return [];
    }
    const client = new ssm.SSMClient({ region: props.region });
    try {
        for (const v of doomed) {
            const target = v.versionName !== undefined ? { VersionName: v.versionName } : { DocumentVersion: v.documentVersion };
            await client.send(new ssm.DeleteDocumentCommand({ Name: props.packageName, ...target })).catch((e: Error) => {
                throw new Error(`deleting version ${v.versionName ?? v.documentVersion} of Distributor package ${props.packageName}: ${e.message}`);
            });
        }
    } finally {
        client.destroy();
    }
    return doomed.map((v) => v.versionName ?? v.documentVersion);
}

const PRUNER_INPUTS: readonly (keyof PrunerProps)[] = ["packageName", "documentVersion", "keepVersions", "region"];

/** The dynamic provider of {@link DistributorVersionPruner}. */
export const versionPrunerProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: VersionPrunerOutputs, news: PrunerProps): Promise<pulumi.dynamic.DiffResult> {
        const changed = PRUNER_INPUTS.filter((k) => olds[k] !== news[k]);
        return { changes: changed.length > 0, replaces: changed.includes("packageName") || changed.includes("region") ? ["packageName"] : [] };
    },
    async create(inputs: PrunerProps): Promise<pulumi.dynamic.CreateResult> {
        return { id: `${inputs.region}/${inputs.packageName}`, outs: { ...inputs, deletedVersions: await pruneVersions(inputs) } };
    },
    async update(_id: string, _olds: VersionPrunerOutputs, news: PrunerProps): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: { ...news, deletedVersions: await pruneVersions(news) } };
    },
};

/** Deletes the oldest versions of a Distributor package beyond `keepVersions` after each publish. */
export class DistributorVersionPruner extends pulumi.dynamic.Resource {
    /** Version names deleted by the last prune. */
    public readonly deletedVersions!: pulumi.Output<string[]>;

    constructor(name: string, args: VersionPrunerInputs, opts?: pulumi.CustomResourceOptions) {
        super(versionPrunerProvider, name, { ...args, deletedVersions: undefined }, opts, "uptycs", "DistributorVersionPruner");
    }
}
