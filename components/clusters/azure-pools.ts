/**
 * AKS node pools. AKS needs one System pool inline in the cluster at creation, and refuses
 * to add or replace pools through the cluster resource afterwards; so the first system pool
 * is the inline one and every other pool is its own AgentPool resource, whose physical name
 * changes exactly when AKS cannot update it in place (VM size, disk, priority). Replacing
 * such a pool then creates the new one before deleting the old.
 */
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as pulumi from "@pulumi/pulumi";
import { NodePoolConfig } from "../config";
import { poolLabels, poolPhysicalName, poolTaints } from "./shared";

const SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule";
const SPOT_LABEL = { "kubernetes.azure.com/scalesetpriority": "spot" };
/** Three zones: a zone outage takes a third of each pool, not all of it. */
const ZONES = ["1", "2", "3"];

const taintStrings = (pool: NodePoolConfig) => [
    ...poolTaints(pool).map((t) => `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`),
    // AKS adds the spot taint and label itself; declaring them keeps the pool free of perpetual diffs.
    ...(pool.spot ? [SPOT_TAINT] : []),
];

/** The settings an inline profile and an AgentPool share. */
export function poolSettings(pool: NodePoolConfig, kubernetesVersion: string, subnetId: pulumi.Input<string>) {
    return {
        mode: pool.role === "system" ? "System" : "User",
        vmSize: pool.instanceType,
        osDiskSizeGB: pool.diskSizeGb,
        osDiskType: "Managed",
        osType: "Linux",
        osSKU: "AzureLinux",
        type: "VirtualMachineScaleSets",
        orchestratorVersion: kubernetesVersion,
        enableAutoScaling: true,
        minCount: pool.minSize,
        maxCount: pool.maxSize,
        count: pool.minSize,
        availabilityZones: ZONES,
        vnetSubnetID: subnetId,
        enableNodePublicIP: false,
        // OS and temporary disks and the disk caches are encrypted on the VM host too, not only at
        // rest in storage (needs the subscription feature Microsoft.Compute/EncryptionAtHost).
        enableEncryptionAtHost: true,
        nodeLabels: { ...poolLabels(pool), ...(pool.spot ? SPOT_LABEL : {}) },
        nodeTaints: taintStrings(pool),
        scaleSetPriority: pool.spot ? "Spot" : "Regular",
        scaleSetEvictionPolicy: pool.spot ? "Delete" : undefined,
        // -1: pay up to the on-demand price, evicted only for capacity, never for price.
        spotMaxPrice: pool.spot ? -1 : undefined,
        // Spot pools cannot surge; the others add a third of their nodes before draining old ones.
        upgradeSettings: pool.spot ? undefined : { maxSurge: "33%" },
    };
}

/** The inline pool: the first system pool, under its configured name. */
export function inlineSystemPool(pools: NodePoolConfig[]): NodePoolConfig {
    const first = pools.find((p) => p.role === "system");
    if (!first) throw new pulumi.RunError("an AKS cluster needs a system pool (the schema requires one)");
    return first;
}

export interface AgentPoolsArgs {
    readonly cluster: containerservice.ManagedCluster;
    readonly resourceGroupName: pulumi.Input<string>;
    readonly kubernetesVersion: string;
    readonly subnetId: pulumi.Input<string>;
    readonly pools: NodePoolConfig[];
    readonly protect: boolean;
}

export function agentPools(name: string, args: AgentPoolsArgs, opts: pulumi.CustomResourceOptions): containerservice.AgentPool[] {
    const inline = inlineSystemPool(args.pools);
    const separate = args.pools.filter((p) => p !== inline);
    const systems: containerservice.AgentPool[] = [];
    const all: containerservice.AgentPool[] = [];
    // System pools first: user pools wait for them, so an upgrade reaches them last.
    for (const pool of [...separate.filter((p) => p.role === "system"), ...separate.filter((p) => p.role !== "system")]) {
        const agentPool = new containerservice.AgentPool(
            `${name}-${pool.name}`,
            {
                ...poolSettings(pool, args.kubernetesVersion, args.subnetId),
                agentPoolName: poolPhysicalName(pool, 12, ""),
                resourceGroupName: args.resourceGroupName,
                resourceName: args.cluster.name,
            },
            {
                ...opts,
                protect: args.protect,
                deleteBeforeReplace: false,
                // The cluster autoscaler owns the node count; Pulumi owns only the bounds.
                ignoreChanges: ["count"],
                dependsOn: pool.role === "system" ? [args.cluster] : [args.cluster, ...systems],
            },
        );
        if (pool.role === "system") systems.push(agentPool);
        all.push(agentPool);
    }
    return all;
}
