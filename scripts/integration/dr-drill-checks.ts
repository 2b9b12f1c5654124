/**
 * What the drill reads back from the API server: the tenants' own objects (made, recorded,
 * compared after the restore) and the mode of the program's Kyverno policies.
 */
import * as fs from "fs";
import * as path from "path";
import { ControlPlane } from "./control-plane";
import { CLUSTER_POLICIES, tenantObjects } from "./dr-drill-config";
import { getJson } from "./checks";

const RESTORE_LABEL = "velero.io/restore-name";

interface Obj {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string> };
    [field: string]: any;
}

/** The fields that make each kind what the tenant made (not the ones the API server fills in). */
function essence(o: Obj): unknown {
    const labels = { app: o.metadata.labels?.app };
    switch (o.kind) {
        case "ConfigMap":
            return { labels, data: o.data };
        case "Secret":
            return { labels, type: o.type, data: o.data };
        case "ServiceAccount":
            return { labels };
        case "RoleBinding":
            return { labels, roleRef: o.roleRef, subjects: o.subjects };
        case "Deployment": {
            const pod = o.spec.template.spec;
            return { labels, replicas: o.spec.replicas, serviceAccountName: pod.serviceAccountName, containers: pod.containers.map((c: any) => ({ name: c.name, image: c.image, envFrom: c.envFrom, resources: c.resources })) };
        }
        default:
            throw new Error(`no essence for ${o.kind}`);
    }
}

const resourceOf = (o: { kind: string }) => (o.kind === "Deployment" ? "deployments.apps" : o.kind === "RoleBinding" ? "rolebindings.rbac.authorization.k8s.io" : o.kind.toLowerCase());

export interface Recorded {
    readonly id: string;
    readonly uid: string;
    readonly essence: string;
}

/** Applies every tenant's own objects with kubectl (no Pulumi) and records what the API server holds. */
export function makeTenantObjects(cp: ControlPlane, tenants: string[], dir: string): Recorded[] {
    const file = path.join(dir, "tenant-objects.json");
    const items = tenants.flatMap(tenantObjects);
    fs.writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items }));
    cp.kubectl("apply", "-f", file);
    return items.map((item) => record(cp, item as Obj));
}

function read(cp: ControlPlane, o: { kind: string; metadata: { name: string; namespace: string } }): Obj | undefined {
    const out = cp.kubectl("get", resourceOf(o), o.metadata.name, "-n", o.metadata.namespace, "-o", "json", "--ignore-not-found").trim();
    return out ? (JSON.parse(out) as Obj) : undefined;
}

function record(cp: ControlPlane, o: Obj): Recorded {
    const live = read(cp, o);
    const id = `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
    if (!live) throw new Error(`${id} was not created`);
    return { id, uid: live.metadata.uid, essence: JSON.stringify(essence(live)) };
}

/**
 * Every recorded object exists again, as it was, as a new object (another uid) that Velero's
 * restore `restoreName` created (its label). Returns problems, empty when all is back.
 */
export function restoredProblems(cp: ControlPlane, tenants: string[], recorded: Recorded[], restoreName: string): string[] {
    const problems: string[] = [];
    const expected = tenants.flatMap(tenantObjects) as Obj[];
    if (expected.length !== recorded.length) problems.push(`recorded ${recorded.length} objects, expected ${expected.length}`);
    for (const o of expected) {
        const before = recorded.find((r) => r.id === `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
        const id = `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
        const live = read(cp, o);
        if (!before) problems.push(`${id} was not recorded before the loss`);
        else if (!live) problems.push(`${id} is not back`);
        else {
            if (JSON.stringify(essence(live)) !== before.essence) problems.push(`${id} came back different: ${JSON.stringify(essence(live))} (was ${before.essence})`);
            if (live.metadata.uid === before.uid) problems.push(`${id} has its old uid: it was never lost`);
            if (live.metadata.labels?.[RESTORE_LABEL] !== restoreName) problems.push(`${id} is not from restore ${restoreName} (label ${RESTORE_LABEL}=${live.metadata.labels?.[RESTORE_LABEL]})`);
        }
    }
    return problems;
}

/** Pulumi's objects in the tenants' namespaces are Pulumi's again, not restored over (existingResourcePolicy none, created first). */
export function pulumiOwnedProblems(cp: ControlPlane, tenants: string[]): string[] {
    const problems: string[] = [];
    for (const ns of tenants) {
        for (const [resource, name] of [["resourcequota", "tenant-quota"], ["limitrange", "tenant-limits"], ["networkpolicy", "default-deny"], ["rolebinding", "tenant-edit"]]) {
            const labels = JSON.parse(cp.kubectl("get", resource, name, "-n", ns, "-o", "jsonpath={.metadata.labels}") || "{}") as Record<string, string>;
            if (labels[RESTORE_LABEL]) problems.push(`${resource} ${ns}/${name} was created by restore ${labels[RESTORE_LABEL]}, not by Pulumi`);
        }
    }
    return problems;
}

interface ClusterPolicy {
    metadata: { name: string; creationTimestamp: string };
    spec: { rules: { validate?: { failureAction?: string }; verifyImages?: { failureAction?: string }[] }[] };
}

/** The program's ClusterPolicies, each rule's failure action, and the oldest creation time. */
export function policyModes(cp: ControlPlane): { names: string[]; actions: Record<string, string[]>; created: string[] } {
    const policies = getJson<{ items: ClusterPolicy[] }>(cp, "clusterpolicies.kyverno.io").items;
    const actions: Record<string, string[]> = {};
    for (const p of policies) {
        actions[p.metadata.name] = p.spec.rules.flatMap((r) => [...(r.validate ? [r.validate.failureAction ?? "(none)"] : []), ...(r.verifyImages ?? []).map((v) => v.failureAction ?? "(none)")]);
    }
    return { names: policies.map((p) => p.metadata.name).sort(), actions, created: policies.map((p) => p.metadata.creationTimestamp) };
}

/** Problems when the policies are not exactly the program's, each rule at `action`. */
export function policyProblems(cp: ControlPlane, action: "Audit" | "Enforce"): string[] {
    const { names, actions } = policyModes(cp);
    const problems: string[] = [];
    if (JSON.stringify(names) !== JSON.stringify(CLUSTER_POLICIES)) problems.push(`ClusterPolicies: expected ${CLUSTER_POLICIES.join(", ")}, got ${names.join(", ")}`);
    for (const [name, list] of Object.entries(actions)) {
        if (list.length === 0) problems.push(`${name}: no rule with a failure action`);
        for (const a of list) if (a !== action) problems.push(`${name}: a rule is ${a}, expected ${action}`);
    }
    return problems;
}
