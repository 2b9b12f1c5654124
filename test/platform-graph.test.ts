/**
 * The platform's dependency graph and grants, over every stack that renders: add-ons install
 * in parallel (no release waits for another), the edges between add-ons are exactly the ones
 * written out below, Kyverno comes after every other add-on by construction, and every
 * identity the add-ons get is scoped (no wildcard, no subscription- or project-wide role).
 * Also HelmAddon's own contract on a fake cluster.
 */
import { strict as assert } from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ExistingCluster } from "../components/clusters/existing";
import { validateSettings } from "../components/config";
import { Platform } from "../components/platform";
import { AddonContext, addonKeys, addons } from "../components/platform/addons";
import { HelmAddon } from "../components/platform/helm-addon";
import { IdentityGrant, WorkloadIdentity } from "../components/types";
import { RenderDocument, RenderedResource } from "../scripts/render-program";
import { addonFilesOn, addonKeysOn, addonOf, broadGrants, clustersOf, descendants, fakeCluster, isProjectWide, kindNamed, namespaceOf, ofKind, Raw, RELEASE, renderStack, STACKS } from "./platform-helpers";
import { loadStackSettings, record, stackConfig } from "./mocks";

/** The add-ons' component names (`<cluster>-platform-<file>`), from the registry. */
const ADDONS: string[] = addonKeys.map((key) => addons[key].file);
const CLUSTERS: Record<string, number> = { local: 1, staging: 3, production: 3 };
/** The add-ons' Helm release names: each chart's own name (an OCI reference's last segment). */
const RELEASE_NAMES: Record<string, string> = {
    "cert-manager": "cert-manager",
    velero: "velero",
    "envoy-gateway": "gateway-helm",
    "external-secrets": "external-secrets",
    falco: "falco",
    flux: "flux2",
    monitoring: "kube-prometheus-stack",
    kyverno: "kyverno",
};
/**
 * Every edge between two add-ons, `<from> -> <to>`: some resource of the first depends on one
 * of the second. Written out here, not read from platform/index.ts: the gateway's certificate,
 * Grafana's route, and Kyverno's policies waiting for every other add-on of the registry.
 * Velero's Restore adds its own only in rebuild mode.
 */
const edgesExpected = (addonsOn: string[]) => ["envoy-gateway -> cert-manager", "monitoring -> envoy-gateway", ...addonsOn.filter((a) => a !== "kyverno").map((other) => `kyverno -> ${other}`)].sort();

/** The edges between the add-ons of one cluster in a render. */
function edgesOf(doc: RenderDocument, cluster: Raw): string[] {
    const owner = new Map<string, string>();
    const resources: [string, RenderedResource][] = [];
    for (const addon of addonFilesOn(cluster)) {
        for (const r of descendants(doc, addonOf(doc, cluster.name, addon).component)) {
            owner.set(r.urn, addon);
            resources.push([addon, r]);
        }
    }
    const edges = new Set<string>();
    for (const [from, r] of resources) {
        for (const dep of r.dependencies) {
            const to = owner.get(dep);
            if (to && to !== from) edges.add(`${from} -> ${to}`);
        }
    }
    return [...edges].sort();
}

for (const stack of STACKS) {
    describe(`platform graph and grants (${stack})`, () => {
        let doc: RenderDocument;
        before(async function () {
            doc = await renderStack(stack);
        });

        it(`has ${CLUSTERS[stack]} cluster(s), each with the registry's add-ons for its cloud at their pins, in their namespaces, at their Pod Security levels, and no other`, () => {
            assert.equal(clustersOf(stack).length, CLUSTERS[stack]);
            for (const cluster of clustersOf(stack)) {
                const components = doc.resources.filter((r) => !r.custom && r.name.startsWith(`${cluster.name}-platform-`) && ADDONS.includes(r.name.slice(`${cluster.name}-platform-`.length)));
                assert.deepEqual(components.map((r) => r.name).sort(), addonFilesOn(cluster).map((file) => `${cluster.name}-platform-${file}`).sort(), cluster.name);
                for (const key of addonKeysOn(cluster)) {
                    const addon = addonOf(doc, cluster.name, addons[key].file);
                    const { chart, version, repo } = addons[key].chart as { chart: string; version: string; repo?: string };
                    const { inputs } = addon.release;
                    assert.deepEqual([inputs.chart, inputs.version, inputs.repositoryOpts, inputs.namespace], [chart, version, repo ? { repo } : undefined, addons[key].namespace], key);
                    const labels = (namespaceOf(addon).inputs.metadata as Raw).labels;
                    assert.deepEqual([labels["pod-security.kubernetes.io/enforce"], labels["pod-security.kubernetes.io/warn"]], [addons[key].podSecurity, addons[key].podSecurity], key);
                }
            }
        });

        it("no add-on release waits for another release: they install in parallel", () => {
            const releases = new Set(doc.resources.filter((r) => r.type === RELEASE).map((r) => r.urn));
            for (const cluster of clustersOf(stack)) {
                for (const addon of addonFilesOn(cluster)) {
                    const { release } = addonOf(doc, cluster.name, addon);
                    assert.deepEqual(release.dependencies.filter((urn) => releases.has(urn)), [], `${release.name} waits for another release`);
                }
            }
        });

        it("the edges between add-ons are exactly the graph's: the gateway's certificate, Grafana's route, Kyverno's policies", () => {
            for (const cluster of clustersOf(stack)) assert.deepEqual(edgesOf(doc, cluster), edgesExpected(addonFilesOn(cluster)), cluster.name);
        });

        it("the gateway's certificate waits for cert-manager's release and issuer, Grafana's route for the gateway's release and Gateway", () => {
            for (const cluster of clustersOf(stack)) {
                const [certManager, gateway, monitoring] = ["cert-manager", "envoy-gateway", "monitoring"].map((a) => addonOf(doc, cluster.name, a));
                const certificate = kindNamed(gateway.children, "cert-manager.io/v1:Certificate", "platform-wildcard-tls");
                const issuers = ofKind(certManager.children, "cert-manager.io/v1:ClusterIssuer").filter((r) => certificate.dependencies.includes(r.urn));
                assert.deepEqual(issuers.map((r) => (r.inputs.metadata as Raw).name), [((certificate.inputs.spec as Raw).issuerRef as Raw).name]);
                assert.ok(certificate.dependencies.includes(certManager.release.urn), `${cluster.name}: certificate before cert-manager's release`);
                const route = kindNamed(monitoring.children, "gateway.networking.k8s.io/v1:HTTPRoute", "grafana");
                const theGateway = kindNamed(gateway.children, "gateway.networking.k8s.io/v1:Gateway", "platform");
                assert.deepEqual(route.dependencies.filter((urn) => urn === gateway.release.urn || urn === theGateway.urn).length, 2, `${cluster.name}: route before the gateway`);
            }
        });

        it("each release is named after its chart, not the cluster (Helm's 53-character limit)", () => {
            for (const cluster of clustersOf(stack)) {
                for (const key of addonKeysOn(cluster)) {
                    const { file, chart } = addons[key];
                    // An add-on added later: its chart's own name.
                    const expected = RELEASE_NAMES[file] ?? chart.chart.split("/").pop();
                    assert.equal(addonOf(doc, cluster.name, file).release.inputs.name, expected, file);
                }
            }
        });

        it("identities of the add-ons: no wildcard resource, no subscription- or project-wide grant", () => {
            for (const cluster of clustersOf(stack)) {
                const checked: string[] = [];
                for (const addon of addonFilesOn(cluster)) {
                    const rendered = addonOf(doc, cluster.name, addon);
                    const { release } = rendered;
                    const namespace = namespaceOf(rendered);
                    // What the release waits for besides its namespace: its identity (HelmAddon), or monitoring's Grafana secret.
                    const roots = doc.resources.filter((r) => release.dependencies.includes(r.urn) && r.urn !== namespace.urn);
                    if (roots.length) checked.push(addon);
                    for (const resource of roots.flatMap((root) => descendants(doc, root))) {
                        assert.ok(!isProjectWide(resource), `${resource.name}: project-wide IAM for ${addon}`);
                        assert.deepEqual(broadGrants(resource.inputs), [], `${resource.name} (${addon}) grants too broadly`);
                    }
                }
                // Cloud DNS and cloud storage give cert-manager and Velero identities; an adopted cluster has neither.
                // On EKS cluster-autoscaler's IRSA role too.
                const expected: Record<string, string[]> = {
                    existing: ["external-secrets", "monitoring"],
                    aws: ["cert-manager", "velero", "external-secrets", "monitoring", "cluster-autoscaler"],
                    azure: ["cert-manager", "velero", "external-secrets", "monitoring"],
                    gcp: ["cert-manager", "velero", "external-secrets", "monitoring"],
                };
                assert.deepEqual(checked, expected[cluster.cloud], cluster.name);
            }
        });
    });
}

describe("Kyverno comes last by construction: an add-on appended to the registry", () => {
    it("is excluded from the policies, waited for, and backed up with the platform", async () => {
        const local = validateSettings(loadStackSettings("local")).settings!;
        const clusterConfig = local.clusters[0] as Extract<(typeof local.clusters)[number], { cloud: "existing" }>;
        const registry = addons as unknown as Record<string, unknown>;
        const settings = { ...local.addons, extra: { enabled: true } } as typeof local.addons;
        registry.extra = {
            file: "extra",
            namespace: "extra-system",
            load: () => ({
                install: (name: string, context: AddonContext, _links: object, opts: object) =>
                    new HelmAddon(name, { cluster: context.cluster, namespace: "extra-system", chart: { chart: "extra", version: "1.0.0", repo: "https://example.com" }, values: () => ({}) }, opts),
            }),
        };
        addonKeys.push("extra" as never);
        let doc: RenderDocument;
        try {
            doc = await record("unit", stackConfig({}), () => {
                const backupCredentials = pulumi.secret({ accessKeyId: "minio", secretAccessKey: "minio-secret" });
                const cluster = new ExistingCluster("kind", { config: clusterConfig, environment: "local", backupCredentials });
                new Platform("kind-platform", { cluster, clusterConfig, addons: settings, secrets: {} }, { providers: { kubernetes: cluster.provider } });
            });
        } finally {
            addonKeys.pop();
            delete registry.extra;
        }
        const extra = addonOf(doc, "kind", "extra");
        const kyverno = addonOf(doc, "kind", "kyverno");
        for (const policy of ofKind(kyverno.children, "kyverno.io/v1:ClusterPolicy")) {
            assert.ok(policy.dependencies.includes(extra.release.urn), `${policy.name} waits for the new add-on`);
            // verify-image-signatures checks every add-on's images too: the new one's, not excluded.
            const excludes = (policy.inputs.metadata as Raw).name !== "verify-image-signatures";
            for (const rule of (policy.inputs.spec as Raw).rules as Raw[]) assert.equal(rule.exclude.any[0].resources.namespaces.includes("extra-system"), excludes, policy.name);
        }
        const daily = kindNamed(addonOf(doc, "kind", "velero").children, "velero.io/v1:Schedule", "infrastructure-daily");
        // Registry order (what the adopted cluster gets), Velero's own namespace left out, the appended add-on last.
        const platform = addonKeysOn(clusterConfig).filter((key) => key !== "velero").map((key) => addons[key].namespace);
        assert.deepEqual(platform, ["cert-manager", "gateway-system", "external-secrets", "falco", "flux-system", "monitoring", "kyverno"]);
        assert.deepEqual((daily.inputs.spec as Raw).template.includedNamespaces, [...platform, "extra-system"]);
    });
});

describe("HelmAddon", () => {
    it("asks the cluster for each grant of the one service account and hands the merged identity to the values", async () => {
        const calls: { sa: string; grant: IdentityGrant }[] = [];
        const cluster = fakeCluster(calls);
        const storage = { cluster: "fake", provider: "aws", bucket: "b", config: {}, pluginImage: "p", csiSnapshots: false, resources: [] };
        let seen: WorkloadIdentity | undefined;
        const doc = await record("unit", stackConfig({}), () => {
            const provider = new k8s.Provider("fake", { kubeconfig: "fake" });
            new HelmAddon("demo", {
                cluster,
                namespace: "demo",
                chart: { chart: "oci://example.com/charts/demo-chart", version: "1.2.3" },
                identity: { serviceAccount: "demo", grant: [{ kind: "backupStorage", access: "readWrite", storage }, { kind: "backupStorage", access: "readOnly", storage }] },
                values: (identity) => {
                    seen = identity;
                    return { serviceAccount: { annotations: identity?.serviceAccountAnnotations } };
                },
            }, { providers: { kubernetes: provider } });
        });
        assert.deepEqual(calls.map((c) => [c.sa, c.grant.kind === "backupStorage" && c.grant.access]), [["demo/demo", "readWrite"], ["demo/demo", "readOnly"]]);
        // The fake cluster's identities differ per grant: the merge keeps both.
        assert.deepEqual(seen?.podLabels, { "example.com/use-1": "true", "example.com/use-2": "true" });
        const release = doc.resources.find((r) => r.type === RELEASE)!;
        assert.equal(release.inputs.name, "demo-chart", "default release name: the chart's own name");
        assert.deepEqual((release.inputs.values as Record<string, any>).serviceAccount.annotations, { "example.com/grant-1": "demo/demo", "example.com/grant-2": "demo/demo" });
        const identities = doc.resources.filter((r) => /^demo-demo-grant-\d$/.test(r.name)).map((r) => r.urn);
        assert.equal(identities.length, 2);
        for (const urn of identities) assert.ok(release.dependencies.includes(urn), `the release waits for ${urn}`);
        assert.equal(release.inputs.version, "1.2.3");
    });
});
