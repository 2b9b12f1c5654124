/**
 * The Tenant's wiring that the stack files cannot show yet: ordering against the platform's
 * releases, the hold while restoring, and the guards on what config may say.
 */
import { strict as assert } from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ExistingCluster } from "../components/clusters/existing";
import { validateSettings } from "../components/config";
import { namespaceLabels, Tenant, withContext } from "../components/tenancy/tenant";
import { RenderDocument } from "../scripts/render-program";
import { input, loadStackSettings, record, renderStack, stackConfig } from "./mocks";

const local = validateSettings(loadStackSettings("local")).settings!;
const clusterConfig = local.clusters[0] as Extract<(typeof local.clusters)[number], { cloud: "existing" }>;
const tenantConfig = validateSettings({
    ...loadStackSettings("local"),
    tenants: [{ name: "team-x", groups: { view: { existing: ["x-viewers"] } }, gitops: { url: "https://github.com/example/x" } }],
}).settings!.tenants[0];

/** One tenant on the local cluster, with stand-in platform releases. */
function renderTenant(suspendGitOps?: boolean): Promise<RenderDocument> {
    return record("unit", stackConfig({}), () => {
        const cluster = new ExistingCluster("kind", { config: clusterConfig, environment: "local" });
        const opts = { provider: cluster.provider };
        const externalSecrets = new k8s.helm.v3.Release("eso", { chart: "external-secrets", namespace: "external-secrets" }, opts);
        const flux = new k8s.helm.v3.Release("flux", { chart: "flux2", namespace: "flux-system" }, opts);
        new Tenant("kind-team-x", { config: tenantConfig, cluster, platformReleases: { externalSecrets, flux }, suspendGitOps }, { providers: { kubernetes: cluster.provider } });
    });
}

const urnOf = (doc: RenderDocument, name: string) => doc.resources.find((r) => r.name === name)!.urn;
const ofKind = (doc: RenderDocument, suffix: string) => doc.resources.filter((r) => r.type.endsWith(suffix));

describe("tenancy: the Tenant component", () => {
    it("creates its custom resources after the releases that install their CRDs", async () => {
        const doc = await renderTenant();
        const [eso, flux] = [urnOf(doc, "eso"), urnOf(doc, "flux")];
        const store = ofKind(doc, ":SecretStore");
        assert.equal(store.length, 1);
        assert.ok(store[0].dependencies.includes(eso), "SecretStore before External Secrets' CRDs");
        for (const kind of [":GitRepository", ":Kustomization"]) {
            const found = ofKind(doc, kind);
            assert.equal(found.length, 1);
            assert.ok(found[0].dependencies.includes(flux), `${kind} before Flux's CRDs`);
        }
    });

    it("starts syncing only once the namespace is boxed in by quota, limits and every network policy", async () => {
        const doc = await renderTenant();
        const sync = ofKind(doc, ":Kustomization")[0];
        const box = [...ofKind(doc, ":NetworkPolicy"), ...ofKind(doc, ":ResourceQuota"), ...ofKind(doc, ":LimitRange")];
        assert.equal(box.length, 4);
        for (const r of box) assert.ok(sync.dependencies.includes(r.urn), `the sync does not wait for ${r.name}`);
    });

    it("is deleted with its namespace: every object in the namespace names it in deletedWith, nothing else does", async () => {
        const doc = await renderTenant();
        const ns = urnOf(doc, "kind-team-x-namespace");
        const deletedWithNamespace = doc.resources.filter((r) => r.deletedWith === ns).map((r) => r.name);
        assert.deepEqual(deletedWithNamespace.sort(), [
            "kind-team-x-gitops-binding",
            "kind-team-x-gitops-sa",
            "kind-team-x-gitops-source",
            "kind-team-x-gitops-sync",
            "kind-team-x-limits",
            "kind-team-x-netpol-default-deny",
            "kind-team-x-netpol-tenant-allow",
            "kind-team-x-quota",
            "kind-team-x-secret-store",
            "kind-team-x-secrets-sa",
            "kind-team-x-view",
        ]);
        // The namespace, the tenant's grants in the secrets namespace and the releases go on their own.
        assert.deepEqual(doc.resources.filter((r) => r.deletedWith && r.deletedWith !== ns).map((r) => r.name), []);
    });

    it("holds GitOps (source and sync suspended) while the cluster restores, and only then", async () => {
        for (const suspend of [true, false, undefined]) {
            const doc = await renderTenant(suspend);
            for (const kind of [":GitRepository", ":Kustomization"]) assert.equal(input(ofKind(doc, kind)[0], "spec.suspend"), suspend === true, `${kind} with suspendGitOps=${suspend}`);
        }
    });

    it("names the tenant and the cluster in an error raised while it builds, keeping the error's class and the frame that threw", async () => {
        const broken = { name: "kind", privateRanges: null } as unknown as ExistingCluster;
        const error = await record("unit", stackConfig({}), () => new Tenant("broken", { config: tenantConfig, cluster: broken, platformReleases: {} })).then(
            () => undefined,
            (err: unknown) => err,
        );
        assert.ok(error instanceof TypeError, String(error));
        assert.match(error.message, /^tenant team-x on cluster kind: .*not iterable/);
        const [first, frame] = error.stack!.split("\n");
        assert.equal(first, `TypeError: ${error.message}`);
        assert.match(frame, /^\s+at .*components\/tenancy\/network-policies\.js:\d+:\d+/, "the location of the throw");
    });

    it("withContext keeps a RunError a RunError (printed without a stack) and wraps what is not an Error", () => {
        const runError = withContext(new pulumi.RunError("bad quota"), "tenant t on cluster c");
        assert.ok(runError instanceof pulumi.RunError);
        assert.equal(runError.message, "tenant t on cluster c: bad quota");
        assert.equal(withContext("a string", "tenant t on cluster c").message, "tenant t on cluster c: a string");
    });

    it("binds only the groups a role lists: no binding for a role without groups", async () => {
        const doc = await renderTenant();
        const groupBindings = ofKind(doc, ":RoleBinding").filter((r) => (r.inputs.subjects as { kind: string }[]).every((s) => s.kind === "Group"));
        assert.deepEqual(groupBindings.map((b) => input(b, "roleRef.name")), ["view"]);
    });
});

describe("tenancy: guards", () => {
    it("keeps the platform's namespace labels over a tenant's own", () => {
        const labels = namespaceLabels("t", { "pod-security.kubernetes.io/enforce": "privileged", "toolkit.fluxcd.io/tenant": "other", team: "t" });
        assert.equal(labels["pod-security.kubernetes.io/enforce"], "restricted");
        assert.equal(labels["toolkit.fluxcd.io/tenant"], "t");
        assert.equal(labels.team, "t");
    });

    it("rejects tenant labels under the platform's prefixes, with the path", () => {
        for (const key of ["pod-security.kubernetes.io/enforce", "toolkit.fluxcd.io/tenant", "platform.example.io/tenant", "kubernetes.io/metadata.name"]) {
            const { problems } = validateSettings({ ...loadStackSettings("local"), tenants: [{ name: "t1", labels: { [key]: "x" } }] });
            assert.ok(problems.some((p) => p.startsWith("tenants[0].labels: ")), `${key} accepted: ${problems.join("; ")}`);
        }
        assert.deepEqual(validateSettings({ ...loadStackSettings("local"), tenants: [{ name: "t1", labels: { "example.com/team": "x", team: "y" } }] }).problems, []);
    });

    it("gives namespaced SecretStores selectors without a namespace (External Secrets refuses one there), on every stack", async () => {
        // One per tenant per cluster it is on.
        for (const [stack, count] of [["local", 2], ["staging", 5], ["production", 5]] as const) {
            const stores = (await renderStack(stack)).resources.filter((r) => r.type === "kubernetes:external-secrets.io/v1:SecretStore");
            assert.equal(stores.length, count, stack);
            const namespacesIn = (v: unknown): string[] =>
                Array.isArray(v) ? v.flatMap(namespacesIn) : v && typeof v === "object" ? Object.entries(v).flatMap(([k, x]) => (k === "namespace" ? [String(x)] : namespacesIn(x))) : [];
            for (const store of stores) assert.deepEqual(namespacesIn((store.inputs.spec as { provider: unknown }).provider), [], store.urn);
        }
    });
});
