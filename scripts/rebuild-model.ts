/**
 * Models how long a full rebuild of each cluster takes, from the dependency graph of an
 * offline render and a table of typical create durations per resource type. The engine
 * creates a resource once everything it depends on exists and runs the rest in parallel, so
 * with unbounded parallelism a cluster's rebuild time is its critical path.
 *
 *   node dist/scripts/rebuild-model.js --render render-out/production.json [--durations F.json] [--markdown]
 *
 * A cluster's resources are the descendants of the top-level components named after it
 * (`<cluster>`, `<cluster>-platform`, `<cluster>-<tenant>`: see index.ts). Anything outside
 * (another cluster, shared resources) already exists during that cluster's rebuild.
 */
import * as fs from "fs";
import { parseCommandLine, usageError } from "./cli";
import type { RenderDocument, RenderedResource } from "./render-program";

/**
 * Typical create durations in minutes: documented assumptions (docs/disaster-recovery.md),
 * from managed-service norms, to be replaced with figures from drills. Exact type first, then
 * the longest matching prefix (a key ending in ":" or "/").
 */
export const defaultDurations: Record<string, number> = {
    "aws:eks/cluster:Cluster": 10,
    "aws:eks/nodeGroup:NodeGroup": 4,
    "aws:eks/addon:Addon": 2,
    "aws:ec2/natGateway:NatGateway": 2,
    "azure-native:containerservice:ManagedCluster": 6,
    "azure-native:containerservice:AgentPool": 4,
    "gcp:container/cluster:Cluster": 8,
    "gcp:container/nodePool:NodePool": 4,
    "kubernetes:helm.sh/v3:Release": 2,
    // Velero restoring the tenant namespaces and their volumes; depends on data size: measure it in a drill.
    "kubernetes:velero.io/v1:Restore": 30,
    // Any other cloud resource (network, IAM, key, bucket, DNS record): an API call or two.
    "aws:": 0.5,
    "azure-native:": 0.5,
    "gcp:": 0.5,
    // A Kubernetes object is one API request once its cluster answers.
    "kubernetes:": 0.1,
    "random:": 0,
    "pulumi:providers:": 0,
};

export interface Step {
    urn: string;
    type: string;
    name: string;
    start: number;
    finish: number;
}
export interface ClusterModel {
    cluster: string;
    resources: number;
    minutes: number;
    /** The longest chain of creates, first to last. */
    criticalPath: Step[];
}

/** Minutes to create a resource of `type`; components take none (their children do the work). */
export function durationOf(resource: Pick<RenderedResource, "type" | "custom">, table: Record<string, number>): number {
    if (!resource.custom) return 0;
    if (resource.type in table) return table[resource.type];
    const prefix = Object.keys(table)
        .filter((k) => resource.type.startsWith(k) && (k.endsWith(":") || k.endsWith("/")))
        .sort((a, b) => b.length - a.length)[0];
    return prefix === undefined ? 0.5 : table[prefix];
}

/** Top-level components per cluster: the cluster components' names and what index.ts derives from them. */
function clusterRoots(doc: RenderDocument): Map<string, RenderedResource[]> {
    const tops = doc.resources.filter((r) => !r.parent && !r.custom);
    const clusters = tops.filter((r) => r.type.startsWith("platform:clusters:")).map((r) => r.name);
    return new Map(clusters.map((c) => [c, tops.filter((r) => r.name === c || r.name.startsWith(`${c}-`))]));
}

/** Earliest finish of each resource in `members`, dependencies outside `members` already done. */
function schedule(doc: RenderDocument, members: Set<string>, table: Record<string, number>) {
    const byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
    const children = new Map<string, string[]>();
    for (const r of doc.resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
    // Depending on a component means waiting for everything under it (as the engine does).
    const expand = (urn: string): string[] => {
        const r = byUrn.get(urn);
        if (!r || r.custom) return [urn];
        return (children.get(urn) ?? []).flatMap(expand);
    };
    const finish = new Map<string, number>();
    const via = new Map<string, string | undefined>();
    const visiting = new Set<string>();
    const visit = (urn: string): number => {
        if (!members.has(urn)) return 0;
        const known = finish.get(urn);
        if (known !== undefined) return known;
        if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
        visiting.add(urn);
        const r = byUrn.get(urn)!;
        const deps = [...r.dependencies, ...(r.provider ? [r.provider] : [])].flatMap(expand).filter((d) => d !== urn);
        let start = 0;
        let before: string | undefined;
        for (const d of deps) {
            const f = visit(d);
            // Only members finish after 0; on a tie the first dependency (sorted by URN) stays.
            if (f > start) [start, before] = [f, d];
        }
        visiting.delete(urn);
        finish.set(urn, start + durationOf(r, table));
        via.set(urn, before);
        return finish.get(urn)!;
    };
    for (const urn of members) visit(urn);
    return { finish, via, byUrn };
}

export function modelRebuild(doc: RenderDocument, table: Record<string, number> = defaultDurations): ClusterModel[] {
    const children = new Map<string, RenderedResource[]>();
    for (const r of doc.resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    const descendants = (r: RenderedResource): RenderedResource[] => [r, ...(children.get(r.urn) ?? []).flatMap(descendants)];
    const models: ClusterModel[] = [];
    for (const [cluster, roots] of clusterRoots(doc)) {
        const members = new Set(roots.flatMap(descendants).map((r) => r.urn));
        const { finish, via, byUrn } = schedule(doc, members, table);
        let last: string | undefined;
        for (const urn of [...members].sort()) if (last === undefined || finish.get(urn)! > finish.get(last)!) last = urn;
        const path: Step[] = [];
        for (let at = last; at !== undefined; at = via.get(at)) {
            const r = byUrn.get(at)!;
            const end = finish.get(at)!;
            path.unshift({ urn: at, type: r.type, name: r.name, start: end - durationOf(r, table), finish: end });
        }
        models.push({ cluster, resources: members.size, minutes: last === undefined ? 0 : finish.get(last)!, criticalPath: path.filter((s) => s.finish > s.start) });
    }
    return models.sort((a, b) => (a.cluster < b.cluster ? -1 : 1));
}

const fmt = (minutes: number) => `${Math.round(minutes * 10) / 10}`;

export function toMarkdown(models: ClusterModel[]): string {
    const lines = ["| cluster | resources | modeled rebuild (min) | critical path |", "|---|---:|---:|---|"];
    for (const m of models) lines.push(`| ${m.cluster} | ${m.resources} | ${fmt(m.minutes)} | ${m.criticalPath.map((s) => `${s.type.split(":").pop()} \`${s.name}\` (${fmt(s.finish - s.start)})`).join(" → ")} |`);
    return lines.join("\n") + "\n";
}

const USAGE = `usage: node dist/scripts/rebuild-model.js --render F.json [--durations F.json] [--markdown]

The modeled rebuild time of each cluster in an offline render (npm run render -- --out F.json):
its critical path through the dependency graph, with create durations per resource type
(--durations F.json overrides entries of the default table). JSON, or a Markdown table.
`;

function main(): number {
    const { values } = parseCommandLine("rebuild-model", USAGE, { options: { render: { type: "string" }, durations: { type: "string" }, markdown: { type: "boolean" } } });
    if (!values.render) usageError("rebuild-model", "--render F.json is required (--help for usage)");
    for (const file of [values.render, values.durations]) if (file && !fs.existsSync(file)) usageError("rebuild-model", `no such file: ${file}`);
    const doc = JSON.parse(fs.readFileSync(values.render, "utf8")) as RenderDocument;
    const table = values.durations ? { ...defaultDurations, ...JSON.parse(fs.readFileSync(values.durations, "utf8")) } : defaultDurations;
    const models = modelRebuild(doc, table);
    process.stdout.write(values.markdown ? toMarkdown(models) : JSON.stringify(models, null, 2) + "\n");
    return 0;
}

if (require.main === module) process.exit(main());
