/**
 * Velero on every cluster of every stack that renders: the pinned chart with the cloud's
 * plugin, a BackupStorageLocation on the cluster's bucket, a VolumeSnapshotLocation where the
 * cloud snapshots, and the four schedules. Expected values are the and the
 * chart's (at the pin velero.ts names as checked), not the code's.
 */
import { strict as assert } from "assert";
import { readStackConfig, RenderDocument, RenderedResource, renderProgram } from "../scripts/render-program";
import { addonOf, assertCustomResourcesAfterRelease, clustersOf, environmentOf, fakeCluster, kindNamed, namespaceOf, ofKind, Raw, renderStack, STACKS, valuesOf } from "./platform-helpers";
import { addons } from "../components/platform/addons";
import * as k8s from "@pulumi/kubernetes";
import { Velero } from "../components/platform/velero";
import { IdentityGrant } from "../components/types";
import { editedStackFile, loadStackSettings, record, stackConfig } from "./mocks";
import { validateSettings } from "../components/config";

/** The local stack's adopted cluster: its entry stands in for a restore source's. */
const localCluster = validateSettings(loadStackSettings("local")).settings!.clusters[0];

const BSL = "velero.io/v1:BackupStorageLocation";
const SCHEDULE = "velero.io/v1:Schedule";
const PLUGIN: Record<string, string> = {
    aws: "velero/velero-plugin-for-aws:v1.14.2",
    existing: "velero/velero-plugin-for-aws:v1.14.2",
    azure: "velero/velero-plugin-for-microsoft-azure:v1.14.2",
    gcp: "velero/velero-plugin-for-gcp:v1.14.2",
};
const PROVIDER: Record<string, string> = { aws: "aws", existing: "aws", azure: "azure", gcp: "gcp" };
/** The resources of Velero's storage identity, per cloud (role and bucket policy; identity, federation and role assignment; account, signer, binding and bucket grant). */
const STORAGE_IDENTITY_RESOURCES: Record<string, number> = { aws: 2, azure: 3, gcp: 4 };
const CLUSTER_RESOURCES = [
    "customresourcedefinitions.apiextensions.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
    "storageclasses.storage.k8s.io",
    "validatingwebhookconfigurations.admissionregistration.k8s.io",
    "mutatingwebhookconfigurations.admissionregistration.k8s.io",
];

const specOf = (resources: RenderedResource[], name: string) => kindNamed(resources, SCHEDULE, name).inputs.spec as Raw;
/** Tenants placed on `cluster` by the stack file (all clusters unless the tenant names some). */
const tenantsOn = (stack: string, cluster: string) =>
    ((loadStackSettings(stack).tenants ?? []) as Raw[]).filter((t) => !t.clusters || t.clusters.includes(cluster)).map((t) => t.name);

for (const stack of STACKS) {
    describe(`Velero (${stack})`, () => {
        let doc: RenderDocument;
        before(async function () {
            doc = await renderStack(stack);
        });

        it("installs the pinned chart velero with the cloud's plugin as an init container, Pod Security restricted-compliant", () => {
            for (const cluster of clustersOf(stack)) {
                const { release } = addonOf(doc, cluster.name, "velero");
                assert.equal(release.inputs.chart, "velero");
                assert.equal(release.inputs.version, addons.velero.chart.version, "the pin (versions.ts, through the registry)");
                assert.deepEqual(release.inputs.repositoryOpts, { repo: "https://vmware-tanzu.github.io/helm-charts" });
                assert.equal(release.inputs.namespace, "velero");
                const values = valuesOf(release);
                assert.equal(values.initContainers.length, 1);
                assert.equal(values.initContainers[0].image, PLUGIN[cluster.cloud]);
                assert.deepEqual(values.initContainers[0].volumeMounts, [{ mountPath: "/target", name: "plugins" }]);
                assert.equal(values.serviceAccount.server.name, "velero");
                assert.equal(values.podSecurityContext.runAsNonRoot, true);
                assert.equal(typeof values.podSecurityContext.runAsUser, "number", "the image's user is named; runAsNonRoot needs a numeric uid");
                assert.deepEqual(values.podSecurityContext.seccompProfile, { type: "RuntimeDefault" });
                for (const ctx of [values.containerSecurityContext, values.initContainers[0].securityContext]) {
                    assert.equal(ctx.allowPrivilegeEscalation, false);
                    assert.deepEqual(ctx.capabilities, { drop: ["ALL"] });
                }
                // The program owns locations and schedules; the chart must not add its own.
                assert.equal(values.backupsEnabled, false);
                assert.equal(values.snapshotsEnabled, false);
                assert.equal(values.schedules, undefined);
            }
        });

        it("a default, read-write BackupStorageLocation on the cluster's bucket, keyed by credentials only where the store needs them", () => {
            for (const cluster of clustersOf(stack)) {
                const addon = addonOf(doc, cluster.name, "velero");
                const locations = ofKind(addon.children, BSL);
                assert.equal(locations.length, 1, "no second location outside a restore");
                const spec = kindNamed(addon.children, BSL, "default").inputs.spec as Raw;
                assert.equal(spec.provider, PROVIDER[cluster.cloud]);
                assert.equal(spec.default, true);
                assert.equal(spec.accessMode, "ReadWrite");
                if (cluster.cloud === "existing") {
                    assert.deepEqual(spec.objectStorage, { bucket: cluster.backup.bucket, prefix: cluster.name });
                    assert.equal(spec.config.s3Url, cluster.backup.endpoint);
                    assert.deepEqual(spec.credential, { name: "default-credentials", key: "cloud" });
                    const secret = addon.children.find((r) => r.type === "kubernetes:core/v1:Secret" && (r.inputs.metadata as Raw).name === "default-credentials")!;
                    assert.equal(secret.inputs.stringData, "[secret]", "the credentials file stays secret");
                } else {
                    assert.equal(spec.credential, undefined, "cloud clusters use workload identity");
                    const identity = addon.release.dependencies.filter((urn) => urn !== namespaceOf(addon).urn);
                    assert.equal(identity.length, STORAGE_IDENTITY_RESOURCES[cluster.cloud], `${cluster.name}: Velero's storage identity`);
                }
            }
        });

        it("snapshots volumes through CSI on the clouds (their labelled VolumeSnapshotClass), not on an adopted cluster", () => {
            for (const cluster of clustersOf(stack)) {
                const addon = addonOf(doc, cluster.name, "velero");
                const vsls = ofKind(addon.children, "velero.io/v1:VolumeSnapshotLocation");
                if (cluster.cloud === "existing") assert.equal(vsls.length, 0);
                const csi = cluster.cloud !== "existing";
                assert.equal(valuesOf(addon.release).configuration.features, csi ? "EnableCSI" : undefined);
                if (csi) {
                    const classes = doc.resources.filter((r) => (r.inputs.kind as string) === "VolumeSnapshotClass" && r.urn.includes(`::${cluster.name}-`));
                    const labelled = classes.filter((c) => (c.inputs.metadata as Raw).labels?.["velero.io/csi-volumesnapshot-class"] === "true");
                    assert.equal(labelled.length, 1, `one Velero snapshot class on ${cluster.name}`);
                }
                const snapshots = vsls.length === 1 || csi;
                for (const schedule of ofKind(addon.children, SCHEDULE)) assert.equal((schedule.inputs.spec as Raw).template.snapshotVolumes, snapshots, schedule.name);
                assert.equal(valuesOf(addon.release).configuration.defaultVolumeSnapshotLocations, vsls.length === 1 ? `${PROVIDER[cluster.cloud]}:default` : undefined);
            }
        });

        it("schedules: infrastructure-daily 03:00 for 30 days, tenants-daily, cluster-resources-weekly Sunday 04:00 for 90 days", () => {
            for (const cluster of clustersOf(stack)) {
                const addon = addonOf(doc, cluster.name, "velero");
                // The platform namespaces, read off the render: every labelled add-on namespace but Velero's.
                const platform = doc.resources
                    .filter((r) => r.type === "kubernetes:core/v1:Namespace" && r.name.startsWith(`${cluster.name}-platform-`))
                    .map((r) => (r.inputs.metadata as Raw).name)
                    .filter((ns) => ns !== "velero");
                const daily = specOf(addon.children, "infrastructure-daily");
                assert.equal(daily.schedule, "0 3 * * *");
                assert.equal(daily.template.ttl, "720h");
                assert.deepEqual([...daily.template.includedNamespaces].sort(), [...platform].sort());
                // Tenants: every namespace but the platform's (Velero's included) and Kubernetes' own.
                const tenantsDaily = specOf(addon.children, "tenants-daily");
                assert.deepEqual(tenantsDaily.template.includedNamespaces, ["*"]);
                assert.deepEqual([...tenantsDaily.template.excludedNamespaces].sort(), [...platform, "velero", "kube-system", "kube-public", "kube-node-lease"].sort());
                for (const tenant of tenantsOn(stack, cluster.name)) assert.ok(!tenantsDaily.template.excludedNamespaces.includes(tenant), tenant);
                const weekly = specOf(addon.children, "cluster-resources-weekly");
                assert.equal(weekly.schedule, "0 4 * * 0");
                assert.equal(weekly.template.ttl, "2160h");
                assert.deepEqual(weekly.template.includedResources, CLUSTER_RESOURCES);
                assert.equal(weekly.template.includeClusterResources, true);
                for (const schedule of ofKind(addon.children, SCHEDULE)) {
                    assert.equal((schedule.inputs.spec as Raw).paused, false);
                    assert.equal((schedule.inputs.spec as Raw).template.storageLocation, "default");
                }
            }
        });

        it("infrastructure-hourly (72h) exactly when addons.velero.hourlyBackups (default: production only)", () => {
            const configured = (loadStackSettings(stack).addons as Raw | undefined)?.velero?.hourlyBackups;
            const hourly = configured ?? environmentOf(stack) === "production";
            for (const cluster of clustersOf(stack)) {
                const addon = addonOf(doc, cluster.name, "velero");
                const found = ofKind(addon.children, SCHEDULE).filter((r) => (r.inputs.metadata as Raw).name === "infrastructure-hourly");
                assert.equal(found.length, hourly ? 1 : 0);
                if (hourly) assert.equal((found[0].inputs.spec as Raw).template.ttl, "72h");
            }
        });

        it("locations, snapshot locations and schedules wait for the release that installs the CRDs", () => {
            const schedules = ["infrastructure-daily", "tenants-daily", "cluster-resources-weekly", ...(environmentOf(stack) === "production" ? ["infrastructure-hourly"] : [])];
            for (const cluster of clustersOf(stack)) {
                assertCustomResourcesAfterRelease(addonOf(doc, cluster.name, "velero"), /^kubernetes:velero\.io\//, ["BackupStorageLocation/default", ...schedules.map((s) => `Schedule/${s}`)]);
            }
        });
    });
}

describe("Velero on local variants", () => {
    const render = (edit: (s: Raw) => void) => renderProgram("local", readStackConfig(editedStackFile("local", edit)));

    it("without tenants tenants-daily stays, unchanged (it never names them)", async () => {
        const base = await renderStack("local");
        const doc = await render((s) => {
            s.tenants = [];
        });
        const schedule = (d: RenderDocument) => ofKind(addonOf(d, "local-kind", "velero").children, SCHEDULE).find((r) => (r.inputs.metadata as Raw).name === "tenants-daily");
        assert.ok(schedule(doc));
        assert.deepEqual(schedule(doc), schedule(base));
    });

    it("hourlyBackups: true adds infrastructure-hourly over the platform namespaces, kept 72h", async () => {
        const doc = await render((s) => {
            s.addons = { ...(s.addons as Raw), velero: { hourlyBackups: true } };
        });
        const addon = addonOf(doc, "local-kind", "velero");
        const hourly = specOf(addon.children, "infrastructure-hourly");
        assert.equal(hourly.template.ttl, "72h");
        assert.deepEqual(hourly.template.includedNamespaces, specOf(addon.children, "infrastructure-daily").template.includedNamespaces);
    });
});

describe("Velero on a cluster whose storage snapshots volumes, restoring from another cluster", () => {
    it("adds a VolumeSnapshotLocation on snapshotConfig, and a second, read-only location and grant for the source", async () => {
        const calls: { sa: string; grant: IdentityGrant }[] = [];
        const storage = { provider: "gcp", bucket: "velero-bucket", config: { serviceAccount: "x" }, snapshotConfig: { project: "p1" }, pluginImage: "velero/velero-plugin-for-gcp:v1.14.2", csiSnapshots: false, resources: [] };
        const doc = await record("unit", stackConfig({}), () => {
            const provider = new k8s.Provider("fake", { kubeconfig: "fake" });
            const velero = new Velero("v", { cluster: fakeCluster(calls, storage), source: { stack: "unit", cluster: { ...localCluster, name: "old" } }, restoring: true }, { providers: { kubernetes: provider } });
            velero.scheduleBackups({ platformNamespaces: ["velero", "cert-manager"] });
        });
        const vsl = doc.resources.find((r) => r.type === "kubernetes:velero.io/v1:VolumeSnapshotLocation")!;
        assert.deepEqual(vsl.inputs.spec, { provider: "gcp", config: { project: "p1" } });
        const bsls = ofKind(doc.resources, BSL).map((r) => [(r.inputs.metadata as Raw).name, (r.inputs.spec as Raw).accessMode, (r.inputs.spec as Raw).objectStorage.prefix]);
        assert.deepEqual(bsls.sort(), [["default", "ReadWrite", "fake"], ["source-old", "ReadOnly", "old"]]);
        assert.deepEqual(calls.map((c) => [c.sa, c.grant.kind === "backupStorage" && c.grant.access, c.grant.kind === "backupStorage" && c.grant.storage.prefix]), [
            ["velero/velero", "readWrite", "fake"],
            ["velero/velero", "readOnly", "old"],
        ]);
        const release = doc.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release")!;
        assert.equal(valuesOf(release).configuration.defaultVolumeSnapshotLocations, "gcp:default");
        const daily = ofKind(doc.resources, SCHEDULE).find((r) => (r.inputs.metadata as Raw).name === "infrastructure-daily")!;
        assert.deepEqual((daily.inputs.spec as Raw).template.includedNamespaces, ["cert-manager"], "Velero does not back itself up");
        assert.equal((daily.inputs.spec as Raw).template.snapshotVolumes, true);
        assert.equal((daily.inputs.spec as Raw).paused, true);
    });
});
