/**
 * The stack policies (backup-bucket-complete, tenant-namespace-isolated,
 * cluster-role-binding-accounts), the enforcement
 * level per stack, and the offline runner's verdict. Hand-built stacks, plus the real local
 * render for the tenant policy.
 */
import { strict as assert } from "assert";
import { StackValidationPolicy } from "@pulumi/policy";
import { enforcementFor } from "../policy/enforcement";
import { checkRender, ResourceInput, runPolicy } from "../policy/offline";
import { backupBucketComplete } from "../policy/policies/backups";
import { chartVersionExact } from "../policy/policies/charts";
import { clusterRoleBindingAccounts } from "../policy/policies/rbac";
import { TENANT_LABEL, tenantNamespaceIsolated } from "../policy/policies/tenants";
import { renderStack } from "./mocks";

const urn = (type: string, name: string) => `urn:pulumi:s::platform::${type}::${name}`;
function res(type: string, name: string, inputs: Record<string, unknown>, extra: Partial<ResourceInput> = {}): ResourceInput {
    return { type, name, urn: urn(type, name), inputs, ...extra };
}
const violations = async (policy: StackValidationPolicy, resources: ResourceInput[]) => (await runPolicy(policy, resources)).map((v) => v.message);

describe("policy: backup-bucket-complete (stack)", () => {
    const BUCKET = "aws:s3/bucket:Bucket";
    const bucket = res(BUCKET, "velero", { bucket: "velero-prod" });
    const companions = [
        res("aws:s3/bucketVersioning:BucketVersioning", "velero-versioning", { bucket: "velero-prod" }),
        res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "velero-sse", { bucket: "[unknown]" }, { dependencies: [bucket.urn!] }),
        res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "velero-pab", { bucket: "velero-prod" }),
    ];

    it("passes a bucket whose versioning, encryption and public access block name it or depend on it", async () => {
        assert.deepEqual(await violations(backupBucketComplete, [bucket, ...companions]), []);
    });

    it("fails a bucket without a public access block, and does not count another bucket's", async () => {
        const other = res(BUCKET, "other", { bucket: "other-bucket" });
        const otherBlock = res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "other-pab", { bucket: "other-bucket" });
        const found = await violations(backupBucketComplete, [bucket, companions[0], companions[1], other, otherBlock]);
        assert.deepEqual(found.filter((m) => m.startsWith("velero:")), ["velero: backup bucket has no BucketPublicAccessBlock"]);
    });

    it("fails an Azure storage account without blob service properties", async () => {
        const account = res("azure-native:storage:StorageAccount", "velerosa", { accountName: "velerosa" });
        assert.match((await violations(backupBucketComplete, [account])).join(), /velerosa: backup bucket has no BlobServiceProperties/);
        const service = res("azure-native:storage:BlobServiceProperties", "velerosa-blob", { accountName: "velerosa", isVersioningEnabled: true });
        assert.deepEqual(await violations(backupBucketComplete, [account, service]), []);
    });
});

describe("policy: tenant-namespace-isolated (stack)", () => {
    const provider = (cluster: string) => `urn:pulumi:s::platform::pulumi:providers:kubernetes::${cluster}`;
    function tenant(ns: string, cluster: string, parts: { deny?: object; quota?: boolean; limits?: boolean } = {}): ResourceInput[] {
        const on = { provider: provider(cluster) };
        const meta = (name: string) => ({ name, namespace: ns });
        const spec = parts.deny ?? { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
        return [
            res("kubernetes:core/v1:Namespace", `${cluster}-${ns}-ns`, { metadata: { name: ns, labels: { [TENANT_LABEL]: ns } } }, on),
            res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `${cluster}-${ns}-deny`, { metadata: meta("default-deny"), spec }, on),
            ...(parts.quota === false ? [] : [res("kubernetes:core/v1:ResourceQuota", `${cluster}-${ns}-quota`, { metadata: meta("quota"), spec: { hard: { "limits.cpu": "8" } } }, on)]),
            ...(parts.limits === false ? [] : [res("kubernetes:core/v1:LimitRange", `${cluster}-${ns}-limits`, { metadata: meta("limits"), spec: { limits: [{ type: "Container" }] } }, on)]),
        ];
    }
    const platformNamespace = res("kubernetes:core/v1:Namespace", "velero-ns", { metadata: { name: "velero" } }, { provider: provider("a") });

    it("passes tenant namespaces boxed in on every cluster, and ignores platform namespaces", async () => {
        assert.deepEqual(await violations(tenantNamespaceIsolated, [...tenant("team-a", "a"), ...tenant("team-a", "b"), platformNamespace]), []);
    });

    it("fails a namespace without a quota, even when another cluster's namespace of the same name has one", async () => {
        const found = await violations(tenantNamespaceIsolated, [...tenant("team-a", "a"), ...tenant("team-a", "b", { quota: false })]);
        assert.equal(found.length, 1, found.join(" | "));
        assert.match(found[0], /team-a \(b-team-a-ns\) has no a ResourceQuota/);
    });

    it("fails a namespace whose only NetworkPolicy allows traffic or selects some pods", async () => {
        const allowing = { podSelector: {}, policyTypes: ["Ingress", "Egress"], egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] };
        assert.match((await violations(tenantNamespaceIsolated, tenant("t", "a", { deny: allowing }))).join(), /default-deny NetworkPolicy/);
        const some = { podSelector: { matchLabels: { app: "x" } }, policyTypes: ["Ingress", "Egress"] };
        assert.match((await violations(tenantNamespaceIsolated, tenant("t", "a", { deny: some }))).join(), /default-deny NetworkPolicy/);
        const ingressOnly = { podSelector: {}, policyTypes: ["Ingress"] };
        assert.match((await violations(tenantNamespaceIsolated, tenant("t", "a", { deny: ingressOnly }))).join(), /default-deny NetworkPolicy/);
    });

    it("fails a namespace without a LimitRange", async () => {
        assert.match((await violations(tenantNamespaceIsolated, tenant("t", "a", { limits: false }))).join(), /LimitRange/);
    });

    it("passes the tenants of the local stack's render", async () => {
        const doc = await renderStack("local");
        const tenants = doc.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace" && JSON.stringify(r.inputs).includes(TENANT_LABEL));
        assert.equal(tenants.length, 2, "the local stack has two tenants");
        assert.deepEqual(await violations(tenantNamespaceIsolated, doc.resources), []);
    });
});

describe("policy: cluster-role-binding-accounts (stack)", () => {
    const on = (cluster: string) => ({ provider: `urn:pulumi:s::platform::pulumi:providers:kubernetes::${cluster}` });
    const binding = (name: string, subjects: object[], cluster = "a") =>
        res("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", name, { metadata: { name }, roleRef: { kind: "ClusterRole", name: "cluster-admin" }, subjects }, on(cluster));
    const tenantNs = (ns: string, cluster: string) => res("kubernetes:core/v1:Namespace", `${cluster}-${ns}-ns`, { metadata: { name: ns, labels: { [TENANT_LABEL]: ns } } }, on(cluster));
    const account = (namespace: string, name: string) => ({ kind: "ServiceAccount", name, namespace });

    it("passes a named service account of a platform namespace, also where another cluster has a tenant of that name", async () => {
        assert.deepEqual(await violations(clusterRoleBindingAccounts, [binding("flux", [account("flux-system", "platform-reconciler")]), tenantNs("flux-system", "b")]), []);
    });

    it("fails users, groups, default accounts and tenants' accounts, one message each", async () => {
        const found = await violations(clusterRoleBindingAccounts, [
            binding("people", [{ kind: "User", name: "alice" }, { kind: "Group", name: "admins" }]),
            binding("defaults", [account("flux-system", "default")]),
            binding("tenant", [account("team-a", "gitops-reconciler")]),
            binding("empty", []),
            tenantNs("team-a", "a"),
        ]);
        assert.deepEqual(found, [
            "people: binds User alice; only service accounts may be bound cluster-wide",
            "people: binds Group admins; only service accounts may be bound cluster-wide",
            "defaults: binds the default service account of flux-system, which every pod and Flux object without an account of its own runs as",
            "tenant: binds team-a/gitops-reconciler in a tenant namespace; tenants get namespaced roles only",
            "empty: ClusterRoleBinding has no subjects",
        ]);
    });

    it("passes the staging render, which binds the platform's reconciler", async () => {
        const doc = await renderStack("staging");
        const bindings = doc.resources.filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding");
        const reconciler = [account("flux-system", "platform-reconciler")];
        assert.deepEqual(
            bindings.map((b) => [b.name, b.inputs.subjects]),
            ["stg-aws-use1", "stg-azure-weu", "stg-gcp-euw4"].map((cluster) => [`${cluster}-platform-flux-platform-reconciler`, reconciler]),
        );
        assert.deepEqual(await violations(clusterRoleBindingAccounts, doc.resources), []);
    });
});

describe("policy: enforcement per stack", () => {
    it("is mandatory in production, advisory in staging and local, mandatory for a stack it does not know", () => {
        assert.equal(enforcementFor("production"), "mandatory");
        assert.equal(enforcementFor("acme/platform/production"), "mandatory");
        assert.equal(enforcementFor("staging"), "advisory");
        assert.equal(enforcementFor("local"), "advisory");
        assert.equal(enforcementFor("dr-drill"), "mandatory");
        assert.equal(enforcementFor(""), "mandatory");
    });

    it("the offline runner reports a violation at the level of the render's stack", async () => {
        const release = { type: "kubernetes:helm.sh/v3:Release", name: "x", urn: "urn:x", parent: "", provider: "", dependencies: [], inputs: { chart: "c", version: "^1" } };
        const doc = (stack: string) => ({ stack, resources: [{ ...release, protect: false, retainOnDelete: false, custom: true, deleteBeforeReplace: false, ignoreChanges: [] }] });
        const [prod] = await checkRender(doc("production"), [chartVersionExact]);
        assert.deepEqual([prod.policy, prod.level, prod.urn], ["helm-chart-version-exact", "mandatory", "urn:x"]);
        const [staging] = await checkRender(doc("staging"), [chartVersionExact]);
        assert.equal(staging.level, "advisory");
    });
});
