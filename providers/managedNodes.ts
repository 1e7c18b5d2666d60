/**
 * Managed nodes as SSM lists them (DescribeInstanceInformation, 50 a page): for the coverage
 * report's scope and a ring's check-in (host names). Runs inside the serialized `RolloutGate`
 * provider too: the SDK is required inside.
 */
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { ManagedNode, NodeFilter } from "../platforms/coverage";

/**
 * The managed nodes matching `filters` (none: every node of the client's region); `progress`
 * hears the count so far after each page.
 * @throws the SDK's error, after its own retries.
 */
export async function listManagedNodes(client: SSMClient, filters: readonly NodeFilter[], progress: (count: number) => void = () => undefined): Promise<ManagedNode[]> {
    const ssm: typeof import("@aws-sdk/client-ssm") = require("@aws-sdk/client-ssm");
    const nodes: ManagedNode[] = [];
    const Filters = filters.length === 0 ? undefined : filters.map((f) => ({ Key: f.Key, Values: [...f.Values] }));
    for await (const page of ssm.paginateDescribeInstanceInformation({ client, pageSize: 50 }, { Filters })) {
        for (const n of page.InstanceInformationList ?? []) {
            nodes.push({
                instanceId: n.InstanceId ?? "?", computerName: n.ComputerName ?? "", platform: n.PlatformType ?? "unknown",
                pingStatus: n.PingStatus ?? "unknown", lastPingAt: n.LastPingDateTime?.toISOString(),
            });
        }
        progress(nodes.length);
    }
    return nodes;
}
