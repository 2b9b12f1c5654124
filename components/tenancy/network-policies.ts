/**
 * The network box of a tenant namespace as plain NetworkPolicy specs. Pure (no resources),
 * so the rules read in one place and the Tenant only turns them into objects.
 */
import * as k8s from "@pulumi/kubernetes";

/** Where the platform's scrapers and the shared Gateway's proxies run (see components/platform). */
export const MONITORING_NAMESPACE = "monitoring";
export const GATEWAY_NAMESPACE = "gateway-system";
/** Cloud instance metadata (AWS, Azure, GCP alike): node credentials live behind it. */
export const METADATA_CIDR = "169.254.169.254/32";

type Spec = k8s.types.input.networking.v1.NetworkPolicySpec;

const inNamespace = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });

export interface EgressOptions {
    /** Private ranges of the cluster network; HTTPS to them is refused unless `allowPrivateEgress`. */
    readonly privateRanges: readonly string[];
    /** Let HTTPS reach `privateRanges` (databases in the VPC, internal APIs). Default: false. */
    readonly allowPrivateEgress?: boolean;
}

/**
 * The policies of one tenant namespace, by role (`default-deny` first). Policies are additive:
 * the deny selects every pod for both directions, so only what an `allow-*` names gets through.
 */
export function networkPolicySpecs({ privateRanges, allowPrivateEgress = false }: EgressOptions): Record<string, Spec> {
    const everyPod = {};
    return {
        // No ingress/egress rules at all: an empty rule list would allow nothing, but an empty
        // rule (`[{}]`) would allow everything, so the keys are left out entirely.
        "default-deny": { podSelector: everyPod, policyTypes: ["Ingress", "Egress"] },
        "allow-dns": {
            podSelector: everyPod,
            policyTypes: ["Egress"],
            egress: [
                {
                    // Both selectors in one peer: kube-dns pods AND in kube-system, not either.
                    to: [{ ...inNamespace("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
                    ports: [
                        { protocol: "UDP", port: 53 },
                        { protocol: "TCP", port: 53 },
                    ],
                },
            ],
        },
        "allow-from-monitoring": { podSelector: everyPod, policyTypes: ["Ingress"], ingress: [{ from: [inNamespace(MONITORING_NAMESPACE)] }] },
        "allow-from-gateway": { podSelector: everyPod, policyTypes: ["Ingress"], ingress: [{ from: [inNamespace(GATEWAY_NAMESPACE)] }] },
        "allow-same-namespace": {
            podSelector: everyPod,
            policyTypes: ["Ingress", "Egress"],
            ingress: [{ from: [{ podSelector: everyPod }] }],
            egress: [{ to: [{ podSelector: everyPod }] }],
        },
        "allow-https-egress": {
            podSelector: everyPod,
            policyTypes: ["Egress"],
            egress: [
                {
                    to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [METADATA_CIDR, ...(allowPrivateEgress ? [] : privateRanges)] } }],
                    ports: [{ protocol: "TCP", port: 443 }],
                },
            ],
        },
    };
}
