import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { asList, get, known, labelsOf, PlatformPolicy } from "../util";

/** The label components/tenancy/tenant.ts puts on every tenant namespace. */
export const TENANT_LABEL = "platform.example.io/tenant";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const QUOTA = "kubernetes:core/v1:ResourceQuota";
const LIMIT_RANGE = "kubernetes:core/v1:LimitRange";

const isEmptyObject = (v: unknown) => v === undefined || (typeof v === "object" && v !== null && Object.keys(v).length === 0);

/** Default-deny: selects every pod, governs both directions, allows nothing (other policies add the allowances). */
export function isDefaultDeny(np: Record<string, any>): boolean {
    const podSelector = get(np, "spec.podSelector");
    const selectsAll = podSelector !== undefined && isEmptyObject(get(podSelector, "matchLabels")) && asList(get(podSelector, "matchExpressions")).length === 0;
    const types = asList(get(np, "spec.policyTypes"));
    return selectsAll && types.includes("Ingress") && types.includes("Egress") && asList(get(np, "spec.ingress")).length === 0 && asList(get(np, "spec.egress")).length === 0;
}

// The same namespace name exists on several clusters: a tenant's objects count only on the
// cluster (Kubernetes provider) that holds the namespace.
const clusterOf = (r: PolicyResource) => r.provider?.urn ?? "";
const namespaceOf = (r: PolicyResource) => known(() => get(r.props, "metadata.namespace"));

/**
 * Every tenant namespace is boxed in: a default-deny NetworkPolicy, a ResourceQuota and a
 * LimitRange in it. A stack policy, because the three are separate resources.
 */
export const tenantNamespaceIsolated: PlatformPolicy<StackValidationPolicy> = {
    name: "tenant-namespace-isolated",
    description: "Every tenant namespace has a default-deny NetworkPolicy, a ResourceQuota and a LimitRange.",
    severity: "high",
    inspects: [NAMESPACE, NETWORK_POLICY, QUOTA, LIMIT_RANGE],
    validateStack: (args, report) => {
        const tenants = args.resources.filter((r) => r.type === NAMESPACE && known(() => labelsOf(r.props)[TENANT_LABEL]) !== undefined);
        for (const ns of tenants) {
            const name = known(() => get(ns.props, "metadata.name"));
            const inside = (type: string) => args.resources.filter((r) => r.type === type && clusterOf(r) === clusterOf(ns) && namespaceOf(r) === name);
            const missing: string[] = [];
            if (!inside(NETWORK_POLICY).some((np) => known(() => isDefaultDeny(np.props)))) missing.push("a default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)");
            if (!inside(QUOTA).some((q) => Object.keys(known(() => get(q.props, "spec.hard")) ?? {}).length > 0)) missing.push("a ResourceQuota with hard limits");
            if (!inside(LIMIT_RANGE).some((l) => asList(known(() => get(l.props, "spec.limits"))).length > 0)) missing.push("a LimitRange with default requests and limits");
            if (missing.length) report(`tenant namespace ${name ?? ns.name} (${ns.name}) has no ${missing.join(", no ")}`, ns.urn);
        }
    },
};
