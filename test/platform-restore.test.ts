/**
 * DR rebuild mode on the fixture test/fixtures/Pulumi.dr.yaml: an adopted production cluster
 * whose `restore` block takes the latest tenants-daily backup out of the local stack's cluster's store.
 * The acceptance: a Velero Restore that depends on Velero's release and its storage
 * locations, Kyverno in Audit, tenant GitOps held; without `restore`, none of it.
 */
import { strict as assert } from "assert";
import { RenderDocument, RenderedResource } from "../scripts/render-program";
import { addonOf, assertDependsOn, kindNamed, ofKind, Raw, RELEASE, renderFixture } from "./platform-helpers";

const RESTORE = "velero.io/v1:Restore";
const BSL = "velero.io/v1:BackupStorageLocation";
const CLUSTER = "dr-kind";
const restoresOf = (doc: RenderDocument) => ofKind(doc.resources, RESTORE);
const policiesOf = (doc: RenderDocument) => ofKind(doc.resources, "kyverno.io/v1:ClusterPolicy");

describe("DR rebuild mode (test/fixtures/Pulumi.dr.yaml)", () => {
    let doc: RenderDocument;
    let normal: RenderDocument;
    before(async () => {
        doc = await renderFixture("dr");
        normal = await renderFixture("dr", (s) => delete s.clusters[0].restore);
    });

    it("creates one Velero Restore of the latest tenants-daily backup, in Velero's namespace", () => {
        const restores = restoresOf(doc);
        assert.equal(restores.length, 1);
        const spec = restores[0].inputs.spec as Raw;
        assert.equal(spec.scheduleName, "tenants-daily");
        assert.equal(spec.backupName, undefined);
        assert.equal((restores[0].inputs.metadata as Raw).namespace, "velero");
        assert.deepEqual(spec.excludedNamespaces, ["velero"]);
        assert.equal(spec.existingResourcePolicy, "none", "what Pulumi already created stays Pulumi's");
    });

    it("the Restore depends on Velero's release and on every storage location, its own and the source's", () => {
        const restore = restoresOf(doc)[0];
        const velero = addonOf(doc, CLUSTER, "velero");
        assertDependsOn(restore, velero.release);
        const locations = ofKind(velero.children, BSL);
        assert.equal(locations.length, 2);
        for (const location of locations) assertDependsOn(restore, location);
    });

    it("starts after every other add-on's release, so restored objects find their CRDs and webhooks", () => {
        const restore = restoresOf(doc)[0];
        const releases = doc.resources.filter((r) => r.type === RELEASE);
        // Every add-on an adopted cluster gets: the registry's but cluster-autoscaler and metrics-server (EKS only).
        assert.equal(releases.length, 8, "the fixture runs every add-on");
        for (const release of releases) assertDependsOn(restore, release);
    });

    it("attaches the source cluster's backups read-only under its own prefix, next to the cluster's own", () => {
        const velero = addonOf(doc, CLUSTER, "velero");
        const own = kindNamed(velero.children, BSL, "default").inputs.spec as Raw;
        const source = kindNamed(velero.children, BSL, "source-local-kind").inputs.spec as Raw;
        assert.deepEqual(
            { accessMode: source.accessMode, default: source.default, objectStorage: source.objectStorage },
            { accessMode: "ReadOnly", default: false, objectStorage: { bucket: "velero", prefix: "local-kind" } },
        );
        assert.deepEqual({ accessMode: own.accessMode, default: own.default, prefix: own.objectStorage.prefix }, { accessMode: "ReadWrite", default: true, prefix: CLUSTER });
    });

    it("holds `up` until Velero has synced each location's backups, and pauses the schedules", () => {
        const velero = addonOf(doc, CLUSTER, "velero");
        for (const location of ofKind(velero.children, BSL)) {
            assert.equal(((location.inputs.metadata as Raw).annotations ?? {})["pulumi.com/waitFor"], "jsonpath={.status.lastSyncedTime}");
        }
        const schedules = ofKind(velero.children, "velero.io/v1:Schedule");
        // Production's defaults: the hourly schedule too.
        assert.deepEqual(schedules.map((r) => (r.inputs.metadata as Raw).name).sort(), ["cluster-resources-weekly", "infrastructure-daily", "infrastructure-hourly", "tenants-daily"]);
        for (const schedule of schedules) assert.equal((schedule.inputs.spec as Raw).paused, true, `${schedule.name} must not back up a half-restored cluster`);
    });

    it("keeps the finished Restore when the block is removed", () => {
        assert.equal(restoresOf(doc)[0].retainOnDelete, true);
    });

    it("holds tenant GitOps: the tenant's GitRepository and Kustomization are suspended", () => {
        const flux = doc.resources.filter((r) => /:(GitRepository|Kustomization)$/.test(r.type) && (r.inputs.metadata as Raw).namespace === "team-alpha");
        assert.equal(flux.length, 2);
        for (const r of flux) assert.equal((r.inputs.spec as Raw).suspend, true, r.name);
    });

    it("switches Kyverno to Audit while restoring (production would Enforce)", function () {
        assert.equal(policiesOf(doc).length, 5, "Kyverno renders its four policies and verify-image-signatures");
        const mentions = (r: RenderedResource, action: string) => JSON.stringify(r.inputs).includes(`"${action}"`);
        assert.equal(policiesOf(normal).filter((p) => mentions(p, "Enforce")).length, 5, "the fixture's production default is Enforce");
        for (const policy of policiesOf(doc)) assert.ok(!mentions(policy, "Enforce") && mentions(policy, "Audit"), `${policy.name} must Audit while restoring`);
    });

    it("without `restore`: no Restore, no source location, schedules running, GitOps live", () => {
        assert.equal(restoresOf(normal).length, 0);
        const velero = addonOf(normal, CLUSTER, "velero");
        assert.deepEqual(ofKind(velero.children, BSL).map((r) => (r.inputs.metadata as Raw).name), ["default"]);
        // Not even an empty map: after rebuild mode the provider's state has none, and `{}` was a diff on every preview (the DR drill's finding).
        for (const location of ofKind(velero.children, BSL)) assert.equal("annotations" in (location.inputs.metadata as Raw), false, location.name);
        for (const schedule of ofKind(velero.children, "velero.io/v1:Schedule")) assert.equal((schedule.inputs.spec as Raw).paused, false);
        const flux = normal.resources.filter((r) => /:(GitRepository|Kustomization)$/.test(r.type) && (r.inputs.metadata as Raw).namespace === "team-alpha");
        assert.equal(flux.length, 2);
        for (const r of flux) assert.equal((r.inputs.spec as Raw).suspend, false, r.name);
    });

    it("a named backup from the cluster's own bucket: backupName, one location", async () => {
        const named = await renderFixture("dr", (s) => {
            s.clusters[0].restore = { backupName: "tenants-daily-20261120020000" };
        });
        const restores = restoresOf(named);
        assert.equal(restores.length, 1);
        const spec = restores[0].inputs.spec as Raw;
        assert.deepEqual({ backupName: spec.backupName, scheduleName: spec.scheduleName }, { backupName: "tenants-daily-20261120020000", scheduleName: undefined });
        const locations = ofKind(addonOf(named, CLUSTER, "velero").children, BSL);
        assert.equal(locations.length, 1);
        assertDependsOn(restores[0], locations[0]);
    });

    it("refuses a restore while Velero is disabled, naming the setting", async () => {
        await assert.rejects(
            renderFixture("dr", (s) => {
                s.addons = { velero: { enabled: false } };
            }),
            /restore: needs addons\.velero\.enabled/,
        );
    });
});
