/**
 * What the engine bench reads from a stack's state: how big it is and where the bytes go,
 * how many resources each tenant costs, and the Kubernetes objects the engine applied (from
 * each resource's inputs), for kubectl to apply and diff in the same run.
 */
import * as fs from "fs";
import * as path from "path";

/** The part of a state resource the bench reads. */
export interface StateResource {
    urn: string;
    type: string;
    custom: boolean;
    parent?: string;
    inputs?: Record<string, unknown>;
    [field: string]: unknown;
}

export interface StateFile {
    file: string;
    bytes: number;
    resources: StateResource[];
}

/** The checkpoint the file backend under `stateDir` holds for `stack` (project `platform`). */
export function readState(stateDir: string, stack: string): StateFile {
    const file = path.join(stateDir, ".pulumi", "stacks", "platform", `${stack}.json`);
    const text = fs.readFileSync(file, "utf8");
    const resources = (JSON.parse(text).checkpoint?.latest?.resources ?? []) as StateResource[];
    return { file, bytes: Buffer.byteLength(text), resources };
}

/** Bytes of the state's resources by top-level field (as compact JSON), largest first. */
export function bytesByField(resources: StateResource[]): [string, number][] {
    const sizes = new Map<string, number>();
    for (const r of resources) {
        for (const [field, value] of Object.entries(r)) sizes.set(field, (sizes.get(field) ?? 0) + Buffer.byteLength(JSON.stringify(value)) + field.length + 4);
    }
    return [...sizes].sort((a, b) => b[1] - a[1]);
}

export const TENANT_TYPE = "platform:tenancy:Tenant";

/** Resources under the Tenant components (the components included), per resource type. */
export function tenantResources(resources: StateResource[]): { count: number; tenants: number; byType: Map<string, number> } {
    const children = new Map<string, StateResource[]>();
    for (const r of resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    const tenants = resources.filter((r) => r.type === TENANT_TYPE);
    const byType = new Map<string, number>();
    const visit = (r: StateResource) => {
        byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
        for (const c of children.get(r.urn) ?? []) visit(c);
    };
    tenants.forEach(visit);
    return { count: [...byType.values()].reduce((a, b) => a + b, 0), tenants: tenants.length, byType };
}

/**
 * The Kubernetes objects of the state, as the provider applied them (its checked inputs),
 * namespaces first so that a single `kubectl apply` can create everything in order. Helm
 * releases are not objects kubectl could apply: they are left out.
 */
export function kubernetesObjects(resources: StateResource[]): Record<string, unknown>[] {
    const objects = resources
        .filter((r) => r.custom && r.type.startsWith("kubernetes:") && typeof r.inputs?.apiVersion === "string" && typeof r.inputs?.kind === "string")
        .map((r) => Object.fromEntries(Object.entries(r.inputs!).filter(([key]) => !key.startsWith("__"))));
    const rank = (o: Record<string, unknown>) => (o.kind === "Namespace" ? 0 : 1);
    return objects.sort((a, b) => rank(a) - rank(b));
}

/**
 * What `kubectl delete` needs to be given to delete `objects`: the namespaces and what lies
 * outside them, since deleting a namespace deletes its contents (the namespace controller).
 * Naming every object would only measure kubectl's client-side rate limit.
 */
export function objectsToDelete(objects: Record<string, unknown>[]): Record<string, unknown>[] {
    const meta = (o: Record<string, unknown>) => (o.metadata ?? {}) as { name?: string; namespace?: string };
    const namespaces = new Set(objects.filter((o) => o.kind === "Namespace").map((o) => meta(o).name));
    return objects.filter((o) => o.kind === "Namespace" || !namespaces.has(meta(o).namespace));
}

/** A `kind: List` document of `objects`, written to `file`. */
export function writeObjectList(file: string, objects: Record<string, unknown>[]) {
    fs.writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
}
