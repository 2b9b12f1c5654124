/**
 * node dist/scripts/check-chart-values.js [--charts DIR] [--helm PATH] [--stack NAME... | --render FILE...] [--any-version]
 * Renders each add-on's real chart with the values the program gives it and checks them.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { addonKeys, addons } from "../components/platform/addons";
import { chartName } from "../components/versions";
import { assembledCharts, containersOf, loadChart, Manifest, missingRequests, notCheckedReason, parseManifests, podTemplates, servesPort, uncoveredReplicas, valueProblems } from "./chart-checks";
import { parseCommandLine, usageError } from "./cli";
import { projectRoot, readStackConfig, RenderDocument, renderProgram, stackFilePath } from "./render-program";

const USAGE = `usage: node dist/scripts/check-chart-values.js [--charts DIR] [--helm PATH] [--stack NAME... | --render FILE...] [--any-version]

Renders every add-on's chart found under DIR (<DIR>/<chart>, as scripts/bootstrap-tools.sh
assembles them) with \`helm template\` and the values each stack's render gives its releases,
and fails when:
  - a key we set is not in the chart's values.yaml and no template reads it, or has another
    type than the chart's default; or \`helm template\` refuses the values (schema, templates);
  - a container (init containers, hooks and test pods included) or the operator's Prometheus
    or Alertmanager has no CPU or memory requests;
  - a workload of more than one replica has no PodDisruptionBudget;
  - a PodMonitor the program creates for the add-on selects no pod of the chart serving its port;
  - Flux lacks its multi-tenancy flags, or kube-prometheus-stack's Prometheus does not select
    every PodMonitor, ServiceMonitor and PrometheusRule, or lacks the scrapes the alert rules read.
A chart missing from DIR is listed as not checked, with the reason (no source on the Go module
proxy, or not in DIR); one at another version than its pin fails.

  --charts DIR     where the charts are (default .tools/charts)
  --helm PATH      the helm binary (default .tools/bin/helm, else helm on PATH)
  --stack NAME     a stack to take values from, repeatable (default: production and local)
  --render FILE    a stack's render already written by \`npm run render -- --out FILE\`, instead
                   of rendering it again (repeatable; .ci/run passes its renders)
  --any-version    check a chart at another version than its pin (trying a bump); not a failure
  -h, --help       this text
`;

type Raw = Record<string, unknown>;

/** What the rendered chart must show, per chart, beyond the checks every chart gets. */
const findings: Record<string, (manifests: Manifest[]) => string[]> = {
    flux2: (manifests) => {
        const problems: string[] = [];
        const argsOf = (deployment: string) => {
            const pod = podTemplates(manifests).find((p) => p.owner === `Deployment/${deployment}`);
            return pod ? containersOf(pod).flatMap((c) => c.args ?? []) : [];
        };
        const lockdown = ["--no-cross-namespace-refs=true", "--default-service-account=default"];
        for (const [deployment, flags] of [["kustomize-controller", [...lockdown, "--no-remote-bases=true"]], ["helm-controller", lockdown]] as const) {
            const args = argsOf(deployment);
            for (const flag of flags) if (!args.includes(flag)) problems.push(`${deployment} lacks ${flag}`);
        }
        const bindings = manifests.filter((m) => m.kind === "ClusterRoleBinding").map((m) => m.metadata?.name);
        if (bindings.includes("cluster-reconciler")) problems.push("ClusterRoleBinding cluster-reconciler still binds the controllers to cluster-admin");
        if (!bindings.includes("cluster-reconciler-impersonator")) problems.push("no ClusterRoleBinding cluster-reconciler-impersonator (the controllers could not impersonate)");
        return problems;
    },
    "kube-prometheus-stack": (manifests) => {
        const problems: string[] = [];
        const prometheus = manifests.find((m) => m.kind === "Prometheus");
        for (const field of ["podMonitorSelector", "podMonitorNamespaceSelector", "serviceMonitorSelector", "serviceMonitorNamespaceSelector", "ruleSelector", "ruleNamespaceSelector"]) {
            const value = prometheus?.spec?.[field];
            if (JSON.stringify(value) !== "{}") problems.push(`Prometheus ${field} is ${JSON.stringify(value)}, not {} (every object, every namespace)`);
        }
        const monitors = manifests.filter((m) => m.kind === "ServiceMonitor").map((m) => m.metadata?.name ?? "");
        for (const job of ["apiserver", "kubelet", "kube-state-metrics", "node-exporter"]) {
            if (!monitors.some((name) => name.endsWith(`-${job}`))) problems.push(`no ServiceMonitor for ${job}, which the alert rules read`);
        }
        return problems;
    },
};

function helmTemplate(helm: string, release: string, dir: string, namespace: string, values: Raw): { manifests: Manifest[]; error?: string } {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "chart-values-")), "values.json");
    fs.writeFileSync(file, JSON.stringify(values));
    const run = spawnSync(helm, ["template", release, dir, "--namespace", namespace, "--values", file, "--kube-version", "1.33.0"], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    fs.rmSync(path.dirname(file), { recursive: true });
    if (run.status !== 0) return { manifests: [], error: (run.stderr || String(run.error)).trim().split("\n")[0] };
    return { manifests: parseManifests(run.stdout) };
}

/** The distinct values each release gets across the stacks' clusters, with where they come from. */
function valuesByRelease(docs: RenderDocument[]): Map<string, { where: string[]; namespace: string; values: Raw }[]> {
    const found = new Map<string, { where: string[]; namespace: string; values: Raw }[]>();
    for (const doc of docs) {
        for (const r of doc.resources.filter((x) => x.type === "kubernetes:helm.sh/v3:Release")) {
            const release = String(r.inputs.name);
            const values = (r.inputs.values ?? {}) as Raw;
            const list = found.get(release) ?? [];
            const same = list.find((v) => JSON.stringify(v.values) === JSON.stringify(values));
            const where = `${doc.stack}/${r.name.replace(/-platform-.*$/, "")}`;
            if (same) same.where.push(where);
            else list.push({ where: [where], namespace: String(r.inputs.namespace), values });
            found.set(release, list);
        }
    }
    return found;
}

/** PodMonitors of the render that select pods in `namespace`, unless a controller (not Helm) makes those pods. */
const podMonitorsInto = (docs: RenderDocument[], namespace: string) =>
    docs
        .flatMap((d) => d.resources)
        .filter((r) => r.type === "kubernetes:monitoring.coreos.com/v1:PodMonitor")
        .map((r) => r.inputs.spec as { namespaceSelector: { matchNames: string[] }; selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string }[] } & Raw)
        .filter((s) => s.namespaceSelector.matchNames.includes(namespace))
        .filter((s) => (s.selector.matchLabels["app.kubernetes.io/managed-by"] ?? "Helm") === "Helm");

async function main(): Promise<number> {
    const { values: args } = parseCommandLine("check-chart-values", USAGE, {
        options: { charts: { type: "string" }, helm: { type: "string" }, stack: { type: "string", multiple: true }, render: { type: "string", multiple: true }, "any-version": { type: "boolean" } },
    });
    const chartsDir = path.resolve(args.charts ?? path.join(projectRoot, ".tools", "charts"));
    const localHelm = path.join(projectRoot, ".tools", "bin", "helm");
    const helm = args.helm ?? (fs.existsSync(localHelm) ? localHelm : "helm");
    if (spawnSync(helm, ["version", "--short"], { encoding: "utf8" }).status !== 0) usageError("check-chart-values", `no working helm at ${helm} (--helm PATH)`);
    if (args.stack && args.render) usageError("check-chart-values", "--stack and --render are alternatives");
    const docs: RenderDocument[] = [];
    if (args.render) {
        for (const file of args.render) {
            if (!fs.existsSync(file)) usageError("check-chart-values", `no render ${file}`);
            docs.push(JSON.parse(fs.readFileSync(file, "utf8")) as RenderDocument);
        }
    } else {
        const stacks = args.stack ?? ["production", "local"];
        for (const stack of stacks) if (!fs.existsSync(stackFilePath(stack))) usageError("check-chart-values", `no stack file ${stackFilePath(stack)}`);
        for (const stack of stacks) docs.push(await renderProgram(stack, readStackConfig(stackFilePath(stack))));
    }
    const releases = valuesByRelease(docs);
    let failed = false;
    const covered: string[] = [];
    const notChecked: string[] = [];
    const assembled = assembledCharts(fs.readFileSync(path.join(projectRoot, "tools", "charts.tsv"), "utf8"));
    for (const key of addonKeys) {
        const pin = addons[key].chart;
        const name = chartName(pin);
        const dir = path.join(chartsDir, name);
        if (!fs.existsSync(path.join(dir, "Chart.yaml"))) {
            notChecked.push(notCheckedReason(name, chartsDir, assembled));
            continue;
        }
        const version = String((YAML.parse(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8")) as { version?: unknown }).version);
        const problems: string[] = [];
        if (version !== pin.version && !args["any-version"]) problems.push(`Chart.yaml is version ${version}, the pin is ${pin.version}`);
        const chart = loadChart(dir);
        for (const { where, namespace, values } of releases.get(name) ?? []) {
            const at = (p: string) => `${where.join(", ")}: ${p}`;
            problems.push(...valueProblems(chart, values).map(at));
            const { manifests, error } = helmTemplate(helm, name, dir, namespace, values);
            if (error) {
                problems.push(at(`helm template: ${error}`));
                continue;
            }
            problems.push(...missingRequests(manifests).map((c) => at(`no requests: ${c}`)));
            problems.push(...uncoveredReplicas(manifests).map((w) => at(`no PodDisruptionBudget: ${w}`)));
            problems.push(...(findings[name]?.(manifests) ?? []).map(at));
            for (const monitor of podMonitorsInto(docs, namespace)) {
                const port = monitor.podMetricsEndpoints[0].port;
                if (!servesPort(manifests, monitor.selector.matchLabels, port)) problems.push(at(`no pod matches PodMonitor ${JSON.stringify(monitor.selector.matchLabels)} with port ${port}`));
            }
        }
        covered.push(`${name} ${version}${version === pin.version ? "" : ` (pin ${pin.version})`}`);
        failed ||= problems.length > 0;
        process.stdout.write(problems.length ? `FAIL ${name}:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` : `ok   ${name} ${version}\n`);
    }
    process.stdout.write(`checked: ${covered.join(", ") || "none"}\nnot checked: ${notChecked.join(", ") || "none"}\n`);
    return failed ? 1 : 0;
}

main().then(
    (code) => process.exit(code),
    (err: unknown) => {
        process.stderr.write(`check-chart-values: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
    },
);
