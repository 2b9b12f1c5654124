/** What the API server holds, read back with kubectl and compared with the expected tenants. */
import { ControlPlane } from "./control-plane";
import { ExpectedTenant } from "./stack-config";

const TENANT_LABEL = "platform.example.io/tenant";

// The few fields of kubectl's JSON that the checks read.
interface Meta {
    metadata: { name: string; labels?: Record<string, string> };
    status?: { phase?: string };
}
interface List<T> {
    items: T[];
}
interface Peer {
    ipBlock?: { cidr: string; except?: string[] };
}
interface EgressRule {
    to?: Peer[];
    ports?: unknown;
}
interface NetworkPolicy extends Meta {
    spec: { podSelector: unknown; policyTypes?: string[]; ingress?: unknown; egress?: EgressRule[] };
}
interface RoleBinding extends Meta {
    subjects?: { kind: string; name: string }[];
    roleRef: unknown;
}

/** `kubectl get <args> -o json`, parsed. */
export function getJson<T = any>(cp: ControlPlane, ...args: string[]): T {
    return JSON.parse(cp.kubectl("get", ...args, "-o", "json")) as T;
}

function same(what: string, actual: unknown, expected: unknown, problems: string[]) {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e) problems.push(`${what}: expected ${e}, got ${a}`);
}

const sorted = (o: Record<string, string> = {}) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

/** `kubectl auth can-i` as a member of `group` (it exits 1 on "no"). */
function canI(cp: ControlPlane, group: string, verb: string, resource: string, namespace: string): string {
    try {
        return cp.kubectl("auth", "can-i", verb, resource, "-n", namespace, "--as", "someone", "--as-group", group).trim();
    } catch (e) {
        const answer = String((e as { stdout?: unknown }).stdout ?? "").trim();
        if (answer === "no") return answer;
        throw e;
    }
}

export function checkTenants(cp: ControlPlane, tenants: ExpectedTenant[], policies: string[], metadataCidr: string, say: (line: string) => void) {
    const problems: string[] = [];
    const namespaces = getJson<List<Meta>>(cp, "namespaces", "-l", TENANT_LABEL).items.map((n) => n.metadata.name).sort();
    same("tenant namespaces", namespaces, tenants.map((t) => t.name).sort(), problems);
    for (const t of tenants) {
        const ns = getJson<Meta>(cp, "namespace", t.name);
        same(`${t.name}: label ${TENANT_LABEL}`, ns.metadata.labels?.[TENANT_LABEL], t.name, problems);
        same(`${t.name}: Pod Security enforce`, ns.metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted", problems);

        const quota = getJson<{ spec: { hard: Record<string, string> } }>(cp, "resourcequota", "tenant-quota", "-n", t.name);
        same(`${t.name}: ResourceQuota tenant-quota spec.hard`, sorted(quota.spec.hard), sorted(t.quota), problems);

        const limits = getJson<{ spec: { limits: unknown } }>(cp, "limitrange", "tenant-limits", "-n", t.name).spec.limits;
        same(`${t.name}: LimitRange tenant-limits`, limits, [{ default: t.limits.default, defaultRequest: t.limits.defaultRequest, type: "Container" }], problems);

        const nps = getJson<List<NetworkPolicy>>(cp, "networkpolicies", "-n", t.name).items;
        same(`${t.name}: NetworkPolicies`, nps.map((n) => n.metadata.name).sort(), policies, problems);
        const deny = nps.find((n) => n.metadata.name === "default-deny");
        same(`${t.name}: default-deny`, deny && { podSelector: deny.spec.podSelector, policyTypes: deny.spec.policyTypes, ingress: deny.spec.ingress, egress: deny.spec.egress }, { podSelector: {}, policyTypes: ["Ingress", "Egress"] }, problems);
        // The one egress rule to 0.0.0.0/0 (HTTPS), whichever policy holds it.
        const toInternet = nps.flatMap((n) => n.spec.egress ?? []).filter((rule) => (rule.to ?? []).some((peer) => peer.ipBlock?.cidr === "0.0.0.0/0"));
        same(`${t.name}: egress rules to 0.0.0.0/0`, toInternet.length, 1, problems);
        same(`${t.name}: HTTPS egress port`, toInternet[0]?.ports, [{ port: 443, protocol: "TCP" }], problems);
        same(`${t.name}: HTTPS egress except`, toInternet[0]?.to?.find((peer) => peer.ipBlock)?.ipBlock?.except, t.httpsEgressExcept, problems);
        if (!t.httpsEgressExcept.includes(metadataCidr)) problems.push(`${t.name}: expectation lacks the metadata CIDR`);

        const bindings = getJson<List<RoleBinding>>(cp, "rolebindings", "-n", t.name).items;
        for (const role of ["edit", "view"] as const) {
            const binding = bindings.find((b) => b.metadata.name === `tenant-${role}`);
            const groups = (binding?.subjects ?? []).filter((s) => s.kind === "Group").map((s) => s.name);
            same(`${t.name}: RoleBinding tenant-${role} groups`, groups, t.groups[role], problems);
            if (binding) same(`${t.name}: RoleBinding tenant-${role} roleRef`, binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role }, problems);
        }
        // The API server itself answers whether the bound group may do what the role says.
        for (const group of t.groups.edit) {
            same(`${t.name}: ${group} may create deployments`, canI(cp, group, "create", "deployments", t.name), "yes", problems);
            same(`${t.name}: ${group} may not create rolebindings`, canI(cp, group, "create", "rolebindings", t.name), "no", problems);
            same(`${t.name}: ${group} may not create deployments in kube-system`, canI(cp, group, "create", "deployments", "kube-system"), "no", problems);
        }
        for (const group of t.groups.view) {
            same(`${t.name}: ${group} may list pods`, canI(cp, group, "list", "pods", t.name), "yes", problems);
            same(`${t.name}: ${group} may not create deployments`, canI(cp, group, "create", "deployments", t.name), "no", problems);
        }
        say(`${t.name}: namespace, quota ${JSON.stringify(sorted(quota.spec.hard))}, limit range, ${nps.length} network policies, ${bindings.length} role bindings`);
    }
    if (problems.length) throw new Error(`the cluster does not hold what the stack configures:\n  - ${problems.join("\n  - ")}`);
}

export function checkNothingLeft(cp: ControlPlane, tenants: string[], say: (line: string) => void) {
    const problems: string[] = [];
    const labelled = getJson<List<Meta>>(cp, "namespaces", "-l", TENANT_LABEL).items.map((n) => `${n.metadata.name} (${n.status?.phase})`);
    if (labelled.length) problems.push(`tenant namespaces left: ${labelled.join(", ")}`);
    for (const name of tenants) {
        const left = cp.kubectl("get", "namespace", name, "--ignore-not-found", "-o", "name").trim();
        if (left) problems.push(`${left} still exists`);
    }
    // Anything else the program made outside tenant namespaces carries its names.
    const all = getJson<List<Meta>>(cp, "namespaces").items.map((n) => n.metadata.name).sort();
    const expected = ["default", "kube-node-lease", "kube-public", "kube-system"];
    const extra = all.filter((n: string) => !expected.includes(n));
    if (extra.length) problems.push(`unexpected namespaces left: ${extra.join(", ")}`);
    const clusterBindings = getJson<List<Meta>>(cp, "clusterrolebindings").items.map((b) => b.metadata.name).filter((n) => !n.startsWith("system:") && n !== "cluster-admin");
    if (clusterBindings.length) problems.push(`cluster role bindings left: ${clusterBindings.join(", ")}`);
    if (problems.length) throw new Error(`destroy left things behind:\n  - ${problems.join("\n  - ")}`);
    say(`namespaces now: ${all.join(", ")}`);
}
