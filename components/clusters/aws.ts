import * as eks from "@pulumi/aws/eks";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import { getPartitionOutput } from "@pulumi/aws/getPartition";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import { Provider } from "@pulumi/aws/provider";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig } from "../config";
import { BackupStorage, CloudGroups, GatewayDns, ServiceAccountRef, serviceAccountSelector, TenantAccess, TenantRole, WorkloadIdentity } from "../types";
import { accountLogging, EKS_SECRETS_KEY_ACTIONS, keyPolicy } from "./aws-hardening";
import { irsaIdentity, irsaRole, IrsaContext, serviceTrust } from "./aws-identity";
import { awsNetwork } from "./aws-network";
import { eksNodeGroups } from "./aws-nodes";
import { route53Records } from "./gateway-dns";
import { EksTenantAccess } from "./aws-tenant-access";
import { awsBackupBucket } from "./aws-storage";
import { backupCopyRegion } from "./backup-regions";
import { BaseCluster, SourceCluster } from "./base";
import { CloudIdentity } from "./identity-book";
import { CloudClusterArgs, execKubeconfig, shortHash } from "./shared";
import { storageClasses } from "./storage-classes";
import { clusterAutoscalerImages } from "../versions";

export type AwsClusterConfig = Extract<ClusterConfig, { cloud: "aws" }>;

export type EksClusterArgs = CloudClusterArgs<"aws">;

/** Kubernetes Service range; outside every VPC range the schema allows by default. */
const SERVICE_CIDR = "172.20.0.0/16";
const CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

/**
 * An EKS cluster from raw AWS resources (every child visible in previews and under mocks):
 * its own VPC, a KMS-encrypted etcd, control-plane logs, access entries instead of the
 * aws-auth ConfigMap, IRSA, managed node groups and the core add-ons.
 */
export class EksCluster extends BaseCluster<"aws", EksClusterArgs> {
    private readonly irsa: IrsaContext;
    private readonly tenants: EksTenantAccess;

    constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const c = args.config;
        super("platform:clusters:EksCluster", name, args, { privateRanges: [c.vpcCidr, SERVICE_CIDR], provisionsLoadBalancers: true }, opts);
        const production = args.environment === "production";
        const provider = new Provider(
            `${name}-aws`,
            { region: c.region, assumeRoles: c.assumeRoleArn ? [{ roleArn: c.assumeRoleArn, sessionName: `pulumi-${c.name}` }] : undefined },
            { parent: this },
        );
        const opts_ = { parent: this, provider };
        const partition = getPartitionOutput({}, { parent: this, provider }).partition;
        const accountId = getCallerIdentityOutput({}, { parent: this, provider }).accountId;

        const network = awsNetwork(name, { clusterName: c.name, cidr: c.vpcCidr, natPerAz: production, provider }, this);

        const clusterRole = new iam.Role(`${name}-cluster-role`, { assumeRolePolicy: serviceTrust("eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]), description: `EKS control plane of ${c.name}` }, opts_);
        const secretsKey = new kms.Key(
            `${name}-secrets-key`,
            {
                description: `Envelope encryption of Kubernetes secrets in ${c.name}`,
                enableKeyRotation: true,
                rotationPeriodInDays: 365,
                deletionWindowInDays: 30,
                // The account root and the cluster role, nothing wider.
                policy: pulumi
                    .all([partition, accountId, clusterRole.arn])
                    .apply(([p, account, roleArn]) => keyPolicy(p, account, [{ sid: "EksClusterRole", principal: { AWS: roleArn }, actions: EKS_SECRETS_KEY_ACTIONS }])),
            },
            // Losing this key makes every secret in etcd unreadable.
            { ...opts_, protect: production },
        );
        new kms.Alias(`${name}-secrets-key`, { name: `alias/${c.name}-eks-secrets`, targetKeyId: secretsKey.keyId }, opts_);
        const { controlPlaneLogs: logGroup } = accountLogging(name, { clusterName: c.name, region: c.region, partition, accountId, provider, vpc: network.vpc, production }, this);

        const clusterPolicy = new iam.RolePolicyAttachment(`${name}-cluster-policy`, { role: clusterRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonEKSClusterPolicy` }, opts_);
        const clusterKms = new iam.RolePolicy(
            `${name}-cluster-kms`,
            {
                role: clusterRole.name,
                policy: secretsKey.arn.apply((arn) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: EKS_SECRETS_KEY_ACTIONS, Resource: [arn] }] })),
            },
            opts_,
        );

        const cluster = new eks.Cluster(
            `${name}-cluster`,
            {
                name: c.name,
                version: c.kubernetesVersion,
                roleArn: clusterRole.arn,
                vpcConfig: {
                    subnetIds: network.privateSubnets.map((s) => s.id),
                    endpointPrivateAccess: true,
                    endpointPublicAccess: !c.privateEndpoint,
                    publicAccessCidrs: c.privateEndpoint ? undefined : c.authorizedNetworks,
                },
                // Access entries only: the aws-auth ConfigMap is not an API a review can see.
                accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
                encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ["secrets"] },
                enabledClusterLogTypes: CONTROL_PLANE_LOGS,
                kubernetesNetworkConfig: { serviceIpv4Cidr: SERVICE_CIDR, ipFamily: "ipv4" },
                // The CNI, kube-proxy and CoreDNS are EKS add-ons below, versioned and configured here.
                bootstrapSelfManagedAddons: false,
                upgradePolicy: { supportType: "STANDARD" },
                deletionProtection: production,
                tags: { "platform.example.io/cluster": c.name },
            },
            { ...opts_, protect: production, dependsOn: [logGroup, clusterPolicy, clusterKms] },
        );
        const issuer = cluster.identities.apply((ids) => ids[0].oidcs[0].issuer);
        const oidc = new iam.OpenIdConnectProvider(`${name}-oidc`, { url: issuer, clientIdLists: ["sts.amazonaws.com"] }, opts_);
        this.irsa = { stack: args.stack, clusterName: c.name, region: c.region, partition, accountId, oidcProviderArn: oidc.arn, oidcIssuer: issuer, provider };
        this.tenants = new EksTenantAccess(name, { cluster, provider, parent: this });

        const accessPolicy = pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`;
        const accessEntries = c.adminRoleArns.flatMap((principalArn) => {
            // Keyed by the ARN, not the position: reordering the list changes nothing.
            const id = `${name}-admin-${shortHash(6, principalArn)}`;
            const entry = new eks.AccessEntry(id, { clusterName: cluster.name, principalArn, type: "STANDARD" }, opts_);
            const association = new eks.AccessPolicyAssociation(id, { clusterName: cluster.name, principalArn, policyArn: accessPolicy, accessScope: { type: "cluster" } }, { ...opts_, dependsOn: [entry] });
            return [entry, association];
        });

        const addon = (addonName: string, extra: Partial<eks.AddonArgs>, dependsOn: pulumi.Resource[]) =>
            new eks.Addon(
                `${name}-${addonName}`,
                { clusterName: cluster.name, addonName, resolveConflictsOnCreate: "OVERWRITE", resolveConflictsOnUpdate: "OVERWRITE", ...extra },
                { ...opts_, dependsOn },
            );
        const cniRole = irsaRole(`${name}-vpc-cni-irsa`, this.irsa, "kube-system", "aws-node", { parent: this });
        const cniPolicy = new iam.RolePolicyAttachment(`${name}-vpc-cni-irsa`, { role: cniRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonEKS_CNI_Policy` }, opts_);
        const vpcCni = addon("vpc-cni", { serviceAccountRoleArn: cniRole.arn, configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }) }, [cniPolicy]);
        const kubeProxy = addon("kube-proxy", {}, []);

        const pools = eksNodeGroups(
            name,
            {
                clusterName: c.name,
                cluster,
                kubernetesVersion: c.kubernetesVersion,
                pools: c.nodePools,
                subnetIds: network.privateSubnets.map((s) => s.id),
                partition,
                provider,
                protect: production,
                dependsOn: [vpcCni, kubeProxy, ...network.egress],
            },
            this,
        );
        // CoreDNS and the EBS CSI controller need running nodes, or their creation times out degraded.
        const coredns = addon("coredns", {}, pools.system);
        const ebsRole = irsaRole(`${name}-ebs-csi-irsa`, this.irsa, "kube-system", "ebs-csi-controller-sa", { parent: this });
        const ebsPolicy = new iam.RolePolicyAttachment(
            `${name}-ebs-csi-irsa`,
            { role: ebsRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy` },
            opts_,
        );
        const ebsCsi = addon("aws-ebs-csi-driver", { serviceAccountRoleArn: ebsRole.arn }, [...pools.system, ebsPolicy]);
        // Velero snapshots volumes through CSI; EKS ships the snapshot controller only as an add-on.
        const snapshotController = addon("snapshot-controller", {}, pools.all);

        const kubeconfig = execKubeconfig({
            name: c.name,
            server: cluster.endpoint,
            caData: cluster.certificateAuthority.data,
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", c.name, "--region", c.region, ...(c.assumeRoleArn ? ["--role-arn", c.assumeRoleArn] : []), "--output", "json"],
            installHint: "Install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
        });
        const k8sProvider = new k8s.Provider(`${name}-provider`, { kubeconfig }, { parent: this, dependsOn: [...pools.all, coredns, ebsCsi, ...accessEntries] });
        // EKS marks no StorageClass as default; PVCs without a class would stay Pending.
        storageClasses(
            name,
            {
                driver: "ebs.csi.aws.com",
                provider: k8sProvider,
                dependsOn: [ebsCsi, snapshotController],
                defaultStorageClass: { name: "gp3-encrypted", parameters: { type: "gp3", encrypted: "true" } },
            },
            this,
        );
        this.complete({ kubeconfig, provider: k8sProvider, apiEndpoint: cluster.endpoint, oidcIssuer: issuer });
    }

    protected createIdentity(base: string, namespace: string, serviceAccount: string, opts: pulumi.CustomResourceOptions): CloudIdentity {
        return irsaIdentity(base, this.irsa, namespace, serviceAccount, opts);
    }

    protected createBackupStorage(source?: SourceCluster<"aws">): BackupStorage {
        const owner = source ?? { ...this.args.config, stack: this.args.stack };
        return awsBackupBucket(`${this.resourceName}-backup`, {
            stack: owner.stack,
            cluster: owner.name,
            // Bucket names are global: the account (from the deployer role) keeps accounts apart.
            scope: owner.assumeRoleArn?.split(":")[4] ?? owner.region,
            region: owner.region,
            create: source === undefined,
            copyRegion: backupCopyRegion(owner, this.environment),
            protect: this.environment === "production",
            customerKey: this.environment === "production",
            account: this.irsa,
            provider: this.irsa.provider,
            parent: this,
        });
    }

    secretStoreProvider(serviceAccount: ServiceAccountRef, _prefix: string): pulumi.Input<Record<string, unknown>> {
        // Secret names carry the prefix (`tenants/team-a/db`); the role's policy admits only that prefix.
        return {
            aws: {
                service: "SecretsManager",
                region: this.args.config.region,
                auth: { jwt: { serviceAccountRef: serviceAccountSelector(serviceAccount) } },
            },
        };
    }

    dns01Solver(zone: string, _identity: WorkloadIdentity): pulumi.Input<Record<string, unknown>> {
        // cert-manager's own service account carries the IRSA role: ambient credentials, no keys.
        return { dns01: { route53: { region: this.args.config.region, hostedZoneID: zone } } };
    }

    tenantAccess(_namespace: string, _role: TenantRole, groups: CloudGroups): TenantAccess {
        // Cluster-wide by nature (one entry per role), so under the cluster: the RoleBinding scopes it.
        return this.tenants.grant(groups.aws);
    }

    gatewayRecords(dns: GatewayDns, address: pulumi.Output<string | undefined>): pulumi.Resource[] {
        return route53Records(this.name, dns, address, { cluster: this.name, region: this.args.config.region, provider: this.irsa.provider, parent: this });
    }

    nodeAutoscalerValues(): Record<string, unknown> {
        const c = this.args.config;
        return {
            cloudProvider: "aws",
            awsRegion: c.region,
            // EKS tags each managed node group's Auto Scaling group k8s.io/cluster-autoscaler/<cluster>:
            // the chart's default discovery tags, with this cluster's name, find exactly this cluster's pools.
            autoDiscovery: { clusterName: c.name },
            image: { tag: clusterAutoscalerImages[c.kubernetesVersion] },
        };
    }

    gatewayServiceAnnotations(): Record<string, string> {
        // A Network Load Balancer passes TLS through to Envoy; cross-zone keeps every AZ's targets in use.
        return {
            "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
            "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
        };
    }
}
