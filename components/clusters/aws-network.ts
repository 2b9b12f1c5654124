/**
 * The EKS cluster's VPC: three AZs, a private subnet per AZ for nodes and the control plane's
 * network interfaces, a public subnet per AZ for load balancers and NAT. Production gets a
 * NAT gateway per AZ (an AZ outage does not cut the other AZs' egress); other environments
 * share one to save its hourly cost.
 */
import * as ec2 from "@pulumi/aws/ec2";
import { getAvailabilityZonesOutput } from "@pulumi/aws/getAvailabilityZones";
import { Provider } from "@pulumi/aws/provider";
import * as pulumi from "@pulumi/pulumi";
import { subnetCidr } from "./shared";

export const AZ_COUNT = 3;

export interface AwsNetworkArgs {
    readonly clusterName: string;
    readonly cidr: string;
    readonly natPerAz: boolean;
    readonly provider: Provider;
}

export interface AwsNetwork {
    readonly vpc: ec2.Vpc;
    readonly privateSubnets: ec2.Subnet[];
    readonly publicSubnets: ec2.Subnet[];
    /** Everything node egress needs; node groups wait for it so bootstrap can reach ECR and EKS. */
    readonly egress: pulumi.Resource[];
}

export function awsNetwork(name: string, args: AwsNetworkArgs, parent: pulumi.Resource): AwsNetwork {
    const opts = { parent, provider: args.provider };
    const prefix = Number(args.cidr.split("/")[1]);
    const clusterTag = { [`kubernetes.io/cluster/${args.clusterName}`]: "shared" };
    const zones = getAvailabilityZonesOutput({ state: "available" }, { provider: args.provider, parent });

    const vpc = new ec2.Vpc(
        `${name}-vpc`,
        // DNS support and hostnames are required for the private API endpoint to resolve inside the VPC.
        { cidrBlock: args.cidr, enableDnsSupport: true, enableDnsHostnames: true, tags: { Name: args.clusterName, ...clusterTag } },
        opts,
    );
    const igw = new ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: { Name: args.clusterName } }, opts);
    const publicRoutes = new ec2.RouteTable(
        `${name}-public-rt`,
        { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: { Name: `${args.clusterName}-public` } },
        opts,
    );

    const publicSubnets: ec2.Subnet[] = [];
    const privateSubnets: ec2.Subnet[] = [];
    const nats: ec2.NatGateway[] = [];
    const egress: pulumi.Resource[] = [igw];
    for (let i = 0; i < AZ_COUNT; i++) {
        const az = zones.names[i];
        const pub = new ec2.Subnet(
            `${name}-public-${i}`,
            {
                vpcId: vpc.id,
                availabilityZone: az,
                // Public /(n+6) blocks start after the three private /(n+3) blocks.
                cidrBlock: subnetCidr(args.cidr, prefix + 6, 3 * 8 + i),
                mapPublicIpOnLaunch: false,
                tags: { Name: `${args.clusterName}-public-${i}`, "kubernetes.io/role/elb": "1", ...clusterTag },
            },
            opts,
        );
        new ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: pub.id, routeTableId: publicRoutes.id }, opts);
        publicSubnets.push(pub);
        if (i === 0 || args.natPerAz) {
            const eip = new ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: { Name: `${args.clusterName}-nat-${i}` } }, opts);
            nats.push(new ec2.NatGateway(`${name}-nat-${i}`, { subnetId: pub.id, allocationId: eip.id, tags: { Name: `${args.clusterName}-nat-${i}` } }, { ...opts, dependsOn: [igw] }));
        }
        const nat = nats[nats.length - 1];
        const priv = new ec2.Subnet(
            `${name}-private-${i}`,
            {
                vpcId: vpc.id,
                availabilityZone: az,
                cidrBlock: subnetCidr(args.cidr, prefix + 3, i),
                tags: { Name: `${args.clusterName}-private-${i}`, "kubernetes.io/role/internal-elb": "1", ...clusterTag },
            },
            opts,
        );
        const routes = new ec2.RouteTable(
            `${name}-private-rt-${i}`,
            { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags: { Name: `${args.clusterName}-private-${i}` } },
            opts,
        );
        const association = new ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: priv.id, routeTableId: routes.id }, opts);
        privateSubnets.push(priv);
        egress.push(routes, association);
    }
    egress.push(...nats);
    return { vpc, privateSubnets, publicSubnets, egress };
}
