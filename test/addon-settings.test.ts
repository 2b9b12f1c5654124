/**
 * Per-cluster add-on settings (`clusters[].addons`) and the values escape hatch
 * (`addons.<addon>.values`): what the schema accepts and refuses, and what renders where.
 */
import { strict as assert } from "assert";
import { addonsFor, validateSettings } from "../components/config";
import { addonKeys, addons } from "../components/platform/addons";
import { podSecurityGuards } from "../components/chart-values";
import { readStackConfig, RenderDocument, renderProgram } from "../scripts/render-program";
import { editedStackFile, loadStackSettings, renderStack } from "./mocks";
import { addonOf, Raw, valuesOf } from "./platform-helpers";

const problemsAfter = (stack: string, edit: (s: Raw) => void) => {
    const settings = structuredClone(loadStackSettings(stack)) as Raw;
    edit(settings);
    return validateSettings(settings).problems;
};
const renderEdited = (stack: string, edit: (s: Raw) => void): Promise<RenderDocument> => renderProgram(stack, readStackConfig(editedStackFile(stack, edit)));
const releaseValues = (doc: RenderDocument, cluster: string, file: string) => valuesOf(addonOf(doc, cluster, file).release);

/** A value at a dotted path (`**` left out, `*` as `x`): what a stack would write to set that key. */
function valuesAt(pattern: string): Raw {
    const keys = pattern.split(".").filter((k) => k !== "**").map((k) => (k === "*" ? "x" : k));
    return keys.reduceRight<unknown>((inner, key) => ({ [key]: inner }), "set-by-the-stack") as Raw;
}

describe("add-on settings per cluster", () => {
    it("a cluster's block overrides only the keys it sets", () => {
        const { settings } = validateSettings(loadStackSettings("production"));
        const [aws, azure] = settings!.clusters;
        assert.deepEqual(
            [aws, azure].map((c) => addonsFor(settings!.addons, c).monitoring),
            [
                { enabled: true, retention: "90d", storageSize: "200Gi", values: {} },
                { enabled: true, retention: "30d", storageSize: "50Gi", values: {} },
            ],
        );
    });

    it("values merge: the cluster's over the stack's, key by key", () => {
        const { settings } = validateSettings(loadStackSettings("staging"));
        const [aws, azure] = settings!.clusters;
        assert.deepEqual(addonsFor(settings!.addons, aws).monitoring.values, { prometheus: { prometheusSpec: { scrapeInterval: "30s", evaluationInterval: "60s" } } });
        assert.deepEqual(addonsFor(settings!.addons, azure).monitoring.values, { prometheus: { prometheusSpec: { scrapeInterval: "60s", evaluationInterval: "60s" } } });
    });

    it("production renders the cluster's retention and volume on that cluster only", async () => {
        const doc = await renderStack("production");
        const spec = (cluster: string) => releaseValues(doc, cluster, "monitoring").prometheus.prometheusSpec;
        const rendered = ["prod-aws-use1", "prod-azure-weu", "prod-gcp-euw4"].map((c) => [c, spec(c).retention, spec(c).storageSpec.volumeClaimTemplate.spec.resources.requests.storage]);
        assert.deepEqual(rendered, [
            ["prod-aws-use1", "90d", "200Gi"],
            ["prod-azure-weu", "30d", "50Gi"],
            ["prod-gcp-euw4", "30d", "50Gi"],
        ]);
    });

    it("staging renders the stack's extra value everywhere, the cluster's own on that cluster, and keeps the platform's", async () => {
        const doc = await renderStack("staging");
        const spec = (cluster: string) => releaseValues(doc, cluster, "monitoring").prometheus.prometheusSpec;
        const rendered = ["stg-aws-use1", "stg-azure-weu", "stg-gcp-euw4"].map((c) => [c, spec(c).scrapeInterval, spec(c).evaluationInterval, spec(c).retention, spec(c).ruleSelectorNilUsesHelmValues]);
        assert.deepEqual(rendered, [
            ["stg-aws-use1", "30s", "60s", "7d", false],
            ["stg-azure-weu", "60s", "60s", "7d", false],
            ["stg-gcp-euw4", "60s", "60s", "7d", false],
        ]);
    });

    it("an add-on turned off on one cluster is installed on the others only", async () => {
        const doc = await renderEdited("staging", (s) => (s.clusters[1].addons = { falco: { enabled: false } }));
        const falcoOn = (cluster: string) => doc.resources.some((r) => r.name === `${cluster}-platform-falco` && !r.custom);
        assert.deepEqual(["stg-aws-use1", "stg-azure-weu", "stg-gcp-euw4"].map(falcoOn), [true, false, true]);
    });

    it("every add-on passes its stack values to its release", async () => {
        // The EKS cluster: the one cluster that gets every add-on, those filling its gaps included.
        const doc = await renderEdited("staging", (s) => {
            s.addons = Object.fromEntries(addonKeys.map((key) => [key, { ...(s.addons?.[key] ?? {}), values: { stackMarker: key } }]));
        });
        const markers = addonKeys.map((key) => [key, releaseValues(doc, "stg-aws-use1", addons[key].file).stackMarker]);
        assert.deepEqual(markers, addonKeys.map((key) => [key, key]));
        assert.equal(markers.length, 10);
    });
});

describe("add-on settings: what the schema refuses", () => {
    it("an unknown key in a cluster's add-on block, or an unknown add-on", () => {
        assert.deepEqual(
            problemsAfter("staging", (s) => (s.clusters[0].addons = { monitoring: { retension: "30d" }, kyvern: {} })),
            ["clusters[0].addons.monitoring.retension: unknown key (a typo?)", "clusters[0].addons.kyvern: unknown key (a typo?)"],
        );
    });

    it("a cluster's setting of the wrong type, with its path", () => {
        assert.deepEqual(problemsAfter("staging", (s) => (s.clusters[2].addons = { monitoring: { retention: "a month" } })), [
            "clusters[2].addons.monitoring.retention: must be a Prometheus duration such as 30d",
        ]);
    });

    // One guarded key per add-on, with the exact error a user sees.
    const refusals: [string, Raw, string][] = [
        ["certManager", { serviceAccount: { annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x" } } }, "addons.certManager.values.serviceAccount: is set by the platform and cannot be overridden (serviceAccount: its workload identity (DNS-01 in the cluster's zone) is bound to this service account and its annotations)"],
        ["velero", { configuration: { backupStorageLocation: [{ name: "elsewhere" }] } }, "addons.velero.values.configuration.backupStorageLocation: is set by the platform and cannot be overridden (configuration.backupStorageLocation: backup locations are the platform's (BackupStorageLocation resources, docs/disaster-recovery.md))"],
        ["envoyGateway", { config: { envoyGateway: { extensionApis: { enableEnvoyPatchPolicy: false } } } }, "addons.envoyGateway.values.config.envoyGateway.extensionApis: is set by the platform and cannot be overridden (config.envoyGateway.extensionApis: the request-header limit is an EnvoyPatchPolicy, which needs the extension API on)"],
        ["externalSecrets", { scopedNamespace: "team-alpha" }, "addons.externalSecrets.values.scopedNamespace: is set by the platform and cannot be overridden (scopedNamespace: the ClusterSecretStore and every tenant's SecretStore need a cluster-wide operator)"],
        ["falco", { driver: { kind: "kmod" } }, "addons.falco.values.driver: is set by the platform and cannot be overridden (driver: modern eBPF: no kernel module built or downloaded on the nodes)"],
        ["flux", { multitenancy: { enabled: false } }, "addons.flux.values.multitenancy: is set by the platform and cannot be overridden (multitenancy: tenants' Kustomizations run as their own service account, never as Flux's (multi-tenancy lockdown))"],
        ["monitoring", { prometheus: { prometheusSpec: { retention: "1y" } } }, "addons.monitoring.values.prometheus.prometheusSpec.retention: is set by the platform and cannot be overridden (prometheus.prometheusSpec.retention: set addons.monitoring.retention (or clusters[].addons.monitoring.retention) instead)"],
        ["kyverno", { features: { policyExceptions: { enabled: true, namespace: "*" } } }, "addons.kyverno.values.features.policyExceptions: is set by the platform and cannot be overridden (features.policyExceptions: a PolicyException lets its namespace escape a policy; exceptions stay off)"],
        ["clusterAutoscaler", { autoDiscovery: { clusterName: "another-cluster" } }, "addons.clusterAutoscaler.values.autoDiscovery: is set by the platform and cannot be overridden (autoDiscovery: it scales exactly the node groups tagged as this cluster's)"],
        ["metricsServer", { apiService: { insecureSkipTLSVerify: false } }, "addons.metricsServer.values.apiService: is set by the platform and cannot be overridden (apiService: the metrics.k8s.io APIService is the platform's: HorizontalPodAutoscalers read it)"],
    ];
    for (const [key, values, expected] of refusals) {
        it(`${key}: a guarded key, stack-wide`, () => {
            assert.deepEqual(problemsAfter("staging", (s) => (s.addons[key] = { ...(s.addons[key] ?? {}), values })), [expected]);
        });
    }

    it("a guarded key in a cluster's values, with the cluster's path", () => {
        const [, , expected] = refusals[1];
        assert.deepEqual(problemsAfter("staging", (s) => (s.clusters[1].addons = { velero: { values: refusals[1][1] } })), [expected.replace("addons.velero", "clusters[1].addons.velero")]);
    });

    it("pod security, in any add-on, at any depth", () => {
        assert.deepEqual(problemsAfter("staging", (s) => (s.addons.kyverno = { values: { admissionController: { container: { securityContext: { privileged: true } } } } })), [
            "addons.kyverno.values.admissionController.container.securityContext: is set by the platform and cannot be overridden (**.securityContext: pod security: the platform sets the security contexts its namespaces' Pod Security level is checked against)",
        ]);
    });

    it("every guard of every add-on refuses its key", () => {
        let checked = 0;
        for (const key of addonKeys) {
            for (const guard of [...podSecurityGuards, ...addons[key].guardedValues]) {
                const problems = problemsAfter("staging", (s) => (s.addons[key] = { ...(s.addons[key] ?? {}), values: valuesAt(guard.path) }));
                assert.equal(problems.length, 1, `${key} ${guard.path}: ${problems.join("; ")}`);
                assert.ok(problems[0].startsWith(`addons.${key}.values.`) && problems[0].includes(`(${guard.path}: `), `${key} ${guard.path}: ${problems[0]}`);
                checked++;
            }
        }
        assert.equal(checked, 6 * 10 + 50, "six pod-security guards for each of the ten add-ons, and their own 50");
    });

    it("a value next to a guarded key is accepted", () => {
        assert.deepEqual(problemsAfter("staging", (s) => (s.addons.velero = { values: { configuration: { uploaderType: "kopia" }, resources: { requests: { cpu: "500m" } } } })), []);
    });
});
