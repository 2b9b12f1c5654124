/**
 * Flux add-on, from the offline render: the pinned controllers, and, where the stack names the
 * platform's repository, a GitRepository and two Kustomizations (controllers, then configs)
 * that wait for the release. Tenants' GitOps objects wait for the same release.
 */
import { strict as assert } from "assert";
import { RenderDocument, RenderedResource } from "../scripts/render-program";
import { loadStackSettings } from "./mocks";
import { addonOf, assertDependsOn, clustersOf, kindNamed, ofKind, Raw, renderFixture, renderStack, STACKS, valuesOf } from "./platform-helpers";
import { addons } from "../components/platform/addons";

const GIT_REPOSITORY = "source.toolkit.fluxcd.io/v1:GitRepository";
const KUSTOMIZATION = "kustomize.toolkit.fluxcd.io/v1:Kustomization";
const specOf = (r: RenderedResource) => r.inputs.spec as Raw;

describe("platform: flux", () => {
    for (const stack of STACKS) {
        describe(stack, () => {
            let doc: RenderDocument;
            before(async function () {
                doc = await renderStack(stack);
            });
            const repository = () => (loadStackSettings(stack).addons as Raw | undefined)?.flux?.platformRepository as Raw | undefined;

            it("installs the pinned flux2 chart with its CRDs, without image automation", () => {
                for (const cluster of clustersOf(stack)) {
                    const { release } = addonOf(doc, cluster.name, "flux");
                    assert.equal(release.inputs.chart, "flux2");
                    assert.equal(release.inputs.version, addons.flux.chart.version, "the pin (versions.ts, through the registry)");
                    assert.equal(release.inputs.namespace, "flux-system");
                    const values = valuesOf(release);
                    assert.equal(values.installCRDs, true);
                    assert.equal(values.imageAutomationController.create, false);
                    assert.equal(values.imageReflectionController.create, false);
                }
            });

            it("locks Flux down for tenants: no cluster-admin for the controllers, no cross-namespace references, no remote bases", () => {
                for (const cluster of clustersOf(stack)) {
                    const values = valuesOf(addonOf(doc, cluster.name, "flux").release);
                    // The chart then adds --no-cross-namespace-refs=true and --default-service-account=default
                    // to kustomize- and helm-controller, and binds them only to impersonation (flux2 2.18.3 templates).
                    assert.deepEqual(values.multitenancy, { enabled: true, defaultServiceAccount: "default", privileged: false });
                    assert.deepEqual(values.kustomizeController.container.additionalArgs, ["--no-remote-bases=true"]);
                }
            });

            it("the platform's Kustomizations apply as platform-reconciler, bound to cluster-admin before their first sync", () => {
                const repo = repository();
                for (const cluster of clustersOf(stack)) {
                    const flux = addonOf(doc, cluster.name, "flux");
                    const accounts = flux.children.filter((r) => r.type === "kubernetes:core/v1:ServiceAccount");
                    const bindings = flux.children.filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding");
                    if (!repo) {
                        assert.equal(accounts.length + bindings.length, 0, "no cluster-admin account without a platform repository");
                        continue;
                    }
                    assert.deepEqual(
                        accounts.map((a) => a.inputs.metadata),
                        [{ name: "platform-reconciler", namespace: "flux-system" }],
                    );
                    assert.equal(bindings.length, 1);
                    assert.deepEqual(bindings[0].inputs.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" });
                    assert.deepEqual(bindings[0].inputs.subjects, [{ kind: "ServiceAccount", name: "platform-reconciler", namespace: "flux-system" }]);
                    const kustomizations = ofKind(flux.children, KUSTOMIZATION);
                    assert.equal(kustomizations.length, 2);
                    for (const k of kustomizations) {
                        assert.equal(specOf(k).serviceAccountName, "platform-reconciler", k.name);
                        assertDependsOn(k, bindings[0]);
                    }
                }
            });

            it("syncs the platform repository as controllers, then configs (when the stack names one)", () => {
                const repo = repository();
                for (const cluster of clustersOf(stack)) {
                    const flux = addonOf(doc, cluster.name, "flux");
                    if (!repo) {
                        assert.equal(ofKind(flux.children, GIT_REPOSITORY).length + ofKind(flux.children, KUSTOMIZATION).length, 0);
                        continue;
                    }
                    const source = kindNamed(flux.children, GIT_REPOSITORY, "platform");
                    assert.equal(specOf(source).url, repo.url);
                    assert.deepEqual(specOf(source).ref, { branch: repo.branch ?? "main" });
                    const controllers = kindNamed(flux.children, KUSTOMIZATION, "platform-controllers");
                    const configs = kindNamed(flux.children, KUSTOMIZATION, "platform-configs");
                    const base = String(repo.path).replace(/^\.\//, "").replace(/\/$/, "");
                    assert.equal(specOf(controllers).path, `./${base}/infrastructure/controllers`);
                    assert.equal(specOf(configs).path, `./${base}/infrastructure/configs`);
                    assert.deepEqual(specOf(configs).dependsOn, [{ name: "platform-controllers" }]);
                    assert.equal(specOf(controllers).wait, true, "configs wait for the controllers to be ready");
                    for (const k of [controllers, configs]) {
                        assert.deepEqual(specOf(k).sourceRef, { kind: "GitRepository", name: "platform" });
                        assert.equal(specOf(k).prune, true);
                        assert.equal(specOf(k).suspend, false);
                    }
                    for (const cr of [source, controllers, configs]) assertDependsOn(cr, flux.release);
                    assertDependsOn(configs, controllers);
                }
            });

            it("tenants' GitOps objects wait for the Flux release (Platform.releases.flux)", () => {
                for (const cluster of clustersOf(stack)) {
                    const flux = addonOf(doc, cluster.name, "flux");
                    const tenantGitOps = doc.resources.filter(
                        (r) => (r.type === `kubernetes:${GIT_REPOSITORY}` || r.type === `kubernetes:${KUSTOMIZATION}`) && r.name.startsWith(`${cluster.name}-`) && !r.urn.includes("platform:addons:Flux"),
                    );
                    const withGitOps = (loadStackSettings(stack).tenants as Raw[]).filter((t) => t.gitops && (!t.clusters || t.clusters.includes(cluster.name)));
                    assert.equal(tenantGitOps.length, 2 * withGitOps.length, "a GitRepository and a Kustomization per tenant with gitops");
                    for (const r of tenantGitOps) assertDependsOn(r, flux.release);
                }
            });
        });
    }

    it("holds the platform's sync while the cluster restores from backup", async () => {
        const doc = await renderFixture("dr", (s) => {
            s.addons = { flux: { platformRepository: { url: "https://github.com/example/platform-gitops", path: "./clusters/dr" } } };
        });
        const flux = addonOf(doc, "dr-kind", "flux");
        const kustomizations = ofKind(flux.children, KUSTOMIZATION);
        assert.equal(kustomizations.length, 2);
        for (const k of kustomizations) assert.equal(specOf(k).suspend, true, k.name);
    });
});
