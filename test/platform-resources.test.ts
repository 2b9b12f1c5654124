/**
 * Every container the platform's charts deploy gets resource requests, in every environment;
 * in production the controllers that elect a leader run two replicas with a
 * PodDisruptionBudget. The paths are each chart's values keys (checked against its
 * values.yaml at the pin; scripts/check-chart-values.ts renders the charts to confirm that no
 * container is left without requests). Expected values are written out here.
 */
import { strict as assert } from "assert";
import { addonKeys, addons } from "../components/platform/addons";
import { RenderDocument } from "../scripts/render-program";
import { addonFilesOn, addonOf, clustersOf, environmentOf, Raw, renderStack, STACKS, valuesOf } from "./platform-helpers";

/** Per add-on (its file), the values path of each container's `resources`; `[]` walks a list. */
const containers: Record<string, string[]> = {
    "cert-manager": ["resources", "webhook.resources", "cainjector.resources", "startupapicheck.resources"],
    velero: ["resources", "upgradeJobResources", "initContainers[].resources"],
    "envoy-gateway": ["deployment.envoyGateway.resources", "certgen.job.resources"],
    "external-secrets": ["resources", "webhook.resources", "certController.resources"],
    falco: ["resources", "falcoctl.artifact.install.resources"],
    flux: ["sourceController.resources", "kustomizeController.resources", "helmController.resources", "notificationController.resources", "cli.resources"],
    monitoring: [
        "prometheus.prometheusSpec.resources",
        "alertmanager.alertmanagerSpec.resources",
        "prometheusOperator.resources",
        "prometheusOperator.prometheusConfigReloader.resources",
        "prometheusOperator.admissionWebhooks.patch.resources",
        "kube-state-metrics.resources",
        "prometheus-node-exporter.resources",
        "grafana.resources",
        "grafana.sidecar.resources",
        "grafana.testFramework.resources",
    ],
    kyverno: [
        "admissionController.container.resources",
        "admissionController.initContainer.resources",
        "backgroundController.resources",
        "cleanupController.resources",
        "reportsController.resources",
        "crds.migration.podResources",
        "webhooksCleanup.resources",
        "test.resources",
    ],
    "cluster-autoscaler": ["resources"],
    // The addon-resizer sidecar (`addonResizer.resources`) is off by default at 3.13.1.
    "metrics-server": ["resources"],
};

/** Replicas and PDB switches: [production, staging, local]. Single-replica controllers are listed in docs/platform.md with the reason. */
const availability: Record<string, Record<string, [unknown, unknown, unknown]>> = {
    "cert-manager": {
        replicaCount: [2, 1, 1],
        "podDisruptionBudget.enabled": [true, false, false],
        "webhook.replicaCount": [2, 1, 1],
        "webhook.podDisruptionBudget.enabled": [true, false, false],
        "cainjector.replicaCount": [2, 1, 1],
        "cainjector.podDisruptionBudget.enabled": [true, false, false],
    },
    "external-secrets": {
        replicaCount: [2, 1, 1],
        leaderElect: [true, false, false],
        "podDisruptionBudget.enabled": [true, false, false],
        "webhook.replicaCount": [2, 1, 1],
        "webhook.podDisruptionBudget.enabled": [true, false, false],
        "certController.replicaCount": [2, 1, 1],
        "certController.podDisruptionBudget.enabled": [true, false, false],
    },
    kyverno: {
        "admissionController.replicas": [3, 1, 1],
        "backgroundController.replicas": [2, 1, 1],
        "backgroundController.podDisruptionBudget.enabled": [true, false, false],
        "cleanupController.replicas": [2, 1, 1],
        "cleanupController.podDisruptionBudget.enabled": [true, false, false],
        "reportsController.replicas": [2, 1, 1],
        "reportsController.podDisruptionBudget.enabled": [true, false, false],
    },
    "envoy-gateway": {
        "deployment.replicas": [2, 2, 1],
        "podDisruptionBudget.minAvailable": [1, 1, 0],
    },
    // Not leader-electing, but every HorizontalPodAutoscaler stops deciding while it is down.
    "metrics-server": {
        replicas: [2, 1, 1],
        "podDisruptionBudget.enabled": [true, false, false],
    },
};
/** Containers checked per stack: 37 per cluster, and the two add-ons of its one EKS cluster (staging, production). */
const CONTAINERS_CHECKED: Record<string, number> = { local: 37, staging: 3 * 37 + 2, production: 3 * 37 + 2 };
/** Replica and PDB settings checked per stack: 22 per cluster, and metrics-server's two on the EKS cluster. */
const AVAILABILITY_CHECKED: Record<string, number> = { local: 22, staging: 3 * 22 + 2, production: 3 * 22 + 2 };

const QUANTITY = /^\d+(\.\d+)?(m|Mi|Gi)?$/;

/** The values at `path` (`a.b[].c` yields one per list item). */
function at(values: unknown, path: string): unknown[] {
    return path.split(".").reduce<unknown[]>(
        (found, key) =>
            found.flatMap((v) => {
                const list = key.endsWith("[]");
                const next = (v as Raw | undefined)?.[list ? key.slice(0, -2) : key];
                return list ? (Array.isArray(next) ? next : []) : [next];
            }),
        [values],
    );
}

describe("platform: requests, replicas and disruption budgets", () => {
    it("lists every add-on", () => {
        assert.deepEqual(Object.keys(containers).sort(), addonKeys.map((key) => addons[key].file).sort());
    });

    for (const stack of STACKS) {
        describe(stack, () => {
            let doc: RenderDocument;
            before(async function () {
                doc = await renderStack(stack);
            });

            it("gives every container of every release CPU and memory requests", () => {
                let checked = 0;
                for (const cluster of clustersOf(stack)) {
                    for (const [file, paths] of Object.entries(containers).filter(([file]) => addonFilesOn(cluster).includes(file))) {
                        const values = valuesOf(addonOf(doc, cluster.name, file).release);
                        for (const path of paths) {
                            const found = at(values, path);
                            assert.ok(found.length > 0, `${cluster.name} ${file}: ${path} matches nothing`);
                            for (const resources of found) {
                                const requests = (resources as Raw | undefined)?.requests as Raw | undefined;
                                assert.match(String(requests?.cpu), QUANTITY, `${cluster.name} ${file}: ${path}.requests.cpu`);
                                assert.match(String(requests?.memory), QUANTITY, `${cluster.name} ${file}: ${path}.requests.memory`);
                                checked++;
                            }
                        }
                    }
                }
                // local: one cluster, staging and production: three; velero has one plugin init container per cluster here.
                assert.equal(checked, CONTAINERS_CHECKED[stack]);
            });

            it("runs two replicas of each leader-electing controller, with a PDB, in production (the gateway outside local)", () => {
                const column = ["production", "staging", "local"].indexOf(environmentOf(stack));
                let checked = 0;
                for (const cluster of clustersOf(stack)) {
                    for (const [file, expected] of Object.entries(availability).filter(([file]) => addonFilesOn(cluster).includes(file))) {
                        const values = valuesOf(addonOf(doc, cluster.name, file).release);
                        for (const [path, columns] of Object.entries(expected)) {
                            assert.deepEqual(at(values, path), [columns[column]], `${cluster.name} ${file}: ${path}`);
                            checked++;
                        }
                    }
                }
                assert.equal(checked, AVAILABILITY_CHECKED[stack]);
            });
        });
    }

    it("sizes Prometheus' memory per environment", async () => {
        const expected: Record<string, string> = { local: "512Mi", staging: "1Gi", production: "2Gi" };
        for (const stack of STACKS) {
            const doc = await renderStack(stack);
            for (const cluster of clustersOf(stack)) {
                const spec = valuesOf(addonOf(doc, cluster.name, "monitoring").release).prometheus.prometheusSpec;
                assert.deepEqual(spec.resources, { requests: { cpu: "200m", memory: expected[environmentOf(stack)] } });
            }
        }
    });
});
