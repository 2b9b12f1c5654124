/**
 * The network box of a tenant namespace as plain NetworkPolicy specs. Pure (no resources),
 * so the rules read in one place and the Tenant only turns them into objects.
 */
import * as k8s from "@pulumi/kubernetes";
import { tenantIngressNamespaces } from "../platform/addons";
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
 * The policies of one tenant namespace, by name: `default-deny` selects every pod for both
 * directions with no rules, and `tenant-allow` lists what gets through. Policies are additive,
 * so one allow policy means the same as one per rule; it is one object instead of five, and
 * every object is a resource in every preview (docs/performance.md, "Tenants at scale").
 */
export function networkPolicySpecs({ privateRanges, allowPrivateEgress = false }: EgressOptions): Record<string, Spec> {
    const everyPod = {};
    const sameNamespace = { podSelector: everyPod };
    return {
        // The rule keys are left out entirely: an empty rule list allows nothing, but an empty
        // rule (`[{}]`) would allow everything.
        "default-deny": { podSelector: everyPod, policyTypes: ["Ingress", "Egress"] },
        "tenant-allow": {
            podSelector: everyPod,
            policyTypes: ["Ingress", "Egress"],
            // The add-ons tenants accept traffic from (the registry's `tenantIngress`: Prometheus, the Gateway's proxies), then each other.
            ingress: [...tenantIngressNamespaces().map((ns) => ({ from: [inNamespace(ns)] })), { from: [sameNamespace] }],
            egress: [
                {
                    // Both selectors in one peer: kube-dns pods AND in kube-system, not either.
                    to: [{ ...inNamespace("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
                    ports: [
                        { protocol: "UDP", port: 53 },
                        { protocol: "TCP", port: 53 },
                    ],
                },
                { to: [sameNamespace] },
                {
                    to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [METADATA_CIDR, ...(allowPrivateEgress ? [] : privateRanges)] } }],
                    ports: [{ protocol: "TCP", port: 443 }],
                },
            ],
        },
    };
}
