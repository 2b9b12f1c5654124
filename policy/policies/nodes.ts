import { ResourceValidationPolicy } from "@pulumi/policy";
import { asList, byType, Check, configOf, get, isFalse, isTrue, PlatformPolicy } from "../util";

const AUTOSCALING_DEFAULTS = { maxNodes: 100 };
type AutoscalingConfig = typeof AUTOSCALING_DEFAULTS;

function bounded(what: string, min: unknown, max: unknown, limit: number, report: (m: string) => void) {
    if (typeof max !== "number") return report(`${what}: no maximum node count, so the autoscaler (or a runaway workload) can grow it without bound`);
    if (max > limit) return report(`${what}: maximum of ${max} nodes is above the limit of ${limit} (policy config maxNodes)`);
    if (typeof min === "number" && min > max) report(`${what}: minimum ${min} is above maximum ${max}`);
}

const aksPool = (pool: unknown, what: string, limit: number, report: (m: string) => void) => {
    if (!isTrue(get(pool, "enableAutoScaling"))) return report(`${what}: autoscaling is off; set enableAutoScaling with minCount/maxCount`);
    bounded(what, get(pool, "minCount"), get(pool, "maxCount"), limit, report);
};

/** Node pools scale with load, between bounds someone chose: a cost and blast-radius limit. */
const maxNodesOf = (args: Parameters<Check>[1]) => configOf<AutoscalingConfig>(args, AUTOSCALING_DEFAULTS).maxNodes;

export const nodePoolBoundedAutoscaling: PlatformPolicy<ResourceValidationPolicy> = {
    name: "node-pool-bounded-autoscaling",
    description: "Node pools autoscale with an explicit maximum, at most maxNodes.",
    severity: "medium",
    configSchema: { properties: { maxNodes: { type: "integer", minimum: 1, default: AUTOSCALING_DEFAULTS.maxNodes } } },
    ...byType({
        "aws:eks/nodeGroup:NodeGroup": (p, args, report) => bounded(`${args.name} (EKS node group)`, get(p, "scalingConfig.minSize"), get(p, "scalingConfig.maxSize"), maxNodesOf(args), report),
        "azure-native:containerservice:AgentPool": (p, args, report) => aksPool(p, `${args.name} (AKS agent pool)`, maxNodesOf(args), report),
        "azure-native:containerservice:ManagedCluster": (p, args, report) =>
            asList(p.agentPoolProfiles).forEach((pool) => aksPool(pool, `${args.name} agent pool ${get(pool, "name") ?? "?"}`, maxNodesOf(args), report)),
        "gcp:container/nodePool:NodePool": (p, args, report) => {
            const a = asList(p.autoscaling)[0];
            // Regional pools bound either per zone (maxNodeCount) or in total (totalMaxNodeCount).
            const max = get(a, "totalMaxNodeCount") ?? get(a, "maxNodeCount");
            const min = get(a, "totalMinNodeCount") ?? get(a, "minNodeCount");
            bounded(`${args.name} (GKE node pool)`, min, max, maxNodesOf(args), report);
        },
    }),
};

const IMDS_DEFAULTS = { maxHopLimit: 1 };

const launchTemplateImds: Check = (props, args, report) => {
    const { maxHopLimit } = configOf(args, IMDS_DEFAULTS);
    const metadata = asList(props.metadataOptions)[0];
    if (get(metadata, "httpTokens") !== "required") {
        report(`${args.name}: instance metadata accepts IMDSv1; set metadataOptions.httpTokens: required`);
    }
    const hops = get(metadata, "httpPutResponseHopLimit");
    // Hop limit 1 keeps pods (one hop further than the node) off the node role; IRSA gives them their own.
    if (typeof hops === "number" && hops > maxHopLimit) {
        report(`${args.name}: metadataOptions.httpPutResponseHopLimit ${hops} lets pods reach the node's credentials; at most ${maxHopLimit}`);
    }
};

/** IMDSv2 only on EKS nodes: a pod's SSRF cannot read the node role's credentials. */
export const eksNodeImdsv2: PlatformPolicy<ResourceValidationPolicy> = {
    name: "eks-node-imdsv2",
    description: "EKS nodes use a launch template that requires IMDSv2 (httpTokens required, hop limit at most maxHopLimit).",
    severity: "high",
    configSchema: { properties: { maxHopLimit: { type: "integer", minimum: 1, default: IMDS_DEFAULTS.maxHopLimit } } },
    ...byType({
        "aws:ec2/launchTemplate:LaunchTemplate": launchTemplateImds,
        "aws:eks/nodeGroup:NodeGroup": (props, args, report) => {
            // Without a launch template EKS uses its own, whose metadata settings we do not choose.
            if (!props.launchTemplate) report(`${args.name}: EKS node group has no launch template, so its IMDS settings are not ours; attach one with httpTokens: required`);
        },
    }),
};

const aksNodePublicIp = (pool: unknown, what: string, report: (m: string) => void) => {
    if (isTrue(get(pool, "enableNodePublicIP"))) report(`${what}: nodes get public IPs; set enableNodePublicIP: false`);
};

/** Nodes are reachable only through the cluster's load balancers, never directly from the internet. */
export const nodeNoPublicIp: PlatformPolicy<ResourceValidationPolicy> = {
    name: "node-no-public-ip",
    description: "Nodes have no public IP addresses (EKS launch templates, AKS pools, GKE private nodes).",
    severity: "high",
    ...byType({
        "aws:ec2/launchTemplate:LaunchTemplate": (props, args, report) => {
            asList(props.networkInterfaces).forEach((nic, i) => {
                if (isTrue(get(nic, "associatePublicIpAddress"))) report(`${args.name}: networkInterfaces[${i}].associatePublicIpAddress gives nodes public IPs`);
            });
        },
        "azure-native:containerservice:AgentPool": (props, args, report) => aksNodePublicIp(props, `${args.name} (AKS agent pool)`, report),
        "azure-native:containerservice:ManagedCluster": (props, args, report) =>
            asList(props.agentPoolProfiles).forEach((pool) => aksNodePublicIp(pool, `${args.name} agent pool ${get(pool, "name") ?? "?"}`, report)),
        "gcp:container/cluster:Cluster": (props, args, report) => {
            if (!isTrue(get(asList(props.privateClusterConfig)[0], "enablePrivateNodes"))) {
                report(`${args.name}: GKE nodes get public IPs; set privateClusterConfig.enablePrivateNodes: true`);
            }
        },
        "gcp:container/nodePool:NodePool": (props, args, report) => {
            // A pool inherits the cluster's setting unless it overrides it to public.
            if (isFalse(get(asList(props.networkConfig)[0], "enablePrivateNodes"))) report(`${args.name}: networkConfig.enablePrivateNodes: false gives this pool's nodes public IPs`);
        },
    }),
};
