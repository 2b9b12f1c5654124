/**
 * EKS managed node groups, one per configured pool, each with its own launch template:
 * IMDSv2 only with a hop limit of 1 (pods cannot borrow the node's role; they use IRSA),
 * an encrypted gp3 root volume, and a physical name that changes exactly when the pool must
 * be replaced, so a new instance type comes up before the old group drains.
 */
import * as ec2 from "@pulumi/aws/ec2";
import * as eks from "@pulumi/aws/eks";
import * as iam from "@pulumi/aws/iam";
import { Provider } from "@pulumi/aws/provider";
import * as pulumi from "@pulumi/pulumi";
import { NodePoolConfig } from "../config";
import { serviceTrust } from "./aws-identity";
import { poolLabels, poolPhysicalName, poolTaints, systemPoolsFirst, upperSnake } from "./shared";

export interface EksNodeGroupsArgs {
    readonly clusterName: string;
    readonly cluster: eks.Cluster;
    readonly kubernetesVersion: string;
    readonly pools: NodePoolConfig[];
    readonly subnetIds: pulumi.Input<string>[];
    readonly partition: pulumi.Output<string>;
    readonly provider: Provider;
    readonly protect: boolean;
    /** Node bootstrap needs the CNI, kube-proxy and NAT egress first. */
    readonly dependsOn: pulumi.Resource[];
}

/** Graviton instance families (m7g, c6gn, t4g...) need the arm64 AMI. */
const isGraviton = (instanceType: string) => /^[a-z]+\d+g[a-z]*\./.test(instanceType);

export function eksNodeGroups(name: string, args: EksNodeGroupsArgs, parent: pulumi.Resource): { system: eks.NodeGroup[]; all: eks.NodeGroup[] } {
    const opts = { parent, provider: args.provider };
    const nodeRole = new iam.Role(`${name}-node-role`, { assumeRolePolicy: serviceTrust("ec2.amazonaws.com"), description: `EKS nodes of ${args.clusterName}` }, opts);
    // The CNI policy is not here: vpc-cni has its own IRSA role, so pods never inherit it from the node.
    const attachments = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"].map(
        (policy) => new iam.RolePolicyAttachment(`${name}-node-${policy}`, { role: nodeRole.name, policyArn: pulumi.interpolate`arn:${args.partition}:iam::aws:policy/${policy}` }, opts),
    );

    const system: eks.NodeGroup[] = [];
    const all: eks.NodeGroup[] = [];
    for (const pool of systemPoolsFirst(args.pools)) {
        const physicalName = poolPhysicalName(pool, 63);
        const template = new ec2.LaunchTemplate(
            `${name}-${pool.name}-lt`,
            {
                description: `${args.clusterName} ${pool.name} nodes`,
                updateDefaultVersion: true,
                metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
                blockDeviceMappings: [
                    // The AWS-managed EBS key: node volumes hold nothing that must outlive the node.
                    { deviceName: "/dev/xvda", ebs: { volumeSize: pool.diskSizeGb, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } },
                ],
                tagSpecifications: ["instance", "volume"].map((resourceType) => ({ resourceType, tags: { Name: `${args.clusterName}-${pool.name}` } })),
            },
            opts,
        );
        const group = new eks.NodeGroup(
            `${name}-${pool.name}`,
            {
                clusterName: args.cluster.name,
                nodeGroupName: physicalName,
                nodeRoleArn: nodeRole.arn,
                subnetIds: args.subnetIds,
                version: args.kubernetesVersion,
                amiType: isGraviton(pool.instanceType) ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD",
                instanceTypes: [pool.instanceType],
                capacityType: pool.spot ? "SPOT" : "ON_DEMAND",
                scalingConfig: { minSize: pool.minSize, maxSize: pool.maxSize, desiredSize: pool.minSize },
                // One node at a time: a rolling update never removes more capacity than one node's worth.
                updateConfig: { maxUnavailable: 1 },
                labels: poolLabels(pool),
                taints: poolTaints(pool).map((t) => ({ key: t.key, value: t.value || undefined, effect: upperSnake(t.effect) })),
                launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
                tags: { "platform.example.io/pool": pool.name },
            },
            {
                ...opts,
                protect: args.protect,
                deleteBeforeReplace: false,
                // The cluster autoscaler owns the current size; Pulumi owns only the bounds.
                ignoreChanges: ["scalingConfig.desiredSize"],
                dependsOn: [...args.dependsOn, ...attachments, ...(pool.role === "system" ? [] : system)],
            },
        );
        if (pool.role === "system") system.push(group);
        all.push(group);
    }
    return { system, all };
}
