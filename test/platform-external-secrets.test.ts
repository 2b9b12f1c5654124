/**
 * External Secrets Operator on every cluster of every stack that renders: the pinned chart
 * with CRDs, and a ClusterSecretStore on the cluster's secret manager that serves platform
 * namespaces only, through an identity scoped to the platform's prefix. Expected values are
 * the and the chart's (at the pin external-secrets.ts names as checked), not the code's.
 */
import { strict as assert } from "assert";
import { readStackConfig, RenderDocument, renderProgram } from "../scripts/render-program";
import { addonFilesOn, addonOf, assertCustomResourcesAfterRelease, clustersOf, kindNamed, namespaceOf, ofKind, Raw, renderStack, STACKS, valuesOf } from "./platform-helpers";
import { addons } from "../components/platform/addons";
import { editedStackFile, loadStackSettings } from "./mocks";

const STORE = "external-secrets.io/v1:ClusterSecretStore";
const PLATFORM_NAMESPACES = { matchLabels: { "platform.example.io/managed-by": "platform" } };

for (const stack of STACKS) {
    describe(`External Secrets (${stack})`, () => {
        let doc: RenderDocument;
        before(async function () {
            doc = await renderStack(stack);
        });

        it("installs the pinned chart external-secrets from charts.external-secrets.io with CRDs", () => {
            for (const cluster of clustersOf(stack)) {
                const { release } = addonOf(doc, cluster.name, "external-secrets");
                assert.equal(release.inputs.chart, "external-secrets");
                assert.equal(release.inputs.version, addons.externalSecrets.chart.version, "the pin (versions.ts, through the registry)");
                assert.deepEqual(release.inputs.repositoryOpts, { repo: "https://charts.external-secrets.io" });
                assert.equal(release.inputs.namespace, "external-secrets");
                const values = valuesOf(release);
                assert.equal(values.installCRDs, true);
                assert.equal(values.serviceAccount.name, "external-secrets");
                // More than one controller must elect a leader.
                assert.equal(values.leaderElect, values.replicaCount > 1);
            }
        });

        it("a ClusterSecretStore on one provider, offered only to namespaces labelled as platform namespaces", () => {
            for (const cluster of clustersOf(stack)) {
                const addon = addonOf(doc, cluster.name, "external-secrets");
                const spec = kindNamed(addon.children, STORE, "platform-secrets").inputs.spec as Raw;
                assert.equal(Object.keys(spec.provider).length, 1, "exactly one provider block");
                assert.deepEqual(spec.conditions, [{ namespaceSelector: PLATFORM_NAMESPACES }]);
                assertCustomResourcesAfterRelease(addon, /^kubernetes:external-secrets\.io\//, ["ClusterSecretStore/platform-secrets"]);
            }
        });

        it("the label the store selects is on every platform namespace and on no tenant namespace", () => {
            const tenants = new Set(((loadStackSettings(stack).tenants ?? []) as Raw[]).map((t) => t.name));
            const namespaces = doc.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace");
            const labelled = namespaces.filter((r) => ((r.inputs.metadata as Raw).labels ?? {})["platform.example.io/managed-by"] === "platform");
            for (const cluster of clustersOf(stack)) {
                for (const addon of addonFilesOn(cluster)) {
                    const ns = namespaceOf(addonOf(doc, cluster.name, addon));
                    assert.ok(labelled.includes(ns), `${ns.name} lacks the platform label`);
                }
            }
            assert.deepEqual(labelled.filter((r) => tenants.has((r.inputs.metadata as Raw).name)), []);
        });
    });
}

describe("External Secrets on the local cluster: the identity reads only the configured prefix", () => {
    it("reads platform/ by default: a Role on the secrets namespace of that prefix, bound to the operator only", async () => {
        const doc = await renderStack("local");
        const addon = addonOf(doc, "local-kind", "external-secrets");
        const spec = kindNamed(addon.children, STORE, "platform-secrets").inputs.spec as Raw;
        assert.equal(spec.provider.kubernetes.remoteNamespace, "secrets-platform");
        const role = doc.resources.find((r) => addon.release.dependencies.includes(r.urn) && r.type === "kubernetes:rbac.authorization.k8s.io/v1:Role")!;
        assert.equal((role.inputs.metadata as Raw).namespace, "secrets-platform");
        assert.deepEqual((role.inputs.rules as Raw[])[0], { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] });
        const binding = doc.resources.find((r) => addon.release.dependencies.includes(r.urn) && r.type === "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")!;
        assert.deepEqual(binding.inputs.subjects, [{ kind: "ServiceAccount", name: "external-secrets", namespace: "external-secrets" }]);
    });

    it("follows addons.externalSecrets.secretPrefix", async () => {
        const file = editedStackFile("local", (s) => {
            s.addons = { ...(s.addons as Raw), externalSecrets: { secretPrefix: "ops/" } };
        });
        const doc = await renderProgram("local", readStackConfig(file));
        const addon = addonOf(doc, "local-kind", "external-secrets");
        assert.equal((kindNamed(addon.children, STORE, "platform-secrets").inputs.spec as Raw).provider.kubernetes.remoteNamespace, "secrets-ops");
        assert.equal(ofKind(doc.resources, "core/v1:Namespace").filter((r) => (r.inputs.metadata as Raw).name === "secrets-platform").length, 0);
    });
});
