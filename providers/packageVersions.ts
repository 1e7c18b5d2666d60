/**
 * Dynamic resources that look at a Distributor package's version history (SSM
 * `ListDocumentVersions`):
 * - `PackageVersionName` picks the VersionName to publish, never one the package used before;
 * - `DistributorVersionPruner` keeps the package within its quota of 25 versions: after each
 *   publish it deletes the oldest versions beyond `keepVersions`, never the default one (SSM
 *   `DeleteDocument` with `VersionName`).
 * AWS credentials are the stack's (`aws:profile`, static keys, `aws:assumeRoles`, …), read in
 * `configure` through `awsCredentials.ts`, unless the component was given an explicit provider's
 * credentials (`credentials`, a secret input never returned as an output). Every call goes to
 * `region`, the region of the component's aws provider; before choosing from or deleting in the
 * package's history, the account the credentials reach is checked against that provider's (`accountId`).
 * They run in serialized dynamic providers: the AWS SDK is required inside the functions.
 */
import * as pulumi from "@pulumi/pulumi";
import { chooseVersionName, manualRollbackProblem, PackageVersion, versionsToPrune } from "../platforms/rollout";
import { CallerProps, credentialsFor, InputsOf, awsSettingsOf, withoutCredentials } from "./awsCaller";
import { assertAwsAccount, awsClientConfig, AwsCredentialSettings, awsSettingsFromConfig } from "./awsCredentials";

/** What {@link DistributorVersionPruner} is given. */
interface PrunerProps extends CallerProps {
    /** The Distributor package (SSM document) name. */
    readonly packageName: string;
    /** The version just published; a new one triggers a prune. */
    readonly documentVersion: string;
    /** How many versions to keep, 1 to 25. */
    readonly keepVersions: number;
}

/** Inputs of {@link DistributorVersionPruner}. */
export type VersionPrunerInputs = InputsOf<PrunerProps>;

/** Outputs (and state) of {@link DistributorVersionPruner}. */
export interface VersionPrunerOutputs extends Omit<PrunerProps, "credentials"> {
    /** Version names deleted by the last prune. */
    readonly deletedVersions: string[];
}

/**
 * The package's versions; none when the package does not exist yet (first publish). Checks the
 * account first: the history of a same-named package in another account must never count.
 */
async function listVersions(aws: AwsCredentialSettings, packageName: string, region: string, accountId: string, purpose: string): Promise<PackageVersion[]> {
    const ssm: typeof import("@aws-sdk/client-ssm") = require("@aws-sdk/client-ssm");
    await assertAwsAccount(aws, region, accountId, `${purpose} of Distributor package ${packageName} in ${region}`);
    const client = new ssm.SSMClient(awsClientConfig(aws, region));
    try {
        const versions: PackageVersion[] = [];
        for await (const page of ssm.paginateListDocumentVersions({ client }, { Name: packageName })) {
            for (const v of page.DocumentVersions ?? []) {
                versions.push({ documentVersion: v.DocumentVersion ?? "0", versionName: v.VersionName, isDefault: v.IsDefaultVersion === true });
            }
        }
        return versions;
    } catch (e) {
        if ((e as Error).name === "InvalidDocument") {
            return [];
        }
        throw new Error(`listing the versions of Distributor package ${packageName} in ${region}: ${(e as Error).message}`);
    } finally {
        client.destroy();
    }
}

/** What {@link PackageVersionName} is given. */
interface VersionNameProps extends CallerProps {
    /** The Distributor package (SSM document) name. */
    readonly packageName: string;
    /** The content-derived version (manifest `version` before history is considered). */
    readonly contentVersion: string;
    /** Publish even when the default version was set by hand since this stack's last publish. Default false. */
    readonly overrideManualRollback?: boolean;
}

/** State of {@link PackageVersionName}. */
interface VersionNameOutputs extends Omit<VersionNameProps, "credentials"> {
    /** The VersionName chosen: what this stack publishes (and, once published, published last). */
    readonly versionName: string;
}

/** Inputs of {@link PackageVersionName}. */
export type VersionNameInputs = InputsOf<VersionNameProps>;

/** The dynamic provider of {@link PackageVersionName}: resolves on create and on new content. */
export class VersionNameProvider implements pulumi.dynamic.ResourceProvider {
    private aws: AwsCredentialSettings = awsSettingsFromConfig(() => undefined);

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.aws = awsSettingsOf(req);
    }

    /**
     * New content is a new version to publish. `pulumi preview` runs no update, so a default
     * version set by hand (which the update refuses to publish over) is told here, as a warning
     * on stderr, which the CLI shows with the run's diagnostics: one history read, only when
     * something would be published.
     */
    async diff(_id: string, olds: VersionNameOutputs, news: VersionNameProps): Promise<pulumi.dynamic.DiffResult> {
        const changed = (["packageName", "contentVersion", "region", "accountId"] as const).some((k) => olds[k] !== news[k]);
        if (changed && news.overrideManualRollback !== true && olds.versionName !== undefined && olds.packageName === news.packageName) {
            const warning = await this.manualRollbackWarning(olds.versionName, news);
            if (warning !== undefined) {
                process.stderr.write(`warning: ${warning}\n`);
            }
        }
        return { changes: changed, replaces: [] };
    }

    /** What {@link update} would refuse, as a warning; or why it could not be checked. */
    private async manualRollbackWarning(published: string, news: VersionNameProps): Promise<string | undefined> {
        try {
            const history = await listVersions(credentialsFor(news, this.aws), news.packageName, news.region, news.accountId, "check the default version");
            // In preview, new content's version is often not known yet.
            const next = news.contentVersion === pulumi.runtime.unknownValue ? "a new version" : chooseVersionName(news.contentVersion, history);
            return manualRollbackProblem({ packageName: news.packageName, region: news.region, published, next }, history);
        } catch (e) {
            return `could not check whether the default version of Distributor package ${news.packageName} in ${news.region} was set by hand: ${(e as Error).message}`;
        }
    }

    async create(props: VersionNameProps): Promise<pulumi.dynamic.CreateResult> {
        return { id: `${props.region}/${props.packageName}`, outs: await this.choose(props) };
    }

    /**
     * @throws Error when the default version was set by hand since this stack published
     *   `olds.versionName` and a new version would be published over it (see `manualRollbackProblem`),
     *   unless `overrideManualRollback`: nothing is published then.
     */
    async update(_id: string, olds: VersionNameOutputs, news: VersionNameProps): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: await this.choose(news, olds.versionName) };
    }

    private async choose(props: VersionNameProps, published?: string): Promise<VersionNameOutputs> {
        const history = await listVersions(credentialsFor(props, this.aws), props.packageName, props.region, props.accountId, "choose the next version name");
        const versionName = chooseVersionName(props.contentVersion, history);
        const problem = props.overrideManualRollback === true ? undefined
            : manualRollbackProblem({ packageName: props.packageName, region: props.region, published, next: versionName }, history);
        if (problem !== undefined) {
            throw new Error(problem);
        }
        return { ...withoutCredentials(props), versionName };
    }
}

// One provider object per type: serialized once per program run (the SDK caches by object), one
// instance in the host, configured with the stack's AWS settings.
const VERSION_NAME_PROVIDER = new VersionNameProvider();

/**
 * The VersionName to publish: the content-derived version, or `<it>-r<n>` when the package used
 * that name before (see `chooseVersionName`). Unchanged content keeps its name.
 */
export class PackageVersionName extends pulumi.dynamic.Resource {
    public readonly versionName!: pulumi.Output<string>;

    constructor(name: string, args: VersionNameInputs, opts?: pulumi.CustomResourceOptions) {
        super(VERSION_NAME_PROVIDER, name, { ...args, versionName: undefined }, { ...opts, additionalSecretOutputs: ["credentials"] }, "uptycs", "PackageVersionName");
    }
}

/**
 * Deletes the versions beyond `keepVersions`; returns their names. Nothing to prune: no delete call.
 * @throws Error naming both accounts when the credentials reach another account than the
 *   stack's (nothing is deleted), or naming the package and version when AWS refuses.
 */
export async function pruneVersions(aws: AwsCredentialSettings, props: PrunerProps): Promise<string[]> {
    const ssm: typeof import("@aws-sdk/client-ssm") = require("@aws-sdk/client-ssm");
    const history = await listVersions(aws, props.packageName, props.region, props.accountId, "delete old versions");
    const doomed = versionsToPrune(history, props.keepVersions);
    if (doomed.length === 0) {
        return [];
    }
    const client = new ssm.SSMClient(awsClientConfig(aws, props.region));
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

const PRUNER_INPUTS: readonly (keyof PrunerProps & keyof VersionPrunerOutputs)[] = ["packageName", "documentVersion", "keepVersions", "region", "accountId"];
/** Another package, region or account is another resource. */
const PRUNER_IDENTITY: readonly (keyof PrunerProps & keyof VersionPrunerOutputs)[] = ["packageName", "region", "accountId"];

/** The dynamic provider of {@link DistributorVersionPruner}. */
export class VersionPrunerProvider implements pulumi.dynamic.ResourceProvider {
    private aws: AwsCredentialSettings = awsSettingsFromConfig(() => undefined);

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.aws = awsSettingsOf(req);
    }

    async diff(_id: string, olds: VersionPrunerOutputs, news: PrunerProps): Promise<pulumi.dynamic.DiffResult> {
        const changed = PRUNER_INPUTS.filter((k) => olds[k] !== news[k]);
        return { changes: changed.length > 0, replaces: changed.filter((k) => PRUNER_IDENTITY.includes(k)) };
    }

    async create(inputs: PrunerProps): Promise<pulumi.dynamic.CreateResult> {
        return { id: `${inputs.region}/${inputs.packageName}`, outs: { ...withoutCredentials(inputs), deletedVersions: await pruneVersions(credentialsFor(inputs, this.aws), inputs) } };
    }

    async update(_id: string, _olds: VersionPrunerOutputs, news: PrunerProps): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: { ...withoutCredentials(news), deletedVersions: await pruneVersions(credentialsFor(news, this.aws), news) } };
    }
}

const VERSION_PRUNER_PROVIDER = new VersionPrunerProvider();

/** Deletes the oldest versions of a Distributor package beyond `keepVersions` after each publish. */
export class DistributorVersionPruner extends pulumi.dynamic.Resource {
    /** Version names deleted by the last prune. */
    public readonly deletedVersions!: pulumi.Output<string[]>;

    constructor(name: string, args: VersionPrunerInputs, opts?: pulumi.CustomResourceOptions) {
        super(VERSION_PRUNER_PROVIDER, name, { ...args, deletedVersions: undefined }, { ...opts, additionalSecretOutputs: ["credentials"] }, "uptycs", "DistributorVersionPruner");
    }
}
