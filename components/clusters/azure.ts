import { getClientConfigOutput } from "@pulumi/azure-native/authorization";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as monitor from "@pulumi/azure-native/monitor";
import * as network from "@pulumi/azure-native/network";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import { Provider } from "@pulumi/azure-native/provider";
import * as resources from "@pulumi/azure-native/resources";
import * as containerserviceEnums from "@pulumi/azure-native/types/enums/containerservice";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { AZURE_DNS_ZONE_ID, ClusterConfig } from "../config";
import { BackupStorage, CloudGroups, GatewayDns, ServiceAccountRef, serviceAccountSelector, TenantAccess, TenantRole, WorkloadIdentity } from "../types";
import { azureIdentity, AzureIdentityArgs } from "./azure-identity";
import { KEY_ROTATION_POLICY, roleDefinitionId } from "./azure-keys";
import { agentPools, inlineSystemPool, poolSettings } from "./azure-pools";
import { privateNetwork, vaultNetwork } from "./azure-private";
import { AzureClusterData } from "./azure-storage";
import { backupCopyRegion } from "./backup-regions";
import { AksTenantAccess } from "./azure-tenant-access";
import { BaseCluster, SourceCluster } from "./base";
import { azureRecords } from "./gateway-dns";
import { CloudIdentity } from "./identity-book";
import { CloudClusterArgs, execKubeconfig, shortHash, subnetCidr } from "./shared";
import { storageClasses } from "./storage-classes";

export type AzureClusterConfig = Extract<ClusterConfig, { cloud: "azure" }>;

export type AksClusterArgs = CloudClusterArgs<"azure">;

/** Overlay ranges: pods and services never consume VNet addresses. */
const POD_CIDR = "192.168.0.0/16";
const SERVICE_CIDR = "172.16.0.0/16";
const DNS_SERVICE_IP = "172.16.0.10";
const CONTROL_PLANE_LOGS = ["kube-apiserver", "kube-audit-admin", "kube-controller-manager", "kube-scheduler", "cluster-autoscaler", "guard"];
/** The AKS AAD server application: the audience of every Entra ID token for an AKS API server. */
const AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";

/**
 * An AKS cluster: Entra ID only (no local accounts), Azure RBAC for Kubernetes, Azure CNI
 * overlay with the Cilium dataplane enforcing NetworkPolicy, etcd encrypted with a rotating
 * Key Vault key, control-plane logs to Log Analytics, OIDC issuer and workload identity.
 */
export class AksCluster extends BaseCluster<"azure", AksClusterArgs> {
    private readonly tenantId: pulumi.Output<string>;
    private readonly data: AzureClusterData;
    private readonly identityArgs: AzureIdentityArgs;
    private readonly tenants: AksTenantAccess;

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const c = args.config;
        super("platform:clusters:AksCluster", name, args, { privateRanges: [c.vnetCidr, POD_CIDR, SERVICE_CIDR], provisionsLoadBalancers: true }, opts);
        const production = args.environment === "production";
        const provider = new Provider(`${name}-azure`, { subscriptionId: c.subscriptionId, location: c.region }, { parent: this });
        const opts_ = { parent: this, provider };
        const client = getClientConfigOutput({ parent: this, provider });
        this.tenantId = client.tenantId;
        const location = c.region;

        // Deleting this group deletes the cluster with it: protected like the cluster.
        const group = new resources.ResourceGroup(`${name}-rg`, { resourceGroupName: `rg-${c.name}`, location }, { ...opts_, protect: production });
        const vnet = new network.VirtualNetwork(
            `${name}-vnet`,
            { virtualNetworkName: `vnet-${c.name}`, resourceGroupName: group.name, location, addressSpace: { addressPrefixes: [c.vnetCidr] } },
            // The subnet is its own resource; the VNet must not try to remove it.
            { ...opts_, ignoreChanges: ["subnets"] },
        );
        const prefix = Number(c.vnetCidr.split("/")[1]);
        const subnet = new network.Subnet(
            `${name}-nodes`,
            { subnetName: "nodes", virtualNetworkName: vnet.name, resourceGroupName: group.name, addressPrefix: subnetCidr(c.vnetCidr, prefix + 1, 0) },
            opts_,
        );

        // A user-assigned control-plane identity: KMS needs it, and its grants exist before the cluster does.
        const controlPlane = new managedidentity.UserAssignedIdentity(`${name}-control-plane`, { resourceName: `id-${c.name}-control-plane`, resourceGroupName: group.name, location }, opts_);
        const assign = (id: string, role: Parameters<typeof roleDefinitionId>[1], scope: pulumi.Input<string>, principalId: pulumi.Input<string>) =>
            new authorization.RoleAssignment(`${name}-${id}`, { principalId, principalType: "ServicePrincipal", roleDefinitionId: roleDefinitionId(c.subscriptionId, role), scope }, opts_);
        const subnetAccess = assign("control-plane-subnet", "networkContributor", subnet.id, controlPlane.principalId);
        // A private cluster keeps its data private too: the API server joins the VNet (the only way its KMS
        // plugin reaches a private vault), and the vaults and the backup account get private endpoints there.
        const privateNet = c.privateEndpoint ? privateNetwork(name, { config: c, groupName: group.name, vnet, after: subnet, location }, opts_) : undefined;
        const apiSubnetAccess = privateNet ? [assign("control-plane-apiserver-subnet", "networkContributor", privateNet.apiServerSubnet.id, controlPlane.principalId)] : [];

        const kmsVault = new keyvault.Vault(
            `${name}-kms`,
            {
                vaultName: `kv-${shortHash(20, args.stack, c.name, c.subscriptionId, "kms")}`,
                resourceGroupName: group.name,
                location,
                properties: {
                    tenantId: this.tenantId,
                    sku: { family: "A", name: "standard" },
                    enableRbacAuthorization: true,
                    enableSoftDelete: true,
                    softDeleteRetentionInDays: 90,
                    enablePurgeProtection: true,
                    ...vaultNetwork(privateNet !== undefined),
                },
            },
            { ...opts_, protect: production },
        );
        const kmsKey = new keyvault.Key(
            `${name}-kms-key`,
            {
                keyName: "etcd",
                vaultName: kmsVault.name,
                resourceGroupName: group.name,
                properties: {
                    kty: "RSA",
                    keySize: 2048,
                    rotationPolicy: KEY_ROTATION_POLICY,
                },
            },
            // Losing this key makes every secret in etcd unreadable.
            { ...opts_, protect: production },
        );
        const kmsAccess = [assign("control-plane-kms", "keyVaultCryptoUser", kmsKey.id, controlPlane.principalId)];
        // With a private vault AKS creates the KMS plugin's private endpoint to it, as the control-plane identity.
        if (privateNet) kmsAccess.push(assign("control-plane-kms-vault", "keyVaultContributor", kmsVault.id, controlPlane.principalId));

        const systemPool = inlineSystemPool(c.nodePools);
        const cluster = new containerservice.ManagedCluster(
            `${name}-cluster`,
            {
                resourceName: c.name,
                resourceGroupName: group.name,
                location,
                dnsPrefix: c.name,
                kubernetesVersion: c.kubernetesVersion,
                nodeResourceGroup: `rg-${c.name}-nodes`,
                sku: { name: "Base", tier: production ? "Standard" : "Free" },
                identity: { type: containerserviceEnums.ResourceIdentityType.UserAssigned, userAssignedIdentities: [controlPlane.id] },
                // The identity running `pulumi up` must be in one of these groups: an Azure role assignment
                // would need its principal type (user or service principal), which Azure cannot be asked for.
                aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: c.adminGroupObjectIds, tenantID: this.tenantId },
                disableLocalAccounts: true,
                enableRBAC: true,
                apiServerAccessProfile: privateNet
                    ? { enablePrivateCluster: true, enableVnetIntegration: true, subnetId: privateNet.apiServerSubnet.id }
                    : { enablePrivateCluster: false, authorizedIPRanges: c.authorizedNetworks },
                // Patch releases of the configured minor and fresh node images arrive without a deploy.
                autoUpgradeProfile: { upgradeChannel: "patch", nodeOSUpgradeChannel: "NodeImage" },
                networkProfile: {
                    networkPlugin: "azure",
                    networkPluginMode: "overlay",
                    networkDataplane: "cilium",
                    networkPolicy: "cilium",
                    podCidr: POD_CIDR,
                    serviceCidr: SERVICE_CIDR,
                    dnsServiceIP: DNS_SERVICE_IP,
                    loadBalancerSku: "standard",
                    outboundType: "loadBalancer",
                },
                oidcIssuerProfile: { enabled: true },
                securityProfile: {
                    workloadIdentity: { enabled: true },
                    azureKeyVaultKms: privateNet
                        ? { enabled: true, keyId: kmsKey.keyUriWithVersion, keyVaultNetworkAccess: "Private", keyVaultResourceId: kmsVault.id }
                        : { enabled: true, keyId: kmsKey.keyUriWithVersion, keyVaultNetworkAccess: "Public" },
                },
                agentPoolProfiles: [{ ...poolSettings(systemPool, c.kubernetesVersion, subnet.id), name: systemPool.name }],
            },
            { ...opts_, protect: production, dependsOn: [subnetAccess, ...apiSubnetAccess, ...kmsAccess], ignoreChanges: ["agentPoolProfiles[0].count"] },
        );
        this.tenants = new AksTenantAccess(name, { subscriptionId: c.subscriptionId, clusterId: cluster.id, provider, parent: this });
        const apiEndpoint = pulumi.all([cluster.fqdn, cluster.privateFQDN]).apply(([fqdn, privateFqdn]) => `https://${c.privateEndpoint ? privateFqdn : fqdn}:443`);
        const issuer = cluster.oidcIssuerProfile.apply((profile) => profile?.issuerURL ?? "");

        const workspace = new operationalinsights.Workspace(
            `${name}-logs`,
            { workspaceName: `log-${c.name}`, resourceGroupName: group.name, location, sku: { name: "PerGB2018" }, retentionInDays: production ? 90 : 30 },
            opts_,
        );
        new monitor.DiagnosticSetting(
            `${name}-control-plane-logs`,
            { name: "control-plane", resourceUri: cluster.id, workspaceId: workspace.id, logAnalyticsDestinationType: "Dedicated", logs: CONTROL_PLANE_LOGS.map((category) => ({ category, enabled: true })) },
            opts_,
        );

        const pools = agentPools(
            name,
            { cluster, resourceGroupName: group.name, kubernetesVersion: c.kubernetesVersion, subnetId: subnet.id, pools: c.nodePools, protect: production },
            opts_,
        );

        this.data = new AzureClusterData(name, c.name, {
            stack: args.stack,
            subscriptionId: c.subscriptionId,
            location,
            tenantId: this.tenantId,
            production,
            copyRegion: backupCopyRegion(c, args.environment),
            customerKey: production,
            provider,
            parent: this,
            privateLinks: privateNet?.links,
        });
        this.identityArgs = {
            clusterName: c.name,
            subscriptionId: c.subscriptionId,
            location,
            resourceGroupName: group.name,
            issuer,
            tenantId: this.tenantId,
            data: this.data,
            provider,
        };

        // AKS hands out the server address and CA in a kubeconfig; ours keeps them and swaps the login
        // for kubelogin's Azure CLI mode (device-code login cannot run in CI).
        const credentials = containerservice.listManagedClusterUserCredentialsOutput({ resourceGroupName: group.name, resourceName: cluster.name, format: "exec" }, { parent: this, provider });
        const endpoint = credentials.kubeconfigs.apply((configs) => {
            const doc = YAML.parse(Buffer.from(configs[0].value, "base64").toString("utf8"));
            const entry: { server: string; "certificate-authority-data": string } = doc.clusters[0].cluster;
            return { server: entry.server, caData: entry["certificate-authority-data"] };
        });
        const kubeconfig = execKubeconfig({
            name: c.name,
            server: endpoint.server,
            caData: endpoint.caData,
            command: "kubelogin",
            args: ["get-token", "--login", "azurecli", "--server-id", AKS_SERVER_APP_ID],
            installHint: "Install kubelogin: https://azure.github.io/kubelogin/install.html",
        });
        const k8sProvider = new k8s.Provider(`${name}-provider`, { kubeconfig }, { parent: this, dependsOn: [cluster, ...pools] });
        storageClasses(name, { driver: "disk.csi.azure.com", provider: k8sProvider, dependsOn: [] }, this);
        this.complete({ kubeconfig, provider: k8sProvider, apiEndpoint, oidcIssuer: issuer });
    }

    protected createIdentity(base: string, namespace: string, serviceAccount: string, opts: pulumi.CustomResourceOptions): CloudIdentity {
        return azureIdentity(base, this.identityArgs, namespace, serviceAccount, opts);
    }

    protected createBackupStorage(source?: SourceCluster<"azure">): BackupStorage {
        return source ? this.data.attachedBackupStorage(source.stack, source.name, source.subscriptionId, backupCopyRegion(source, this.environment)) : this.data.backupStorage();
    }

    secretStoreProvider(serviceAccount: ServiceAccountRef, prefix: string): pulumi.Input<Record<string, unknown>> {
        // One vault per prefix: the identity's Key Vault Secrets User role on it is the prefix boundary.
        return {
            azurekv: {
                vaultUrl: this.data.secretsVaultUrl(prefix),
                tenantId: this.tenantId,
                authType: "WorkloadIdentity",
                serviceAccountRef: serviceAccountSelector(serviceAccount),
            },
        };
    }

    dns01Solver(zone: string, identity: WorkloadIdentity): pulumi.Input<Record<string, unknown>> {
        const match = AZURE_DNS_ZONE_ID.exec(zone);
        if (!match) throw new pulumi.ResourceError(`cluster ${this.name}: dns.zone must be an Azure DNS zone resource ID`, this);
        const [, subscriptionID, resourceGroupName, hostedZoneName] = match;
        return {
            dns01: { azureDNS: { subscriptionID, resourceGroupName, hostedZoneName, environment: "AzurePublicCloud", managedIdentity: { clientID: identity.clientId } } },
        };
    }

    tenantAccess(namespace: string, role: TenantRole, groups: CloudGroups): TenantAccess {
        return this.tenants.grant(namespace, role, groups.azure);
    }

    gatewayRecords(dns: GatewayDns, address: pulumi.Output<string | undefined>): pulumi.Resource[] {
        return azureRecords(this.name, dns, address, { cluster: this.name, subscriptionId: this.args.config.subscriptionId, provider: this.identityArgs.provider, parent: this });
    }

    gatewayServiceAnnotations(): Record<string, string> {
        // Azure probes HTTP services with GET / by default; Envoy answers that with a redirect or 404,
        // which would mark every node unhealthy. A TCP probe checks what matters: the listener is up.
        return { "service.beta.kubernetes.io/azure-load-balancer-health-probe-protocol": "tcp" };
    }
}
