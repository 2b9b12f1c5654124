/**
 * The platform's dependency graph and grants, over every stack that renders: add-ons install
 * in parallel (no release waits for another), the gateway's certificate is the one edge to
 * cert-manager, and every identity the add-ons get is scoped (no wildcard, no subscription-
 * or project-wide role). Also HelmAddon's own contract on a fake cluster.
 */
import { strict as assert } from "assert";
import * as k8s from "@pulumi/kubernetes";
import { HelmAddon } from "../components/platform/helm-addon";
import { IdentityGrant, WorkloadIdentity } from "../components/types";
import { RenderDocument } from "../scripts/render-program";
import { addonOf, broadGrants, clustersOf, descendants, fakeCluster, isProjectWide, namespaceOf, RELEASE, renderStack, STACKS } from "./platform-helpers";
import { record, stackConfig } from "./mocks";

const ADDONS = ["cert-manager", "envoy-gateway", "external-secrets", "velero"];

for (const stack of STACKS) {
    describe(`platform graph and grants (${stack})`, () => {
        let doc: RenderDocument;
        before(async function () {
            doc = await renderStack(stack);
        });

        it("no add-on release waits for another release: they install in parallel", () => {
            const releases = new Set(doc.resources.filter((r) => r.type === RELEASE).map((r) => r.urn));
            for (const cluster of clustersOf(stack)) {
                for (const addon of ADDONS) {
                    const { release } = addonOf(doc, cluster.name, addon);
                    assert.deepEqual(release.dependencies.filter((urn) => releases.has(urn)), [], `${release.name} waits for another release`);
                }
            }
        });

        it("each release is named after its chart, not the cluster (Helm's 53-character limit)", () => {
            const expected: Record<string, string> = { "cert-manager": "cert-manager", "envoy-gateway": "gateway-helm", "external-secrets": "external-secrets", velero: "velero" };
            for (const cluster of clustersOf(stack)) {
                for (const addon of ADDONS) assert.equal(addonOf(doc, cluster.name, addon).release.inputs.name, expected[addon]);
            }
        });

        it("identities of the add-ons: no wildcard resource, no subscription- or project-wide grant", () => {
            for (const cluster of clustersOf(stack)) {
                for (const addon of ADDONS) {
                    const rendered = addonOf(doc, cluster.name, addon);
                    const { release } = rendered;
                    const namespace = namespaceOf(rendered);
                    // What the release waits for besides its namespace is its identity (HelmAddon).
                    const roots = doc.resources.filter((r) => release.dependencies.includes(r.urn) && r.urn !== namespace.urn);
                    for (const resource of roots.flatMap((root) => descendants(doc, root))) {
                        assert.ok(!isProjectWide(resource), `${resource.name}: project-wide IAM for ${addon}`);
                        assert.deepEqual(broadGrants(resource.inputs), [], `${resource.name} (${addon}) grants too broadly`);
                    }
                }
            }
        });
    });
}

describe("HelmAddon", () => {
    it("asks the cluster for each grant of the one service account and hands the merged identity to the values", async () => {
        const calls: { sa: string; grant: IdentityGrant }[] = [];
        const cluster = fakeCluster(calls);
        const storage = { provider: "aws", bucket: "b", config: {}, pluginImage: "p", csiSnapshots: false, resources: [] };
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
        assert.deepEqual(seen?.podLabels, { "example.com/use": "true" });
        const release = doc.resources.find((r) => r.type === RELEASE)!;
        assert.equal(release.inputs.name, "demo-chart", "default release name: the chart's own name");
        assert.deepEqual((release.inputs.values as Record<string, any>).serviceAccount.annotations, { "example.com/identity": "demo/demo" });
        assert.equal(release.inputs.version, "1.2.3");
    });
});
