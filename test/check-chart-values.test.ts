/**
 * The checks scripts/check-chart-values.ts runs on a chart, on a tiny chart written here (the
 * real charts are only on machines that ran the bootstrap).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { assembledCharts, loadChart, missingRequests, notCheckedReason, parseManifests, servesPort, uncoveredReplicas, valueProblems } from "../scripts/chart-checks";

function tinyChart(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiny-chart-"));
    const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
    };
    write("Chart.yaml", "apiVersion: v2\nname: tiny\nversion: 1.0.0\n");
    write("values.yaml", "replicaCount: 1\npodLabels: {}\nwebhook:\n  enabled: true\ncli: {}\n");
    write("templates/deployment.yaml", "replicas: {{ .Values.replicaCount }}\n{{- with .Values.cli.resources }}{{ toYaml . }}{{ end }}\n{{ .Values.extra.flag }}\n");
    write("templates/config.yaml", '{{ range $k, $v := index .Values "app.ini" }}{{ $k }}{{ end }}\n');
    write("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n");
    write("charts/sub/values.yaml", "resources: {}\nport: 80\n");
    write("charts/sub/templates/x.yaml", "{{ .Values.port }}\n");
    return dir;
}

describe("check-chart-values: the checks on a chart", () => {
    const chart = loadChart(tinyChart());

    it("accepts keys the chart has, free-form maps, and keys templates read (directly, as a whole, or with index)", () => {
        const values = {
            replicaCount: 2,
            podLabels: { "example.com/x": "y" },
            webhook: { enabled: false },
            cli: { resources: { requests: { cpu: "10m", memory: "32Mi" } } },
            extra: { flag: true },
            "app.ini": { server: { root_url: "https://x" } },
            sub: { resources: { requests: { cpu: "1m" } }, port: 8080 },
        };
        assert.deepEqual(valueProblems(chart, values), []);
    });

    it("names a key nothing reads and a key of the wrong type, in the chart and in a subchart", () => {
        const values = { replicas: 2, replicaCount: "2", webhook: { enable: true }, sub: { prot: 1, port: "80" } };
        assert.deepEqual(valueProblems(chart, values), [
            "replicas: not in the chart's values.yaml and no template reads it",
            "replicaCount: we set a string, the chart's default is a number",
            "webhook.enable: not in the chart's values.yaml and no template reads it",
            "sub.prot: not in the chart's values.yaml and no template reads it",
            "sub.port: we set a string, the chart's default is a number",
        ]);
    });

    const manifests = parseManifests(`
kind: Deployment
metadata: { name: two }
spec:
  replicas: 2
  template:
    metadata: { labels: { app: two } }
    spec:
      initContainers: [{ name: init, resources: { requests: { cpu: 1m } } }]
      containers: [{ name: main, ports: [{ name: metrics }], resources: { requests: { cpu: 10m, memory: 8Mi } } }]
---
kind: Job
metadata: { name: hook }
spec: { template: { metadata: { labels: { app: hook } }, spec: { containers: [{ name: run }] } } }
---
kind: Prometheus
metadata: { name: p }
spec: { resources: { requests: { cpu: 1m, memory: 1Mi } } }
---
kind: Alertmanager
metadata: { name: a }
spec: {}
`);

    it("finds containers and operated servers without CPU and memory requests", () => {
        assert.deepEqual(missingRequests(manifests), ["Deployment/two container init", "Job/hook container run", "Alertmanager/a (spec.resources)"]);
    });

    it("finds workloads of several replicas without a PodDisruptionBudget", () => {
        assert.deepEqual(uncoveredReplicas(manifests), ["Deployment/two (2 replicas)"]);
        const budget = parseManifests("kind: PodDisruptionBudget\nmetadata: { name: two }\nspec: { selector: { matchLabels: { app: two } } }\n");
        assert.deepEqual(uncoveredReplicas([...manifests, ...budget]), []);
    });

    it("matches a PodMonitor to the pods that serve its port", () => {
        assert.equal(servesPort(manifests, { app: "two" }, "metrics"), true);
        assert.equal(servesPort(manifests, { app: "two" }, "http-metrics"), false);
        assert.equal(servesPort(manifests, { app: "hook" }, "metrics"), false);
    });
});

describe("check-chart-values: why a chart was not checked", () => {
    const table = fs.readFileSync(path.join(__dirname, "..", "..", "tools", "charts.tsv"), "utf8");

    it("tools/charts.tsv assembles exactly these charts (its subcharts are not charts of their own)", () => {
        assert.deepEqual([...assembledCharts(table)].sort(), ["cert-manager", "gateway-helm", "kube-prometheus-stack", "kyverno", "metrics-server", "velero"]);
    });

    it("a chart without a source says so; one with a source is only missing from the directory", () => {
        const assembled = assembledCharts(table);
        assert.equal(notCheckedReason("cluster-autoscaler", "/charts", assembled), "cluster-autoscaler (no source on the Go module proxy: docs/integration.md)");
        assert.equal(notCheckedReason("metrics-server", "/charts", assembled), "metrics-server (not in /charts)");
    });
});
