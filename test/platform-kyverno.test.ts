/**
 * Kyverno add-on, from the offline render: the pinned release, the four ClusterPolicies with
 * the environment's failure action, applied after every other add-on, and never to the
 * platform's own namespaces (the webhook still sees the add-ons' pods, for their signatures).
 */
import { strict as assert } from "assert";
import { RenderDocument, RenderedResource } from "../scripts/render-program";
import { loadStackSettings } from "./mocks";
import { addonFilesOn, addonOf, assertDependsOn, clustersOf, environmentOf, kindNamed, ofKind, Raw, renderStack, STACKS, valuesOf } from "./platform-helpers";
import { addons } from "../components/platform/addons";

const POLICY = "kyverno.io/v1:ClusterPolicy";
const POLICIES = ["disallow-latest-tag", "pod-security", "require-labels", "restrict-registries"];
/** image-provenance.ts's policy: tested in platform-image-provenance.test.ts. */
const SIGNATURES = "verify-image-signatures";
/** Every other add-on the registry puts on the cluster, by component name. */
const otherAddonsOn = (cluster: Raw) => addonFilesOn(cluster).filter((file) => file !== "kyverno");
const expectedAction: Record<string, string> = { local: "Audit", staging: "Audit", production: "Enforce" };

/** Kyverno's pattern language for one string: `a | b` alternatives, `*` and `?` wildcards, a leading `!` negates. */
function matchesPattern(value: string, pattern: string): boolean {
    return pattern.split(" | ").some((alternative) => {
        const negated = alternative.startsWith("!");
        const glob = negated ? alternative.slice(1) : alternative;
        const regex = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
        return regex.test(value) !== negated;
    });
}

const policyOf = (policies: RenderedResource[], name: string) => kindNamed(policies, POLICY, name);
const rulesOf = (policy: RenderedResource) => (policy.inputs.spec as Raw).rules as Raw[];
const imageOf = (rule: Raw) => rule.validate.pattern.spec.containers[0].image as string;

describe("platform: kyverno", () => {
    for (const stack of STACKS) {
        describe(stack, () => {
            let doc: RenderDocument;
            before(async function () {
                doc = await renderStack(stack);
            });

            it("installs the pinned chart, three admission replicas in production", () => {
                for (const cluster of clustersOf(stack)) {
                    const { release } = addonOf(doc, cluster.name, "kyverno");
                    assert.equal(release.inputs.chart, "kyverno");
                    assert.equal(release.inputs.version, addons.kyverno.chart.version, "the pin (versions.ts, through the registry)");
                    assert.equal(release.inputs.namespace, "kyverno");
                    assert.equal(valuesOf(release).admissionController.replicas, environmentOf(stack) === "production" ? 3 : 1);
                }
            });

            it(`applies the four policies with ${expectedAction[environmentOf(stack)]}, after Kyverno and every other add-on`, () => {
                const action = expectedAction[environmentOf(stack)];
                for (const cluster of clustersOf(stack)) {
                    const kyverno = addonOf(doc, cluster.name, "kyverno");
                    const all = ofKind(kyverno.children, POLICY);
                    assert.deepEqual(all.map((p) => (p.inputs.metadata as Raw).name).sort(), [...POLICIES, SIGNATURES].sort());
                    for (const policy of all) assertDependsOn(policy, kyverno.release);
                    const policies = all.filter((p) => (p.inputs.metadata as Raw).name !== SIGNATURES);
                    for (const policy of policies) {
                        assertDependsOn(policy, kyverno.release);
                        for (const other of otherAddonsOn(cluster)) assertDependsOn(policy, addonOf(doc, cluster.name, other).release);
                        assert.equal((policy.inputs.spec as Raw).failurePolicy, action === "Enforce" ? "Fail" : "Ignore", policy.name);
                        for (const rule of rulesOf(policy)) assert.equal(rule.validate.failureAction, action, `${policy.name}/${rule.name}`);
                    }
                    // The policies must not hold up the add-ons: Kyverno itself installs in parallel.
                    for (const other of otherAddonsOn(cluster)) assert.ok(!kyverno.release.dependencies.includes(addonOf(doc, cluster.name, other).release.urn));
                }
            });

            it("never governs the platform's namespaces or kube-system in the four policies; the webhook skips only Kyverno's and Kubernetes'", () => {
                for (const cluster of clustersOf(stack)) {
                    const kyverno = addonOf(doc, cluster.name, "kyverno");
                    const platformNamespaces = ["kyverno", ...otherAddonsOn(cluster).map((a) => addonOf(doc, cluster.name, a).release.inputs.namespace as string)];
                    const tenants = (loadStackSettings(stack).tenants as Raw[]).map((t) => t.name as string);
                    const mustExclude = ["kube-system", ...platformNamespaces];
                    for (const policy of ofKind(kyverno.children, POLICY).filter((p) => (p.inputs.metadata as Raw).name !== SIGNATURES)) {
                        for (const rule of rulesOf(policy)) {
                            const excluded = rule.exclude.any[0].resources.namespaces as string[];
                            for (const ns of mustExclude) assert.ok(excluded.includes(ns), `${policy.name}/${rule.name} must exclude ${ns}`);
                            for (const tenant of tenants) assert.ok(!excluded.includes(tenant), `${policy.name} must govern tenant ${tenant}`);
                        }
                    }
                    const selector = valuesOf(kyverno.release).config.webhooks.namespaceSelector.matchExpressions[0];
                    assert.equal(selector.key, "kubernetes.io/metadata.name");
                    assert.equal(selector.operator, "NotIn");
                    // The other add-ons' pods reach Kyverno so their images' signatures are checked (platform-image-provenance.test.ts).
                    assert.deepEqual(selector.values, ["kube-system", "kube-public", "kube-node-lease", "kyverno"]);
                }
            });

            it("pod-security is the restricted Pod Security Standard", () => {
                const kyverno = addonOf(doc, clustersOf(stack)[0].name, "kyverno");
                const [rule] = rulesOf(policyOf(kyverno.children, "pod-security"));
                assert.deepEqual(rule.match.any[0].resources.kinds, ["Pod"]);
                assert.deepEqual(rule.validate.podSecurity, { level: "restricted", version: "latest" });
            });
        });
    }

    describe("image and label rules (local, the schema's defaults)", () => {
        let policies: RenderedResource[];
        before(async function () {
            const doc = await renderStack("local");
            policies = addonOf(doc, "local-kind", "kyverno").children;
        });

        it("restrict-registries admits only fully qualified images from the allowed registries", () => {
            const [rule] = rulesOf(policyOf(policies, "restrict-registries"));
            const pattern = imageOf(rule);
            for (const container of ["containers", "=(initContainers)", "=(ephemeralContainers)"]) {
                assert.equal(rule.validate.pattern.spec[container][0].image, pattern, `${container} are checked too`);
            }
            for (const ok of ["registry.k8s.io/pause:3.10", "ghcr.io/fluxcd/source-controller:v1.8.2", "docker.io/library/nginx:1.27", "quay.io/jetstack/cert-manager-controller:v1.21.1"]) {
                assert.ok(matchesPattern(ok, pattern), `${ok} must be admitted`);
            }
            for (const bad of ["evil.example/miner:1", "ghcr.io.evil.example/x:1", "nginx:1.27"]) assert.ok(!matchesPattern(bad, pattern), `${bad} must be refused`);
        });

        it("disallow-latest-tag requires a tag and refuses :latest", () => {
            const rules = rulesOf(policyOf(policies, "disallow-latest-tag"));
            const [requireTag, noLatest] = ["require-image-tag", "disallow-latest"].map((n) => imageOf(rules.find((r) => r.name === n)!));
            assert.ok(!matchesPattern("docker.io/library/nginx", requireTag));
            assert.ok(matchesPattern("docker.io/library/nginx:1.27", requireTag));
            assert.ok(!matchesPattern("docker.io/library/nginx:latest", noLatest));
            assert.ok(matchesPattern("docker.io/library/nginx:1.27", noLatest));
        });

        it("require-labels asks for the configured labels", () => {
            const [rule] = rulesOf(policyOf(policies, "require-labels"));
            assert.deepEqual(rule.validate.pattern, { metadata: { labels: { "app.kubernetes.io/name": "?*" } } });
        });
    });
});
