import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { asList, get, known, labelsOf, PlatformPolicy } from "../util";
import { TENANT_LABEL } from "./tenants";

const BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";
const NAMESPACE = "kubernetes:core/v1:Namespace";

const clusterOf = (r: PolicyResource) => r.provider?.urn ?? "";

interface Subject {
    kind?: unknown;
    name?: unknown;
    namespace?: unknown;
}

/** Why a subject may not hold a cluster-wide role, or undefined when it may. */
function refusal(subject: Subject, tenantNamespaces: ReadonlySet<string>): string | undefined {
    // People and groups reach the cluster through the cloud's identity mapping (EKS access
    // entries, Entra groups, GCP IAM), where their access is configured and reviewed.
    if (subject.kind !== "ServiceAccount") return `binds ${String(subject.kind)} ${String(subject.name)}; only service accounts may be bound cluster-wide`;
    // Every pod without serviceAccountName runs as `default`, and with Flux's lockdown so does
    // every Kustomization or HelmRelease without one: binding it hands the role to all of them.
    if (subject.name === "default") return `binds the default service account of ${String(subject.namespace)}, which every pod and Flux object without an account of its own runs as`;
    if (typeof subject.namespace === "string" && tenantNamespaces.has(subject.namespace)) return `binds ${subject.namespace}/${String(subject.name)} in a tenant namespace; tenants get namespaced roles only`;
    return undefined;
}

/**
 * ClusterRoleBindings bind only the platform's own service accounts: no users or groups, no
 * `default` account, nothing in a tenant namespace. A stack policy, because which namespaces
 * are tenants' is on the Namespace resources of the same cluster.
 */
export const clusterRoleBindingAccounts: PlatformPolicy<StackValidationPolicy> = {
    name: "cluster-role-binding-accounts",
    description: "ClusterRoleBindings bind only named service accounts outside tenant namespaces (no users, groups or default accounts).",
    severity: "high",
    inspects: [BINDING],
    validateStack: (args, report) => {
        for (const binding of args.resources.filter((r) => r.type === BINDING)) {
            const tenants = new Set(
                args.resources
                    .filter((r) => r.type === NAMESPACE && clusterOf(r) === clusterOf(binding) && known(() => labelsOf(r.props)[TENANT_LABEL]) !== undefined)
                    .map((r) => String(known(() => get(r.props, "metadata.name")))),
            );
            const subjects = asList(known(() => get(binding.props, "subjects"))) as Subject[];
            if (subjects.length === 0) report(`${binding.name}: ClusterRoleBinding has no subjects`, binding.urn);
            for (const subject of subjects) {
                const why = known(() => refusal(subject, tenants));
                if (why) report(`${binding.name}: ${why}`, binding.urn);
            }
        }
    },
};
