/**
 * Alerts that can fire: every metric an alert rule reads is scraped by something the program
 * or a chart creates. The table below (written by hand) names, per metric prefix, the scrape
 * job that produces it; a rule whose metric has no entry fails here, and so does an entry
 * whose job the render does not create (a PodMonitor of the monitoring add-on, or a
 * kube-prometheus-stack scrape the values leave on; scripts/check-chart-values.ts confirms
 * with the real chart that those ServiceMonitors render).
 */
import { strict as assert } from "assert";
import { alertRuleGroups } from "../components/platform/alert-rules";
import { readStackConfig, RenderDocument, RenderedResource, renderProgram, stackFilePath } from "../scripts/render-program";
import { addonOf, assertDependsOn, clustersOf, kindNamed, Raw, renderStack, STACKS, valuesOf } from "./platform-helpers";

const POD_MONITOR = "monitoring.coreos.com/v1:PodMonitor";

/** Metric name prefix (or exact name) -> the scrape job that produces it. */
const metricSources: [RegExp, string][] = [
    [/^kube_/, "kube-state-metrics"],
    [/^node_/, "node-exporter"],
    [/^container_/, "kubelet"],
    [/^kubelet_/, "kubelet"],
    [/^apiserver_/, "apiserver"],
    // The one `up` series the rules read is `up{job="apiserver"}`.
    [/^up$/, "apiserver"],
    [/^envoy_/, "envoy-proxy"],
    [/^certmanager_/, "cert-manager"],
    [/^velero_/, "velero"],
];

type Job = { chart: string } | { podMonitor: { namespace: string; podLabels: Raw; port: string; path: string } };
/** Each job: a kube-prometheus-stack switch (on by the chart's default unless our values turn it off), or the PodMonitor the program creates. */
const jobs: Record<string, Job> = {
    "kube-state-metrics": { chart: "kubeStateMetrics.enabled" },
    "node-exporter": { chart: "nodeExporter.enabled" },
    kubelet: { chart: "kubelet.enabled" },
    apiserver: { chart: "kubeApiServer.enabled" },
    "envoy-proxy": {
        podMonitor: {
            namespace: "gateway-system",
            podLabels: { "app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy", "app.kubernetes.io/managed-by": "envoy-gateway" },
            port: "metrics",
            path: "/stats/prometheus",
        },
    },
    "envoy-gateway": { podMonitor: { namespace: "gateway-system", podLabels: { "control-plane": "envoy-gateway" }, port: "metrics", path: "/metrics" } },
    "cert-manager": { podMonitor: { namespace: "cert-manager", podLabels: { "app.kubernetes.io/instance": "cert-manager" }, port: "http-metrics", path: "/metrics" } },
    velero: { podMonitor: { namespace: "velero", podLabels: { "app.kubernetes.io/name": "velero", "app.kubernetes.io/instance": "velero" }, port: "http-monitoring", path: "/metrics" } },
};

const NOT_METRICS = new Set(["and", "or", "unless", "bool", "offset", "inf", "nan"]);
/** The metric names a PromQL expression reads: identifiers that are not functions, keywords, label names or durations. */
function metricsOf(expr: string): string[] {
    const stripped = expr
        .replace(/"(?:[^"\\]|\\.)*"/g, '""')
        .replace(/\{[^}]*\}/g, "")
        .replace(/\[[^\]]*\]/g, "")
        .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
    const names = [...stripped.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)].filter((m) => !m[2]).map((m) => m[1]);
    return [...new Set(names.filter((n) => !NOT_METRICS.has(n)))];
}

const jobOf = (metric: string) => metricSources.find(([pattern]) => pattern.test(metric))?.[1];
const rules = alertRuleGroups.flatMap((g) => g.rules);

describe("platform: every alert rule's metrics are scraped", () => {
    it("reads the metric names out of PromQL (the helper the checks below rely on)", () => {
        assert.deepEqual(metricsOf('sum by (namespace) (rate(envoy_http_downstream_rq_xx{envoy_response_code_class="5"}[5m])) / sum(rate(foo_total[5m])) > 0.05'), ["envoy_http_downstream_rq_xx", "foo_total"]);
        assert.deepEqual(metricsOf(`time() - velero_backup_last_successful_timestamp{schedule!=""} > ${26 * 3600}`), ["velero_backup_last_successful_timestamp"]);
        assert.deepEqual(metricsOf('absent(up{job="apiserver"} == 1)'), ["up"]);
        assert.equal(jobOf("foo_total"), undefined, "a metric nothing scrapes has no job");
    });

    it("maps every metric of every rule to a scrape job", () => {
        const unscraped: string[] = [];
        let metrics = 0;
        for (const rule of rules) {
            for (const metric of metricsOf(rule.expr)) {
                metrics++;
                const job = jobOf(metric);
                if (!job || !(job in jobs)) unscraped.push(`${rule.alert}: ${metric}`);
            }
        }
        assert.deepEqual(unscraped, []);
        assert.ok(metrics >= rules.length, `read ${metrics} metrics from ${rules.length} rules`);
    });

    for (const stack of STACKS) {
        describe(stack, () => {
            let doc: RenderDocument;
            before(async function () {
                doc = await renderStack(stack);
            });

            it("creates each job the rules need, and the Envoy Gateway controller's", () => {
                const needed = new Set([...rules.flatMap((r) => metricsOf(r.expr).map((m) => jobOf(m)!)), "envoy-gateway"]);
                assert.equal(needed.size, 8);
                for (const cluster of clustersOf(stack)) {
                    const monitoring = addonOf(doc, cluster.name, "monitoring");
                    const values = valuesOf(monitoring.release);
                    for (const job of needed) {
                        const source = jobs[job];
                        if ("chart" in source) {
                            const value = source.chart.split(".").reduce<unknown>((v, k) => (v as Raw | undefined)?.[k], values);
                            assert.notEqual(value, false, `${cluster.name}: ${job} is turned off (${source.chart})`);
                            continue;
                        }
                        const monitor: RenderedResource = kindNamed(monitoring.children, POD_MONITOR, job);
                        assert.deepEqual(monitor.inputs.metadata, { name: job, namespace: "monitoring", labels: { "app.kubernetes.io/part-of": "platform" } });
                        assert.deepEqual(monitor.inputs.spec, {
                            namespaceSelector: { matchNames: [source.podMonitor.namespace] },
                            selector: { matchLabels: source.podMonitor.podLabels },
                            podMetricsEndpoints: [{ port: source.podMonitor.port, path: source.podMonitor.path }],
                        });
                        assertDependsOn(monitor, monitoring.release);
                    }
                }
            });

            it("has Prometheus select every PodMonitor and ServiceMonitor, in every namespace", () => {
                for (const cluster of clustersOf(stack)) {
                    const spec = valuesOf(addonOf(doc, cluster.name, "monitoring").release).prometheus.prometheusSpec;
                    assert.equal(spec.podMonitorSelectorNilUsesHelmValues, false);
                    assert.equal(spec.serviceMonitorSelectorNilUsesHelmValues, false);
                    // Unset: the chart's default `{}`, every namespace.
                    assert.equal(spec.podMonitorNamespaceSelector, undefined);
                    assert.equal(spec.serviceMonitorNamespaceSelector, undefined);
                }
            });
        });
    }

    it("scrapes only enabled add-ons", async () => {
        const config = readStackConfig(stackFilePath("local"));
        const settings = JSON.parse(config.values["platform:addons"]);
        config.values["platform:addons"] = JSON.stringify({ ...settings, velero: { enabled: false }, envoyGateway: { enabled: false } });
        const doc = await renderProgram("local", config);
        const monitoring = addonOf(doc, "local-kind", "monitoring");
        const monitors = monitoring.children.filter((r) => r.type === `kubernetes:${POD_MONITOR}`).map((r) => (r.inputs.metadata as Raw).name);
        assert.deepEqual(monitors, ["cert-manager"]);
    });
});
