/**
 * The render for a person at a terminal: resources per cluster and per type, and how many
 * are protected, instead of a few thousand lines of JSON.
 */
import type { RenderDocument, RenderedResource } from "./render-program";

const TYPES_SHOWN = 12;
const OUTSIDE = "(no cluster)";

/**
 * The cluster each resource belongs to: the top-level cluster components' names, and every
 * top-level component named after one (`<cluster>-platform`, `<cluster>-<tenant>`: index.ts).
 */
export function clusterOf(doc: RenderDocument): (r: RenderedResource) => string {
    const byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
    const top = (r: RenderedResource): RenderedResource => (r.parent && byUrn.has(r.parent) ? top(byUrn.get(r.parent)!) : r);
    const clusters = doc.resources.filter((r) => !r.parent && r.type.startsWith("platform:clusters:")).map((r) => r.name);
    return (r) => {
        const root = top(r).name;
        // The longest match, so a cluster named `a-b` is not mistaken for `a`'s tenant `b`.
        return clusters.filter((c) => root === c || root.startsWith(`${c}-`)).sort((a, b) => b.length - a.length)[0] ?? OUTSIDE;
    };
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

export function summary(doc: RenderDocument): string {
    const cluster = clusterOf(doc);
    const perCluster = new Map<string, { resources: number; protect: number }>();
    const perType = new Map<string, number>();
    for (const r of doc.resources) {
        const c = perCluster.get(cluster(r)) ?? { resources: 0, protect: 0 };
        c.resources++;
        if (r.protect) c.protect++;
        perCluster.set(cluster(r), c);
        perType.set(r.type, (perType.get(r.type) ?? 0) + 1);
    }
    const protect = doc.resources.filter((r) => r.protect).length;
    const clusters = [...perCluster.keys()].sort((a, b) => Number(a === OUTSIDE) - Number(b === OUTSIDE) || (a < b ? -1 : 1));
    const width = Math.max(...clusters.map((c) => c.length), "cluster".length);
    const types = [...perType.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return [
        `stack ${doc.stack}: ${doc.resources.length} resources, ${protect} protected, ${perType.size} types`,
        "",
        `  ${"cluster".padEnd(width)}  resources  protected`,
        ...clusters.map((c) => `  ${c.padEnd(width)}  ${pad(perCluster.get(c)!.resources, 9)}  ${pad(perCluster.get(c)!.protect, 9)}`),
        "",
        "  resources  type",
        ...types.slice(0, TYPES_SHOWN).map(([t, n]) => `  ${pad(n, 9)}  ${t}`),
        ...(types.length > TYPES_SHOWN ? [`  ${pad(types.slice(TYPES_SHOWN).reduce((s, [, n]) => s + n, 0), 9)}  (${types.length - TYPES_SHOWN} more types)`] : []),
        "",
    ].join("\n");
}
