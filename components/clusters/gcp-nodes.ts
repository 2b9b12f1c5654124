/**
 * GKE node pools, one per configured pool, under a dedicated least-privilege node service
 * account: shielded VMs, the GKE metadata server (pods see only their workload identity,
 * never the node's), auto-repair and auto-upgrade with surge, and a physical name that
 * changes exactly when a new pool is needed, so it comes up before the old one drains.
 */
import * as container from "@pulumi/gcp/container";
import * as projects from "@pulumi/gcp/projects";
import { Provider } from "@pulumi/gcp/provider";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as pulumi from "@pulumi/pulumi";
import { NodePoolConfig } from "../config";
import { poolLabels, poolPhysicalName, poolTaints, shortHash, systemPoolsFirst, upperSnake } from "./shared";

export interface GkeNodePoolsArgs {
    readonly stack: string;
    readonly clusterName: string;
    readonly project: string;
    readonly region: string;
    readonly cluster: container.Cluster;
    readonly pools: NodePoolConfig[];
    readonly provider: Provider;
    readonly protect: boolean;
}

export function gkeNodePools(name: string, args: GkeNodePoolsArgs, parent: pulumi.Resource): container.NodePool[] {
    const opts = { parent, provider: args.provider };
    const nodeAccount = new serviceaccount.Account(
        `${name}-nodes`,
        // Project-wide ids: the hash keeps clusters whose names share a long prefix apart.
        { accountId: `gke-${args.clusterName.slice(0, 14)}-${shortHash(4, args.stack, args.clusterName)}-nodes`, displayName: `${args.clusterName} nodes`, description: `GKE nodes of ${args.clusterName}` },
        opts,
    );
    // The role Google defines for node service accounts (logs, metrics), instead of the default compute account's Editor.
    const nodeRole = new projects.IAMMember(`${name}-nodes`, { project: args.project, role: "roles/container.defaultNodeServiceAccount", member: nodeAccount.member }, opts);

    const systems: container.NodePool[] = [];
    const all: container.NodePool[] = [];
    for (const pool of systemPoolsFirst(args.pools)) {
        const nodePool = new container.NodePool(
            `${name}-${pool.name}`,
            {
                name: poolPhysicalName(pool, 40),
                cluster: args.cluster.id,
                location: args.region,
                // Sizes are per zone: a regional pool runs in each of the region's zones.
                initialNodeCount: pool.minSize,
                autoscaling: { minNodeCount: pool.minSize, maxNodeCount: pool.maxSize, locationPolicy: pool.spot ? "ANY" : "BALANCED" },
                management: { autoRepair: true, autoUpgrade: true },
                upgradeSettings: { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 },
                nodeConfig: {
                    machineType: pool.instanceType,
                    diskSizeGb: pool.diskSizeGb,
                    diskType: "pd-balanced",
                    imageType: "COS_CONTAINERD",
                    serviceAccount: nodeAccount.email,
                    oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
                    spot: pool.spot,
                    labels: poolLabels(pool),
                    taints: poolTaints(pool).map((t) => ({ key: t.key, value: t.value, effect: upperSnake(t.effect) })),
                    shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
                    workloadMetadataConfig: { mode: "GKE_METADATA" },
                    metadata: { "disable-legacy-endpoints": "true" },
                },
            },
            {
                ...opts,
                protect: args.protect,
                deleteBeforeReplace: false,
                // Changing the initial count would replace the pool; the autoscaler owns the count anyway.
                ignoreChanges: ["initialNodeCount"],
                dependsOn: [nodeRole, ...(pool.role === "system" ? [] : systems)],
            },
        );
        if (pool.role === "system") systems.push(nodePool);
        all.push(nodePool);
    }
    return all;
}
