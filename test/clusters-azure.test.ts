/**
 * AksCluster's security properties, read from the inputs it registers (render of the real
 * stack files), and its adapters called with one grant of each kind.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { validateSettings } from "../components/config";
import { RenderDocument } from "../scripts/render-program";
import { buildCluster, clusterConfigs, one, typed } from "./clusters-fixtures";
import { loadStackSettings, renderStack, valueOf } from "./mocks";

const CLUSTER = "azure-native:containerservice:ManagedCluster";
const POOL = "azure-native:containerservice:AgentPool";
const ASSIGNMENT = "azure-native:authorization:RoleAssignment";
const SUBSCRIPTION = "00000000-0000-0000-0000-000000000001";
const role = (guid: string, subscription = SUBSCRIPTION) => `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
/** A scope is too broad when it is a subscription or a whole resource group. */
const BROAD_SCOPE = /^\/subscriptions\/[^/]+(\/resourceGroups\/[^/]+)?\/?$/i;

describe("AksCluster (production render)", () => {
    let doc: RenderDocument;
    let inputs: Record<string, any>;
    const [config] = clusterConfigs("production", "azure");
    before(async () => {
        doc = await renderStack("production");
        inputs = one(doc, CLUSTER).inputs;
    });

    it("private cluster: no public API server (which joins the VNet: clusters-hardening.test.ts)", () => {
        assert.equal(inputs.apiServerAccessProfile.enablePrivateCluster, true);
        assert.equal(inputs.apiServerAccessProfile.authorizedIPRanges, undefined);
    });

    it("etcd encrypted with a Key Vault key that rotates, reachable by the control plane identity only", () => {
        const key = one(doc, "azure-native:keyvault:Key", `${config.name}-kms-key`);
        const kms = inputs.securityProfile.azureKeyVaultKms;
        assert.equal(kms.enabled, true);
        assert.match(kms.keyId, /^https:\/\/kv-[0-9a-f]{20}\.vault\.azure\.net\/keys\/etcd\/.+/);
        const rotation = (key.inputs.properties as any).rotationPolicy;
        assert.ok(rotation.lifetimeActions.some((a: any) => a.action.type === "rotate" && /^P\d+D$/.test(a.trigger.timeAfterCreate)));
        const vault = one(doc, "azure-native:keyvault:Vault", `${config.name}-kms`);
        assert.equal((vault.inputs.properties as any).enablePurgeProtection, true);
        const access = typed(doc, ASSIGNMENT).find((a) => String(a.inputs.scope).endsWith("/keys/etcd"))!;
        assert.equal(access.inputs.roleDefinitionId, role("12338af0-0e69-4776-bea7-57ae8d297424", "00000000-0000-0000-0000-000000000002"));
        assert.match(String(access.inputs.principalId), /control-plane\.principalId/);
    });

    it("Entra ID only: local accounts off, Azure RBAC, the configured admin groups, auto-upgrade channel", () => {
        assert.equal(inputs.disableLocalAccounts, true);
        assert.equal(inputs.aadProfile.managed, true);
        assert.equal(inputs.aadProfile.enableAzureRBAC, true);
        assert.deepEqual(inputs.aadProfile.adminGroupObjectIDs, config.cloud === "azure" ? config.adminGroupObjectIds : []);
        assert.ok(["patch", "stable", "rapid", "node-image"].includes(inputs.autoUpgradeProfile.upgradeChannel));
    });

    it("Azure CNI overlay with Cilium enforcing NetworkPolicy", () => {
        const net = inputs.networkProfile;
        assert.deepEqual([net.networkPlugin, net.networkPluginMode, net.networkDataplane, net.networkPolicy], ["azure", "overlay", "cilium", "cilium"]);
    });

    it("OIDC issuer and workload identity on", () => {
        assert.deepEqual(inputs.oidcIssuerProfile, { enabled: true });
        assert.deepEqual(inputs.securityProfile.workloadIdentity, { enabled: true });
    });

    it("control-plane logs (audit included) go to Log Analytics", () => {
        const setting = one(doc, "azure-native:monitor:DiagnosticSetting", `${config.name}-control-plane-logs`);
        const categories = (setting.inputs.logs as { category: string; enabled: boolean }[]).filter((l) => l.enabled).map((l) => l.category);
        for (const c of ["kube-apiserver", "kube-audit-admin", "kube-controller-manager", "kube-scheduler"]) assert.ok(categories.includes(c), c);
        assert.match(String(setting.inputs.resourceUri), /managedClusters\/prod-azure-weu$/);
    });

    it("the system pool is inline, mode System, tainted CriticalAddonsOnly; three nodes", () => {
        const [system] = inputs.agentPoolProfiles;
        assert.equal(system.mode, "System");
        assert.equal(system.name, "system");
        assert.ok(system.nodeTaints.includes("CriticalAddonsOnly=true:NoSchedule"));
        assert.equal(system.minCount, 3);
        assert.deepEqual(one(doc, CLUSTER).ignoreChanges, ["agentPoolProfiles[0].count"]);
    });

    it("user pools are agent pools: spot priority, taints, labels, autoscaling bounds, surge upgrades", () => {
        for (const pool of config.nodePools.filter((p) => p.role === "user")) {
            const r = one(doc, POOL, `${config.name}-${pool.name}`);
            assert.equal(r.inputs.mode, "User");
            assert.equal(r.inputs.vmSize, pool.instanceType);
            assert.equal(r.inputs.scaleSetPriority, pool.spot ? "Spot" : "Regular");
            assert.deepEqual([r.inputs.enableAutoScaling, r.inputs.minCount, r.inputs.maxCount], [true, pool.minSize, pool.maxSize]);
            for (const t of pool.taints) assert.ok((r.inputs.nodeTaints as string[]).includes(`${t.key}=${t.value}:${t.effect}`));
            for (const [k, v] of Object.entries(pool.labels)) assert.equal((r.inputs.nodeLabels as Record<string, string>)[k], v);
            if (!pool.spot) assert.deepEqual(r.inputs.upgradeSettings, { maxSurge: "33%" });
            assert.deepEqual(r.ignoreChanges, ["count"]);
        }
    });

    it("no role assignment is subscription- or resource-group-wide", () => {
        const assignments = typed(doc, ASSIGNMENT);
        assert.ok(assignments.length >= 4);
        for (const a of assignments) assert.doesNotMatch(String(a.inputs.scope), BROAD_SCOPE, a.name);
    });

    it("backup storage: its own retained resource group, no anonymous or shared-key access, versioned, private container", () => {
        const account = one(doc, "azure-native:storage:StorageAccount");
        assert.equal(account.inputs.resourceGroupName, `rg-${config.name}-data`);
        assert.deepEqual([account.inputs.allowBlobPublicAccess, account.inputs.allowSharedKeyAccess, account.inputs.enableHttpsTrafficOnly], [false, false, true]);
        assert.equal((account.inputs.encryption as any).services.blob.enabled, true);
        assert.equal(one(doc, "azure-native:storage:BlobServiceProperties").inputs.isVersioningEnabled, true);
        assert.equal(one(doc, "azure-native:storage:BlobContainer").inputs.publicAccess, "None");
        const group = one(doc, "azure-native:resources:ResourceGroup", `${config.name}-data`);
        assert.deepEqual([group.protect, group.retainOnDelete], [true, true]);
    });
});

describe("AksCluster (staging render)", () => {
    it("public API server only from the configured networks", async () => {
        const doc = await renderStack("staging");
        assert.deepEqual(one(doc, CLUSTER).inputs.apiServerAccessProfile, { enablePrivateCluster: false, authorizedIPRanges: ["203.0.113.0/24"] });
    });
});

describe("AksCluster adapters", () => {
    const zone = `/subscriptions/${SUBSCRIPTION}/resourceGroups/dns/providers/Microsoft.Network/dnszones/azure.staging.example.com`;
    const build = () =>
        buildCluster("staging", "azure", (cluster) => {
            const storage = cluster.backupStorage();
            const dns = cluster.workloadIdentity("cert-manager", "cert-manager", { kind: "dnsZone", zone });
            return {
                storage,
                dns,
                solver: cluster.dns01Solver(zone, dns),
                velero: cluster.workloadIdentity("velero", "velero", { kind: "backupStorage", access: "readWrite", storage }),
                teamA: cluster.workloadIdentity("team-a", "tenant-secrets", { kind: "secretsRead", prefix: "tenants/team-a/" }),
                teamB: cluster.workloadIdentity("team-b", "tenant-secrets", { kind: "secretsRead", prefix: "tenants/team-b/" }),
                store: cluster.secretStoreProvider({ name: "tenant-secrets", namespace: "team-a" }, "tenants/team-a/"),
            };
        });

    it("each grant is one role on one resource: the blob container, the DNS zone, the prefix's own Key Vault", async () => {
        const { doc } = await build();
        const scope = (name: string) => one(doc, ASSIGNMENT, name).inputs;
        const backup = scope("stg-azure-weu-velero-velero-backupStorage-ebc10b");
        assert.equal(backup.roleDefinitionId, role("ba92f5b4-2d11-453d-a403-e96b0029c9fe"));
        assert.match(String(backup.scope), /\/storageAccounts\/stvelero[0-9a-f]{12}\/blobServices\/default\/containers\/velero-stg-azure-weu-[0-9a-f]{8}$/);
        assert.deepEqual([scope("stg-azure-weu-cert-manager-cert-manager-dnsZone-718d78").scope, scope("stg-azure-weu-cert-manager-cert-manager-dnsZone-718d78").roleDefinitionId], [zone, role("befefa01-2a29-4197-83a8-272ff33ce314")]);
        const a = String(scope("stg-azure-weu-team-a-tenant-secrets-secretsRead-2be5c5").scope);
        const b = String(scope("stg-azure-weu-team-b-tenant-secrets-secretsRead-09a262").scope);
        assert.match(a, /\/providers\/Microsoft\.KeyVault\/vaults\/kv-[0-9a-f]{20}$/);
        assert.notEqual(a, b, "two prefixes share a vault: each tenant could read the other's secrets");
    });

    it("identity federated for exactly one service account, with the annotations, pod label and client id workloads need", async () => {
        const { doc, used } = await build();
        const federation = one(doc, "azure-native:managedidentity:FederatedIdentityCredential", "stg-azure-weu-velero-velero-federation");
        assert.equal(federation.inputs.subject, "system:serviceaccount:velero:velero");
        assert.deepEqual(federation.inputs.audiences, ["api://AzureADTokenExchange"]);
        assert.match(String(federation.inputs.issuer), /^https:\/\/westeurope\.oic\.prod-aks\.azure\.com\//);
        assert.deepEqual(used.velero.podLabels, { "azure.workload.identity/use": "true" });
        const annotations = await valueOf(pulumi.output(used.velero.serviceAccountAnnotations));
        assert.equal(annotations["azure.workload.identity/client-id"], "<computed stg-azure-weu-velero-velero-identity.clientId>");
        assert.equal(await valueOf(used.velero.clientId!), annotations["azure.workload.identity/client-id"]);
    });

    it("DNS-01 through azureDNS with the identity's client id; secret store through the prefix's vault", async () => {
        const { used } = await build();
        const solver = (await valueOf(pulumi.output(used.solver!))) as any;
        assert.deepEqual(solver.dns01.azureDNS, {
            subscriptionID: SUBSCRIPTION,
            resourceGroupName: "dns",
            hostedZoneName: "azure.staging.example.com",
            environment: "AzurePublicCloud",
            managedIdentity: { clientID: "<computed stg-azure-weu-cert-manager-cert-manager-identity.clientId>" },
        });
        const store = (await valueOf(pulumi.output(used.store))) as any;
        assert.equal(store.azurekv.authType, "WorkloadIdentity");
        assert.match(store.azurekv.vaultUrl, /^https:\/\/kv-[0-9a-f]{20}\.vault\.azure\.net\/$/);
    });

    it("kubeconfig: secret, kubelogin with the Azure CLI login (no device code in CI)", async () => {
        const { cluster } = await build();
        assert.ok(await pulumi.isSecret(cluster.kubeconfig));
        const exec = JSON.parse(await valueOf(cluster.kubeconfig)).users[0].user.exec;
        assert.equal(exec.command, "kubelogin");
        assert.deepEqual(exec.args.slice(0, 3), ["get-token", "--login", "azurecli"]);
    });

    it("config: the DNS zone must be a resource ID and at least one admin group is required", () => {
        const settings = structuredClone(loadStackSettings("staging")) as any;
        settings.clusters[1].dns.zone = "azure.staging.example.com";
        settings.clusters[1].adminGroupObjectIds = [];
        const problems = validateSettings(settings).problems;
        assert.ok(problems.some((p) => p.startsWith("clusters[1].dns.zone: ") && /resource ID/.test(p)), problems.join("\n"));
        assert.ok(problems.some((p) => p.startsWith("clusters[1].adminGroupObjectIds: ")), problems.join("\n"));
    });
});
