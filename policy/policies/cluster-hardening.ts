/**
 * Cluster controls an outside scan expects beyond private endpoints and secret encryption:
 * pod traffic visible to the VPC on GKE, and host-side disk encryption on every AKS pool.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { asList, byType, get, isTrue, PlatformPolicy } from "../util";

/** GKE: pod-to-pod traffic on one node crosses the VPC, so flow logs and firewall rules see it. */
export const gkeIntranodeVisibility: PlatformPolicy<ResourceValidationPolicy> = {
    name: "gke-intranode-visibility",
    description: "GKE clusters enable intranode visibility: traffic between pods on one node is seen by VPC flow logs and firewall rules.",
    severity: "medium",
    ...byType({
        "gcp:container/cluster:Cluster": (props, args, report) => {
            if (!isTrue(props.enableIntranodeVisibility)) report(`${args.name}: pod-to-pod traffic on a node bypasses VPC flow logs and firewall rules; set enableIntranodeVisibility: true`);
        },
    }),
};

const atHost = (pool: unknown, what: string, report: (m: string) => void) => {
    if (!isTrue(get(pool, "enableEncryptionAtHost"))) report(`${what}: temporary disks and disk caches are not encrypted on the host; set enableEncryptionAtHost: true`);
};

/** AKS: every pool, the inline system pool included, encrypts at the VM host. */
export const aksEncryptionAtHost: PlatformPolicy<ResourceValidationPolicy> = {
    name: "aks-encryption-at-host",
    description: "Every AKS node pool (inline and AgentPool) sets enableEncryptionAtHost: OS and temporary disks and caches are encrypted on the host.",
    severity: "medium",
    ...byType({
        "azure-native:containerservice:AgentPool": (props, args, report) => atHost(props, `${args.name} (AKS agent pool)`, report),
        "azure-native:containerservice:ManagedCluster": (props, args, report) =>
            asList(props.agentPoolProfiles).forEach((pool) => atHost(pool, `${args.name} agent pool ${get(pool, "name") ?? "?"}`, report)),
    }),
};

/** Public network access off, or a firewall that denies by default and lets in no public IP. */
function closedToInternet(props: Record<string, any>, acls: string, what: string, report: (m: string) => void) {
    if (props.publicNetworkAccess === "Disabled") return;
    const rules = get(props, acls);
    if (get(rules, "defaultAction") !== "Deny") return report(`${what}: reachable from the internet; set publicNetworkAccess: Disabled (private endpoints) or ${acls}.defaultAction: Deny with only the cluster's subnets`);
    if (asList(get(rules, "ipRules")).length) report(`${what}: ${acls}.ipRules let public addresses in; allow the cluster's subnets only`);
}

/** Azure: the data the clusters keep (Key Vaults, storage accounts) and etcd's KMS key are reached privately. */
export const azureDataPrivate: PlatformPolicy<ResourceValidationPolicy> = {
    name: "azure-data-private",
    description: "Key Vaults and storage accounts refuse public network access (or deny by default, allowing only subnets); AKS reaches its KMS vault privately.",
    severity: "high",
    ...byType({
        "azure-native:keyvault:Vault": (props, args, report) => closedToInternet((props.properties ?? {}) as Record<string, any>, "networkAcls", `${args.name} (Key Vault)`, report),
        "azure-native:storage:StorageAccount": (props, args, report) => closedToInternet(props, "networkRuleSet", `${args.name} (storage account)`, report),
        "azure-native:containerservice:ManagedCluster": (props, args, report) => {
            const kms = get(props, "securityProfile.azureKeyVaultKms");
            if (isTrue(get(kms, "enabled")) && get(kms, "keyVaultNetworkAccess") !== "Private") {
                report(`${args.name}: the KMS plugin reaches its key vault over the internet; set keyVaultNetworkAccess: Private with keyVaultResourceId (needs API Server VNet Integration)`);
            }
        },
    }),
};
