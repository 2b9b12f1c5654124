import * as compute from "@pulumi/gcp/compute";
import * as container from "@pulumi/gcp/container";
import * as kms from "@pulumi/gcp/kms";
import { getProjectOutput } from "@pulumi/gcp/organizations";
import { Provider } from "@pulumi/gcp/provider";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig } from "../config";
import { BackupStorage, CloudGroups, GatewayDns, ServiceAccountRef, serviceAccountSelector, TenantAccess, WorkloadIdentity } from "../types";
import { BaseCluster, SourceCluster } from "./base";
import { backupCopyRegion } from "./backup-regions";
import { cloudDnsRecords } from "./gateway-dns";
import { gcpIdentity, GcpIdentityArgs } from "./gcp-identity";
import { gcpBackupBucket } from "./gcp-storage";
import { CloudIdentity } from "./identity-book";
import { gkeNodePools } from "./gcp-nodes";
import { CloudClusterArgs, execKubeconfig } from "./shared";
import { storageClasses } from "./storage-classes";

export type GcpClusterConfig = Extract<ClusterConfig, { cloud: "gcp" }>;

export type GkeClusterArgs = CloudClusterArgs<"gcp">;

const CONTROL_PLANE_LOGS = ["SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "WORKLOADS"];

/**
 * A regional GKE Standard cluster: VPC-native with secondary ranges, private nodes behind
 * Cloud NAT, Dataplane V2 (eBPF, enforces NetworkPolicy), etcd secrets encrypted with a
 * rotating Cloud KMS key, workload identity, shielded nodes, and node pools of our own
 * (the default pool is removed, it cannot be configured like the others).
 */
export class GkeCluster extends BaseCluster<"gcp", GkeClusterArgs> {
    private readonly identityArgs: GcpIdentityArgs;

    constructor(name: string, args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const c = args.config;
        super("platform:clusters:GkeCluster", name, args, { privateRanges: [c.subnetCidr, c.podsCidr, c.servicesCidr, c.masterCidr], provisionsLoadBalancers: true }, opts);
        const production = args.environment === "production";
        const provider = new Provider(`${name}-gcp`, { project: c.project, region: c.region }, { parent: this });
        const opts_ = { parent: this, provider };
        const projectNumber = getProjectOutput({ projectId: c.project }, { parent: this, provider }).apply((p) => p.number);

        const vpc = new compute.Network(`${name}-vpc`, { name: `${c.name}-vpc`, autoCreateSubnetworks: false, routingMode: "REGIONAL" }, opts_);
        const subnet = new compute.Subnetwork(
            `${name}-nodes`,
            {
                name: `${c.name}-nodes`,
                network: vpc.id,
                region: c.region,
                ipCidrRange: c.subnetCidr,
                // VPC-native: pods and services get their own ranges, routable without per-node routes.
                secondaryIpRanges: [
                    { rangeName: "pods", ipCidrRange: c.podsCidr },
                    { rangeName: "services", ipCidrRange: c.servicesCidr },
                ],
                // Private nodes reach Google APIs (registries, KMS) without the internet.
                privateIpGoogleAccess: true,
                logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 0.5, metadata: "INCLUDE_ALL_METADATA" },
            },
            opts_,
        );
        const router = new compute.Router(`${name}-router`, { name: `${c.name}-router`, network: vpc.id, region: c.region }, opts_);
        const nat = new compute.RouterNat(
            `${name}-nat`,
            {
                name: `${c.name}-nat`,
                router: router.name,
                region: c.region,
                natIpAllocateOption: "AUTO_ONLY",
                sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
                logConfig: { enable: true, filter: "ERRORS_ONLY" },
            },
            opts_,
        );

        const keyRing = new kms.KeyRing(`${name}-kms`, { name: `${c.name}-gke`, location: c.region }, { ...opts_, protect: production });
        const secretsKey = new kms.CryptoKey(
            `${name}-secrets-key`,
            { name: "etcd-secrets", keyRing: keyRing.id, purpose: "ENCRYPT_DECRYPT", rotationPeriod: "7776000s" },
            // Losing this key makes every secret in etcd unreadable.
            { ...opts_, protect: production },
        );
        // GKE's service agent encrypts etcd's data keys with it; nothing else is granted the key.
        const keyAccess = new kms.CryptoKeyIAMMember(
            `${name}-secrets-key-gke`,
            { cryptoKeyId: secretsKey.id, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: pulumi.interpolate`serviceAccount:service-${projectNumber}@container-engine-robot.iam.gserviceaccount.com` },
            opts_,
        );

        const cluster = new container.Cluster(
            `${name}-cluster`,
            {
                name: c.name,
                location: c.region,
                network: vpc.id,
                subnetwork: subnet.id,
                removeDefaultNodePool: true,
                initialNodeCount: 1,
                minMasterVersion: c.kubernetesVersion,
                releaseChannel: { channel: production ? "STABLE" : "REGULAR" },
                datapathProvider: "ADVANCED_DATAPATH",
                // Pod-to-pod traffic on one node goes through the VPC too: the subnet's flow logs and
                // the VPC firewall see it, not only traffic between nodes (costs: more flow-log volume).
                enableIntranodeVisibility: true,
                networkingMode: "VPC_NATIVE",
                ipAllocationPolicy: { clusterSecondaryRangeName: "pods", servicesSecondaryRangeName: "services" },
                privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: c.privateEndpoint, masterIpv4CidrBlock: c.masterCidr },
                masterAuthorizedNetworksConfig: {
                    cidrBlocks: c.authorizedNetworks.map((cidrBlock) => ({ cidrBlock, displayName: cidrBlock })),
                    gcpPublicCidrsAccessEnabled: false,
                },
                masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
                databaseEncryption: { state: "ENCRYPTED", keyName: secretsKey.id },
                workloadIdentityConfig: { workloadPool: `${c.project}.svc.id.goog` },
                // Google Groups for RBAC: members' groups (tenants' gcp groups) reach RBAC through this one.
                authenticatorGroupsConfig: c.securityGroup ? { securityGroup: c.securityGroup } : undefined,
                enableShieldedNodes: true,
                enableLegacyAbac: false,
                loggingConfig: { enableComponents: CONTROL_PLANE_LOGS },
                addonsConfig: { gcePersistentDiskCsiDriverConfig: { enabled: true }, httpLoadBalancing: { disabled: false } },
                deletionProtection: production,
                resourceLabels: { "platform-cluster": c.name },
            },
            { ...opts_, protect: production, dependsOn: [keyAccess, nat] },
        );
        const apiEndpoint = pulumi.interpolate`https://${cluster.endpoint}`;
        // GKE's issuer is fixed by project, location and name; tokens are verified against it.
        const oidcIssuer = pulumi.interpolate`https://container.googleapis.com/v1/projects/${c.project}/locations/${c.region}/clusters/${cluster.name}`;

        const pools = gkeNodePools(name, { stack: args.stack, clusterName: c.name, project: c.project, region: c.region, cluster, pools: c.nodePools, provider, protect: production }, this);
        this.identityArgs = { stack: args.stack, clusterName: c.name, project: c.project, projectNumber, provider };

        const kubeconfig = execKubeconfig({
            name: c.name,
            server: apiEndpoint,
            caData: cluster.masterAuth.clusterCaCertificate,
            command: "gke-gcloud-auth-plugin",
            args: [],
            installHint: "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
            provideClusterInfo: true,
        });
        const k8sProvider = new k8s.Provider(`${name}-provider`, { kubeconfig }, { parent: this, dependsOn: pools });
        storageClasses(name, { driver: "pd.csi.storage.gke.io", provider: k8sProvider, dependsOn: [] }, this);
        this.complete({ kubeconfig, provider: k8sProvider, apiEndpoint, oidcIssuer });
    }

    protected createIdentity(base: string, namespace: string, serviceAccount: string, opts: pulumi.CustomResourceOptions): CloudIdentity {
        return gcpIdentity(base, this.identityArgs, namespace, serviceAccount, opts);
    }

    protected createBackupStorage(source?: SourceCluster<"gcp">): BackupStorage {
        const owner = source ?? { ...this.args.config, stack: this.args.stack };
        return gcpBackupBucket(`${this.resourceName}-backup`, {
            stack: owner.stack,
            cluster: owner.name,
            project: owner.project,
            region: owner.region,
            create: source === undefined,
            protect: this.environment === "production",
            customerKey: this.environment === "production",
            copyRegion: backupCopyRegion(owner, this.environment),
            projectNumber: this.identityArgs.projectNumber,
            provider: this.identityArgs.provider,
            parent: this,
        });
    }

    secretStoreProvider(serviceAccount: ServiceAccountRef, _prefix: string): pulumi.Input<Record<string, unknown>> {
        const c = this.args.config;
        return {
            gcpsm: {
                projectID: c.project,
                auth: { workloadIdentity: { clusterLocation: c.region, clusterName: c.name, clusterProjectID: c.project, serviceAccountRef: serviceAccountSelector(serviceAccount) } },
            },
        };
    }

    dns01Solver(zone: string, _identity: WorkloadIdentity): pulumi.Input<Record<string, unknown>> {
        // cert-manager's service account is bound to its Google service account: ambient credentials.
        return { dns01: { cloudDNS: { project: this.args.config.project, hostedZoneName: zone } } };
    }

    tenantAccess(_namespace: string, _role: string, groups: CloudGroups): TenantAccess {
        // Google Groups for RBAC presents a member's groups by e-mail: nothing to create per tenant.
        // (Signing in needs container.clusters.get on the project: a one-time grant, docs/clusters.md.)
        if (groups.gcp.length && !this.args.config.securityGroup) {
            throw new pulumi.ResourceError(`cluster ${this.name}: tenant groups ${groups.gcp.join(", ")} need clusters[].securityGroup (Google Groups for RBAC)`, this);
        }
        return { groups: [...groups.gcp], resources: [] };
    }

    gatewayRecords(dns: GatewayDns, address: pulumi.Output<string | undefined>): pulumi.Resource[] {
        return cloudDnsRecords(this.name, dns, address, { cluster: this.name, project: this.args.config.project, provider: this.identityArgs.provider, parent: this });
    }

    gatewayServiceAnnotations(): Record<string, string> {
        // A backend-service-based passthrough load balancer: per-pod health checks through GCE_VM_IP NEGs.
        return { "cloud.google.com/l4-rbs": "enabled" };
    }
}
