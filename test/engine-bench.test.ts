import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { benchTenant, parseAddons } from "../scripts/engine-bench";
import { bytesByField, kubernetesObjects, objectsToDelete, readState, StateResource, tenantResources } from "../scripts/engine-bench-state";

/**
 * A hand-made state: the stack, a provider, a platform component with a release, and two
 * tenants (a component, its namespace and quota; the second also a GitOps source).
 */
const urn = (type: string, name: string) => `urn:pulumi:bench::platform::${type}::${name}`;
const res = (type: string, name: string, parent: string | undefined, inputs?: Record<string, unknown>): StateResource => ({
    urn: urn(type, name),
    type,
    custom: !type.startsWith("platform:") && !type.startsWith("pulumi:pulumi:"),
    ...(parent ? { parent } : {}),
    ...(inputs ? { inputs } : {}),
});
const stack = res("pulumi:pulumi:Stack", "platform-bench", undefined);
const provider = res("pulumi:providers:kubernetes", "c-provider", stack.urn, { kubeconfig: "x" });
const platform = res("platform:addons:Platform", "c-platform", stack.urn);
const release = res("kubernetes:helm.sh/v3:Release", "c-flux", platform.urn, { chart: "flux2" });
const t1 = res("platform:tenancy:Tenant", "c-team-a", stack.urn);
const ns1 = res("kubernetes:core/v1:Namespace", "c-team-a-namespace", t1.urn, { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } });
const q1 = res("kubernetes:core/v1:ResourceQuota", "c-team-a-quota", t1.urn, { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "q", namespace: "team-a" }, __fieldManager: "x" });
const t2 = res("platform:tenancy:Tenant", "c-team-b", stack.urn);
const ns2 = res("kubernetes:core/v1:Namespace", "c-team-b-namespace", t2.urn, { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-b" } });
const q2 = res("kubernetes:core/v1:ResourceQuota", "c-team-b-quota", t2.urn, { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "q", namespace: "team-b" } });
const src2 = res("kubernetes:source.toolkit.fluxcd.io/v1:GitRepository", "c-team-b-gitops-source", t2.urn, { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository" });
const resources = [stack, provider, platform, release, t1, q1, ns1, t2, q2, src2, ns2];

describe("engine bench: reading the state", () => {
    it("counts the resources under the Tenant components, by type", () => {
        const { count, tenants, byType } = tenantResources(resources);
        assert.equal(tenants, 2);
        assert.equal(count, 7);
        assert.deepEqual(Object.fromEntries(byType), {
            "platform:tenancy:Tenant": 2,
            "kubernetes:core/v1:ResourceQuota": 2,
            "kubernetes:core/v1:Namespace": 2,
            "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository": 1,
        });
    });

    it("takes every Kubernetes object's inputs, namespaces first, without the provider's private keys or Helm releases", () => {
        const objects = kubernetesObjects(resources);
        assert.deepEqual(
            objects.map((o) => o.kind),
            ["Namespace", "Namespace", "ResourceQuota", "ResourceQuota", "GitRepository"],
        );
        assert.deepEqual(objects[2], { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "q", namespace: "team-a" } });
    });

    it("gives kubectl delete the namespaces and what lies outside them, not what a namespace's deletion takes along", () => {
        const object = (kind: string, name: string, namespace?: string) => ({ apiVersion: "v1", kind, metadata: { name, ...(namespace ? { namespace } : {}) } });
        const objects = [object("Namespace", "team-a"), object("Namespace", "team-b"), object("ResourceQuota", "q", "team-a"), object("RoleBinding", "r", "external-secrets"), object("ClusterRole", "c"), object("LimitRange", "l", "team-b")];
        assert.deepEqual(
            objectsToDelete(objects).map((o) => `${o.kind}/${(o.metadata as { name: string }).name}`),
            ["Namespace/team-a", "Namespace/team-b", "RoleBinding/r", "ClusterRole/c"],
        );
    });

    it("reads the file backend's checkpoint and sizes its fields", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-bench-test-"));
        try {
            const file = path.join(dir, ".pulumi", "stacks", "platform", "bench.json");
            fs.mkdirSync(path.dirname(file), { recursive: true });
            const text = JSON.stringify({ version: 3, checkpoint: { latest: { resources: [ns1] } } });
            fs.writeFileSync(file, text);
            const state = readState(dir, "bench");
            assert.equal(state.bytes, text.length);
            assert.deepEqual(state.resources, [ns1]);
            // {"urn":...} minus braces and commas: each field is "key":value, 4 bytes of quotes, colon and comma.
            const sizes = Object.fromEntries(bytesByField([ns1]));
            assert.equal(sizes.urn, JSON.stringify(ns1.urn).length + "urn".length + 4);
            assert.equal(sizes.inputs, JSON.stringify(ns1.inputs).length + "inputs".length + 4);
            assert.deepEqual(Object.keys(sizes).sort(), ["custom", "inputs", "parent", "type", "urn"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("engine bench: options", () => {
    it("reads --addons as none, all or a list, and names an unknown add-on", () => {
        assert.deepEqual(parseAddons("none"), []);
        assert.deepEqual(parseAddons("flux,externalSecrets"), ["flux", "externalSecrets"]);
        assert.deepEqual(parseAddons("all"), ["certManager", "velero", "envoyGateway", "externalSecrets", "falco", "flux", "monitoring", "kyverno", "clusterAutoscaler", "metricsServer"]);
        assert.throws(() => parseAddons("flux,istio"), /unknown add-on\(s\) istio/);
    });

    it("gives a tenant GitOps only when asked", () => {
        assert.deepEqual(benchTenant(7, false), { name: "tenant-0007", groups: { edit: { existing: ["tenant-0007-developers"] }, view: { existing: ["tenant-0007-viewers"] } } });
        assert.deepEqual(benchTenant(7, true).gitops, { url: "https://github.com/example/tenant-0007" });
    });
});
