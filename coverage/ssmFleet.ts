/**
 * What AWS Systems Manager knows of one region's fleet, read with paged list calls only (no call
 * per node): the fleet association and its latest run on every node (ListAssociations,
 * DescribeAssociationExecutions, DescribeAssociationExecutionTargets), the managed nodes in its
 * scope and all of them (DescribeInstanceInformation), and, where the region gathers software
 * inventory (an `AWS-GatherSoftwareInventory` association), the agent applications it found
 * (GetInventory). Throttling is left to the SDK's retries. IAM: `ssm:ListAssociations`,
 * `ssm:DescribeAssociationExecutions`, `ssm:DescribeAssociationExecutionTargets`,
 * `ssm:DescribeInstanceInformation`, `ssm:GetInventory`.
 */
import * as ssm from "@aws-sdk/client-ssm";
import {
    AGENT_APPLICATION_PREFIXES, InstalledApplication, isAgentApplication, listableTargets, ManagedNode, NodeFilter, NodeRun, RegionFacts, targetFilters,
} from "../platforms/coverage";
import { listManagedNodes } from "../providers/managedNodes";

/** The document State Manager gathers software inventory with (Quick Setup's host management). */
export const INVENTORY_DOCUMENT = "AWS-GatherSoftwareInventory";

/** Progress: a line every this many items of a long list. */
const PROGRESS_EVERY = 2000;

/** A failed read, named by region and SSM action: what the command prints before it exits 1. */
export function ssmError(region: string, action: string, e: unknown): Error {
    const err = e as Error;
    return new Error(`region ${region}: ssm:${action} failed: ${err.name && err.name !== "Error" ? `${err.name}: ` : ""}${err.message}`);
}

/** Every item of a paged SSM list, `action` naming it in errors and progress. */
async function collect<P, T>(region: string, action: string, pages: AsyncIterable<P>, itemsOf: (page: P) => readonly T[] | undefined,
    log: (line: string) => void, what: string): Promise<T[]> {
    const all: T[] = [];
    let reported = 0;
    try {
        for await (const page of pages) {
            all.push(...(itemsOf(page) ?? []));
            if (all.length - reported >= PROGRESS_EVERY) {
                reported = all.length;
                log(`${region}: ${all.length} ${what} read`);
            }
        }
    } catch (e) {
        throw ssmError(region, action, e);
    }
    return all;
}

/** Managed nodes matching `filters` (none: every node of the region). */
async function listNodes(client: ssm.SSMClient, region: string, filters: NodeFilter[], log: (line: string) => void): Promise<ManagedNode[]> {
    let reported = 0;
    try {
        return await listManagedNodes(client, filters, (n) => {
            if (n - reported >= PROGRESS_EVERY) {
                reported = n;
                log(`${region}: ${n} managed nodes read`);
            }
        });
    } catch (e) {
        throw ssmError(region, "DescribeInstanceInformation", e);
    }
}

/** The associations whose `key` (`AssociationName`, or `Name`: the document) is `value`. */
async function findAssociation(client: ssm.SSMClient, region: string, key: "AssociationName" | "Name", value: string, log: (line: string) => void): Promise<ssm.Association[]> {
    return collect(region, "ListAssociations",
        ssm.paginateListAssociations({ client, pageSize: 50 }, { AssociationFilterList: [{ key, value }] }), (p) => p.Associations, log, "associations");
}

/** Instance id → the association's newest run on it: the targets of its newest execution. */
async function latestRun(client: ssm.SSMClient, region: string, associationId: string, log: (line: string) => void): Promise<Map<string, NodeRun>> {
    const executions = await collect(region, "DescribeAssociationExecutions",
        ssm.paginateDescribeAssociationExecutions({ client, pageSize: 50 }, { AssociationId: associationId }), (p) => p.AssociationExecutions, log, "association runs");
    let newest: ssm.AssociationExecution | undefined;
    for (const e of executions) {
        if (newest === undefined || (e.CreatedTime?.getTime() ?? 0) > (newest.CreatedTime?.getTime() ?? 0)) {
            newest = e;
        }
    }
    const runs = new Map<string, NodeRun>();
    if (newest?.ExecutionId === undefined) {
        return runs;
    }
    const targets = await collect(region, "DescribeAssociationExecutionTargets",
        ssm.paginateDescribeAssociationExecutionTargets({ client, pageSize: 50 }, { AssociationId: associationId, ExecutionId: newest.ExecutionId }),
        (p) => p.AssociationExecutionTargets, log, "run targets");
    for (const t of targets) {
        if (t.ResourceId !== undefined) {
            runs.set(t.ResourceId, { status: t.Status ?? "Pending", detailedStatus: t.DetailedStatus });
        }
    }
    return runs;
}

/** Instance id → the agent applications inventory found on it (nodes with none are absent). */
async function agentInventory(client: ssm.SSMClient, region: string, log: (line: string) => void): Promise<Map<string, InstalledApplication[]>> {
    const entities = await collect(region, "GetInventory", ssm.paginateGetInventory({ client, pageSize: 100 }, {
        Filters: [{ Key: "AWS:Application.Name", Values: [...AGENT_APPLICATION_PREFIXES], Type: "BeginWith" }],
        ResultAttributes: [{ TypeName: "AWS:Application" }],
    }), (p) => p.Entities, log, "inventory entries");
    const installed = new Map<string, InstalledApplication[]>();
    for (const e of entities) {
        const data = e.Data?.["AWS:Application"];
        // An entity holds all of the node's applications, not only those the filter matched.
        const apps = (data?.Content ?? []).filter((c) => isAgentApplication(c.Name ?? ""))
            .map((c): InstalledApplication => ({ name: c.Name ?? "", version: c.Version, capturedAt: data?.CaptureTime }));
        if (e.Id !== undefined && apps.length > 0) {
            installed.set(e.Id, apps);
        }
    }
    return installed;
}

/**
 * The nodes the inventory associations target: `all` when one targets every node (Quick Setup's
 * does), else the union of their targets listed as managed nodes. A target kind that cannot be
 * listed (a resource group) counts as every node: inventory then speaks for nodes it may not cover.
 */
async function inventoried(client: ssm.SSMClient, region: string, gathering: readonly ssm.Association[], log: (line: string) => void): Promise<Set<string> | "all"> {
    const ids = new Set<string>();
    for (const a of gathering) {
        if (!listableTargets(a.Targets ?? [])) {
            return "all";
        }
        const filters = targetFilters(a.Targets ?? [], a.AssociationName ?? INVENTORY_DOCUMENT);
        if (filters.length === 0) {
            return "all";
        }
        (await listNodes(client, region, filters, log)).forEach((n) => ids.add(n.instanceId));
    }
    return ids;
}

/**
 * What SSM knows of `region`'s fleet. In scope: the targets of the association named
 * `associationName`, or every managed node when it is undefined (the stack installs nothing).
 * @throws Error naming the region and the SSM action that failed, or the association missing.
 */
export async function readRegionFleet(client: ssm.SSMClient, region: string, associationName: string | undefined, log: (line: string) => void): Promise<RegionFacts> {
    let filters: NodeFilter[] = [];
    let runs = new Map<string, NodeRun>();
    if (associationName !== undefined) {
        const [association] = await findAssociation(client, region, "AssociationName", associationName, log);
        if (association?.AssociationId === undefined) {
            throw new Error(`region ${region}: ssm:ListAssociations finds no association named ${associationName}: are the credentials for the stack's account?`);
        }
        filters = targetFilters(association.Targets ?? [], associationName);
        runs = await latestRun(client, region, association.AssociationId, log);
    }
    const nodes = await listNodes(client, region, filters, log);
    const allNodes = filters.length === 0 ? nodes : await listNodes(client, region, [], log);
    const gathering = await findAssociation(client, region, "Name", INVENTORY_DOCUMENT, log);
    const inventory = gathering.length === 0 ? undefined : { gatheredOn: await inventoried(client, region, gathering, log), installed: await agentInventory(client, region, log) };
    log(`${region}: ${nodes.length} managed nodes in scope of ${allNodes.length}, ${runs.size} in the latest run, inventory ${inventory === undefined ? "not gathered" : "gathered"}`);
    return { nodes, allNodes, runs, inventory, association: associationName };
}
