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
