import { strict as assert } from "assert";
import { defaultDurations, durationOf, modelRebuild, toMarkdown } from "../scripts/rebuild-model";
import { RenderDocument, RenderedResource } from "../scripts/render-program";

/**
 * A small hand-made stack, two clusters:
 *   c1 (EksCluster component) -> eks (10) -> pool (4)
 *                                  eks -> provider (0) -> release (2) -> restore (30)
 *   c1-platform (component) holds release and restore; the tenant c1-team waits for the
 *   whole platform component (so for restore) -> ns (0.1)
 *   c2 (GkeCluster component) -> gke (8) -> gpool (4)
 * By hand: c1's critical path is eks 0-10, provider 10-10, release 10-12, restore 12-42,
 * ns 42-42.1, so 42.1 minutes; the pool (10-14) is not on it. c2: gke 0-8, gpool 8-12.
 */
const urn = (type: string, name: string) => `urn:pulumi:s::platform::${type}::${name}`;
function r(type: string, name: string, parent: string, extra: Partial<RenderedResource> = {}): RenderedResource {
    const custom = !type.startsWith("platform:");
    return { urn: urn(type, name), type, name, parent, provider: "", dependencies: [], inputs: {}, protect: false, retainOnDelete: false, custom, deleteBeforeReplace: false, ignoreChanges: [], ...extra };
}

const c1 = r("platform:clusters:EksCluster", "c1", "");
const eks = r("aws:eks/cluster:Cluster", "c1-eks", c1.urn);
const pool = r("aws:eks/nodeGroup:NodeGroup", "c1-pool", c1.urn, { dependencies: [eks.urn] });
const provider = r("pulumi:providers:kubernetes", "c1-provider", c1.urn, { dependencies: [eks.urn] });
const platform = r("platform:addons:Platform", "c1-platform", "");
const release = r("kubernetes:helm.sh/v3:Release", "c1-velero", platform.urn, { provider: provider.urn });
const restore = r("kubernetes:velero.io/v1:Restore", "c1-restore", platform.urn, { provider: provider.urn, dependencies: [release.urn] });
const tenant = r("platform:tenancy:Tenant", "c1-team", "");
const ns = r("kubernetes:core/v1:Namespace", "c1-team-ns", tenant.urn, { provider: provider.urn, dependencies: [platform.urn] });
const c2 = r("platform:clusters:GkeCluster", "c2", "");
const gke = r("gcp:container/cluster:Cluster", "c2-gke", c2.urn);
const gpool = r("gcp:container/nodePool:NodePool", "c2-pool", c2.urn, { dependencies: [gke.urn] });
const doc: RenderDocument = { stack: "s", resources: [c1, eks, pool, provider, platform, release, restore, tenant, ns, c2, gke, gpool] };

describe("rebuild model", () => {
    it("computes each cluster's critical path with dependencies, providers and components", () => {
        const [m1, m2] = modelRebuild(doc);
        assert.equal(m1.cluster, "c1");
        assert.equal(m1.resources, 9);
        assert.ok(Math.abs(m1.minutes - 42.1) < 1e-9, `${m1.minutes}`);
        assert.deepEqual(
            m1.criticalPath.map((s) => [s.name, s.start, Math.round(s.finish * 10) / 10]),
            [["c1-eks", 0, 10], ["c1-velero", 10, 12], ["c1-restore", 12, 42], ["c1-team-ns", 42, 42.1]],
        );
        assert.deepEqual([m2.cluster, m2.resources, m2.minutes], ["c2", 3, 12]);
        assert.deepEqual(m2.criticalPath.map((s) => s.name), ["c2-gke", "c2-pool"]);
    });

    it("treats resources of another cluster as already there", () => {
        // c2's pool waiting on c1's cluster changes nothing for c2: c1 is not being rebuilt.
        const crossed = { ...doc, resources: doc.resources.map((x) => (x === gpool ? { ...gpool, dependencies: [gke.urn, eks.urn] } : x)) };
        assert.equal(modelRebuild(crossed)[1].minutes, 12);
    });

    it("takes durations from the table: exact type first, then the longest prefix, components free", () => {
        const table = { "kubernetes:": 1, "kubernetes:helm.sh/": 3, "kubernetes:helm.sh/v3:Release": 5 };
        assert.equal(durationOf({ type: "kubernetes:helm.sh/v3:Release", custom: true }, table), 5);
        assert.equal(durationOf({ type: "kubernetes:helm.sh/v4:Chart", custom: true }, table), 3);
        assert.equal(durationOf({ type: "kubernetes:core/v1:Secret", custom: true }, table), 1);
        assert.equal(durationOf({ type: "platform:addons:Platform", custom: false }, table), 0);
        assert.equal(durationOf({ type: "aws:eks/cluster:Cluster", custom: true }, defaultDurations), 10);
        const slowerGke = modelRebuild(doc, { ...defaultDurations, "gcp:container/cluster:Cluster": 20 });
        assert.equal(slowerGke[1].minutes, 24);
    });

    it("refuses a dependency cycle", () => {
        const a = r("aws:s3/bucket:Bucket", "c2-a", c2.urn, { dependencies: [urn("aws:s3/bucket:Bucket", "c2-b")] });
        const b = r("aws:s3/bucket:Bucket", "c2-b", c2.urn, { dependencies: [a.urn] });
        assert.throws(() => modelRebuild({ stack: "s", resources: [c2, a, b] }), /dependency cycle/);
    });

    it("writes one markdown row per cluster", () => {
        const md = toMarkdown(modelRebuild(doc));
        assert.match(md, /\| c1 \| 9 \| 42\.1 \| Cluster `c1-eks` \(10\) → Release `c1-velero` \(2\) → Restore `c1-restore` \(30\) → Namespace `c1-team-ns` \(0\.1\) \|/);
        assert.match(md, /\| c2 \| 3 \| 12 \|/);
    });
});
