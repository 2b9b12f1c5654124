/**
 * Checks of our Helm values against a chart's own files (values.yaml, templates/, subcharts),
 * for scripts/check-chart-values.ts. Pure functions over a chart directory and parsed YAML.
 */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";

type Raw = Record<string, unknown>;
const isMap = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);

interface Chart {
    readonly defaults: Raw;
    /** Every template (and helper) of the chart, concatenated. */
    readonly templates: string;
    /** Subcharts by the key their values sit under. */
    readonly subcharts: ReadonlyMap<string, Chart>;
}

function filesUnder(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

export function loadChart(dir: string): Chart {
    const valuesFile = path.join(dir, "values.yaml");
    const defaults = fs.existsSync(valuesFile) ? ((YAML.parse(fs.readFileSync(valuesFile, "utf8")) as Raw | null) ?? {}) : {};
    const templates = filesUnder(path.join(dir, "templates"))
        .map((f) => fs.readFileSync(f, "utf8"))
        .join("\n");
    const subcharts = new Map<string, Chart>();
    const chartsDir = path.join(dir, "charts");
    if (fs.existsSync(chartsDir)) {
        for (const e of fs.readdirSync(chartsDir, { withFileTypes: true })) {
            const sub = path.join(chartsDir, e.name);
            if (!e.isDirectory() || !fs.existsSync(path.join(sub, "Chart.yaml"))) continue;
            const name = (YAML.parse(fs.readFileSync(path.join(sub, "Chart.yaml"), "utf8")) as { name: string }).name;
            subcharts.set(name, loadChart(sub));
        }
    }
    return { defaults, templates, subcharts };
}

/** Leaf paths of our values, not descending into lists (a list is set whole). */
function leaves(values: unknown, at: string[] = []): string[][] {
    if (!isMap(values) || Object.keys(values).length === 0) return [at];
    return Object.entries(values).flatMap(([k, v]) => leaves(v, [...at, k]));
}

const get = (root: unknown, keys: string[]) => keys.reduce<unknown>((v, k) => (isMap(v) ? v[k] : undefined), root);
const has = (root: unknown, keys: string[]) => keys.length === 0 || isMap(get(root, keys.slice(0, -1))) && keys[keys.length - 1] in (get(root, keys.slice(0, -1)) as Raw);

/** A template reads `.Values.<keys>` itself (`.Values.a.b`, or `index .Values "a" "b"` for keys that are not identifiers). */
function referenced(templates: string, keys: string[]): boolean {
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const indexed = new RegExp(`index\\s+\\$?\\.Values\\s+${keys.map((k) => escape(`"${k}"`)).join("\\s+")}(?!\\s+")`);
    if (indexed.test(templates)) return true;
    if (!keys.every((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))) return false;
    return new RegExp(`\\.Values\\.${keys.join("\\.")}(?![A-Za-z0-9_.])`).test(templates);
}

function typeOf(v: unknown): string {
    if (Array.isArray(v)) return "list";
    if (v === null || v === undefined) return "null";
    return typeof v === "object" ? "map" : typeof v;
}

/**
 * Whether the chart reads the key path: values.yaml has it, or a template reads it (or one of
 * its parents as a whole, e.g. `toYaml .Values.cli.resources`), or it sits under a key whose
 * default is empty (labels, annotations, resources: free-form by design). Values under a
 * subchart's key reach both the subchart and the parent's templates.
 */
function isUsed(chart: Chart, keys: string[]): boolean {
    if (has(chart.defaults, keys)) return true;
    for (let n = keys.length; n >= 1; n--) {
        const parent = keys.slice(0, n);
        const theirs = get(chart.defaults, parent);
        const freeForm = n < keys.length && has(chart.defaults, parent) && ((isMap(theirs) && Object.keys(theirs).length === 0) || (Array.isArray(theirs) && theirs.length === 0) || theirs === null);
        if (freeForm || referenced(chart.templates, parent)) return true;
    }
    const sub = chart.subcharts.get(keys[0]);
    return sub !== undefined && keys.length > 1 && isUsed(sub, keys.slice(1));
}

/** The chart's default at a key path, looking into the subchart its first key names when the parent has none. */
function defaultAt(chart: Chart, keys: string[]): { found: boolean; value?: unknown } {
    if (has(chart.defaults, keys)) return { found: true, value: get(chart.defaults, keys) };
    const sub = chart.subcharts.get(keys[0]);
    return sub && keys.length > 1 ? defaultAt(sub, keys.slice(1)) : { found: false };
}

/** Keys of `values` the chart does not read, and keys whose type differs from the chart's default. */
export function valueProblems(chart: Chart, values: Raw): string[] {
    return leaves(values).filter((keys) => keys.length > 0).flatMap((keys) => {
        const name = keys.join(".");
        if (!isUsed(chart, keys)) return [`${name}: not in the chart's values.yaml and no template reads it`];
        const theirs = defaultAt(chart, keys);
        const [a, b] = [typeOf(get(values, keys)), typeOf(theirs.value)];
        return theirs.found && b !== "null" && a !== b ? [`${name}: we set a ${a}, the chart's default is a ${b}`] : [];
    });
}

/** A rendered manifest, as `helm template` prints it. */
export type Manifest = { kind?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Raw };

export const parseManifests = (text: string): Manifest[] =>
    YAML.parseAllDocuments(text)
        .map((d) => d.toJS() as Manifest | null)
        .filter((d): d is Manifest => d !== null && typeof d === "object");

/** A workload's pod template (with its owner's replicas) or a bare pod. */
export interface PodTemplate {
    readonly owner: string;
    readonly replicas?: number;
    readonly labels: Record<string, string>;
    readonly spec: Raw;
}

export function podTemplates(manifests: Manifest[]): PodTemplate[] {
    return manifests.flatMap((m): PodTemplate[] => {
        const owner = `${m.kind}/${m.metadata?.name}`;
        const spec = m.spec ?? {};
        const template = (t: unknown, replicas?: number): PodTemplate[] => (isMap(t) ? [{ owner, replicas, labels: ((t.metadata as Raw | undefined)?.labels as Record<string, string>) ?? {}, spec: (t.spec as Raw) ?? {} }] : []);
        switch (m.kind) {
            case "Deployment":
            case "StatefulSet":
                return template(spec.template, (spec.replicas as number | undefined) ?? 1);
            case "DaemonSet":
            case "Job":
                return template(spec.template);
            case "CronJob":
                return template(((spec.jobTemplate as Raw | undefined)?.spec as Raw | undefined)?.template);
            case "Pod":
                return [{ owner, labels: m.metadata?.labels ?? {}, spec }];
            default:
                return [];
        }
    });
}

type Container = { name: string; resources?: { requests?: Record<string, unknown> }; ports?: { name?: string }[]; args?: string[] };
export const containersOf = (pod: PodTemplate): Container[] => [...((pod.spec.initContainers as Container[]) ?? []), ...((pod.spec.containers as Container[]) ?? [])];

/** Containers (and the operator's Prometheus/Alertmanager) without both CPU and memory requests. */
export function missingRequests(manifests: Manifest[]): string[] {
    const lacking = (r: Record<string, unknown> | undefined) => !r?.cpu || !r?.memory;
    const pods = podTemplates(manifests).flatMap((pod) => containersOf(pod).filter((c) => lacking(c.resources?.requests)).map((c) => `${pod.owner} container ${c.name}`));
    const operated = manifests
        .filter((m) => (m.kind === "Prometheus" || m.kind === "Alertmanager") && lacking(((m.spec?.resources as Raw | undefined)?.requests as Record<string, unknown>) ?? undefined))
        .map((m) => `${m.kind}/${m.metadata?.name} (spec.resources)`);
    return [...pods, ...operated];
}

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) => !!selector && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Workloads of more than one replica that no PodDisruptionBudget covers. */
export function uncoveredReplicas(manifests: Manifest[]): string[] {
    const budgets = manifests.filter((m) => m.kind === "PodDisruptionBudget").map((m) => (m.spec?.selector as Raw | undefined)?.matchLabels as Record<string, string> | undefined);
    return podTemplates(manifests)
        .filter((pod) => (pod.replicas ?? 1) > 1 && !budgets.some((b) => selects(b, pod.labels)))
        .map((pod) => `${pod.owner} (${pod.replicas} replicas)`);
}

/** Whether some pod of the chart matches a PodMonitor's labels and serves its port. */
export const servesPort = (manifests: Manifest[], labels: Record<string, string>, port: string) =>
    podTemplates(manifests).some((pod) => selects(labels, pod.labels) && containersOf(pod).some((c) => (c.ports ?? []).some((p) => p.name === port)));

/**
 * The charts tools/charts.tsv can assemble (its top-level `dest` column): a chart without a row
 * has no source the Go module proxy serves, so no bootstrap will ever bring it (docs/integration.md).
 */
export const assembledCharts = (table: string): Set<string> =>
    new Set(
        table
            .split("\n")
            .filter((line) => line.trim() && !line.startsWith("#"))
            .map((line) => line.split("\t")[0])
            .filter((dest) => !dest.includes("/")),
    );

/** Why a pinned chart was not checked: it has no offline source at all, or this directory lacks it. */
export const notCheckedReason = (chart: string, chartsDir: string, assembled: Set<string>): string =>
    assembled.has(chart) ? `${chart} (not in ${chartsDir})` : `${chart} (no source on the Go module proxy: docs/integration.md)`;
