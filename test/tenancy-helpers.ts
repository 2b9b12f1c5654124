/**
 * Shared by the tenancy tests (test/tenancy*.test.ts): which stacks they cover, and how to
 * find a tenant's resources and its cluster in a render. Nothing here reads the tenancy code:
 * expected values stay in the tests.
 */
import { RenderDocument, RenderedResource } from "../scripts/render-program";

export type Raw = Record<string, any>;
/** Every stack: each tenant is checked on every cluster it targets. */
export const STACKS = ["local", "staging", "production"];

export const TENANT = "platform:tenancy:Tenant";
export const ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
export const RELEASE = "kubernetes:helm.sh/v3:Release";

/** The clusters a tenant of the raw stack settings asks for (default: all of them). */
export const targetsOf = (settings: Raw, tenant: Raw): Raw[] => settings.clusters.filter((c: Raw) => !tenant.clusters || tenant.clusters.includes(c.name));

/** A resource and everything below it in the parent tree. */
export function subtree(doc: RenderDocument, root: RenderedResource): RenderedResource[] {
    const below = new Set([root.urn]);
    let grew = true;
    while (grew) {
        grew = false;
        for (const r of doc.resources) if (!below.has(r.urn) && below.has(r.parent)) (below.add(r.urn), (grew = true));
    }
    return doc.resources.filter((r) => below.has(r.urn));
}

/** Parents of `urn`, nearest first. */
export function ancestors(doc: RenderDocument, urn: string): string[] {
    const byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
    const chain: string[] = [];
    for (let r = byUrn.get(urn); r?.parent; r = byUrn.get(r.parent)) chain.push(r.parent);
    return chain;
}

/** The Tenant component of `tenant` on `cluster`, or undefined. */
export const tenantOn = (doc: RenderDocument, cluster: string, tenant: string) => doc.resources.find((r) => r.type === TENANT && r.name === `${cluster}-${tenant}`);

/** Whether a custom resource is created through `cluster`'s own provider (the cluster component is its provider's ancestor). */
export function onCluster(doc: RenderDocument, cluster: string): (r: RenderedResource) => boolean {
    const clusterUrn = doc.resources.find((r) => r.type.startsWith("platform:clusters:") && r.name === cluster)?.urn;
    if (!clusterUrn) throw new Error(`no cluster component ${cluster} in the render of ${doc.stack}`);
    return (r) => r.custom && !!r.provider && ancestors(doc, r.provider).includes(clusterUrn);
}

/** The cluster's Helm release of `chart`, if the platform installs it there. */
export const releaseOn = (doc: RenderDocument, cluster: string, chart: string) => doc.resources.find((r) => r.type === RELEASE && r.inputs.chart === chart && onCluster(doc, cluster)(r));

/**
 * A tenant's resources: its subtrees on every cluster, plus whatever they depend on that
 * nothing else needs (the cloud identity and per-prefix stores a cluster made for it).
 */
export function ownedBy(doc: RenderDocument, tenant: string): Set<string> {
    const byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
    const roots = doc.resources.filter((r) => r.type === TENANT && r.name.endsWith(`-${tenant}`));
    const owned = new Set(roots.flatMap((root) => subtree(doc, root)).map((r) => r.urn));
    const candidates = new Set<string>();
    const queue = [...owned];
    while (queue.length) {
        for (const dep of byUrn.get(queue.pop()!)?.dependencies ?? []) if (!owned.has(dep) && !candidates.has(dep)) (candidates.add(dep), queue.push(dep));
    }
    // A resource anything outside the tenant uses (as dependency, parent or provider) is shared.
    let shrank = true;
    while (shrank) {
        shrank = false;
        for (const r of doc.resources) {
            if (owned.has(r.urn) || candidates.has(r.urn)) continue;
            for (const used of [...r.dependencies, r.parent, r.provider]) if (candidates.delete(used)) shrank = true;
        }
    }
    return new Set([...owned, ...candidates]);
}

const ipOf = (cidr: string) => cidr.split("/")[0].split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
/** Whether `outer` contains every address of `inner`. */
export function cidrContains(outer: string, inner: string): boolean {
    const [ob, ib] = [Number(outer.split("/")[1]), Number(inner.split("/")[1])];
    const block = 2 ** (32 - ob);
    return ob <= ib && Math.floor(ipOf(outer) / block) === Math.floor(ipOf(inner) / block);
}

/** Order-free comparison of lists of plain values. */
export const sortBy = <T>(items: T[]) => [...items].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
