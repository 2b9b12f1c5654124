/**
 * gke-intranode-visibility and aks-encryption-at-host (policy/policies/cluster-hardening.ts),
 * each passing a good example and failing a bad one; the renders pass them (policy-render.test.ts).
 */
import { strict as assert } from "assert";
import { ResourceInput, runPolicy } from "../policy/offline";
import { aksEncryptionAtHost, azureDataPrivate, gkeIntranodeVisibility } from "../policy/policies/cluster-hardening";

const res = (type: string, inputs: Record<string, unknown>, name = "r"): ResourceInput => ({ type, name, urn: `urn:pulumi:s::platform::${type}::${name}`, inputs });
const messages = async (policy: Parameters<typeof runPolicy>[0], r: ResourceInput) => (await runPolicy(policy, [r], {})).map((v) => v.message);

describe("policy: gke-intranode-visibility", () => {
    const GKE = "gcp:container/cluster:Cluster";
    it("passes a cluster with intranode visibility; fails one without or with it off", async () => {
        assert.deepEqual(await messages(gkeIntranodeVisibility, res(GKE, { enableIntranodeVisibility: true })), []);
        const off = ["r: pod-to-pod traffic on a node bypasses VPC flow logs and firewall rules; set enableIntranodeVisibility: true"];
        assert.deepEqual(await messages(gkeIntranodeVisibility, res(GKE, {})), off);
        assert.deepEqual(await messages(gkeIntranodeVisibility, res(GKE, { enableIntranodeVisibility: false })), off);
    });
});

describe("policy: aks-encryption-at-host", () => {
    it("passes pools that encrypt at host; names each inline pool and agent pool that does not", async () => {
        const cluster = "azure-native:containerservice:ManagedCluster";
        const pool = "azure-native:containerservice:AgentPool";
        assert.deepEqual(await messages(aksEncryptionAtHost, res(cluster, { agentPoolProfiles: [{ name: "system", enableEncryptionAtHost: true }] })), []);
        assert.deepEqual(await messages(aksEncryptionAtHost, res(pool, { enableEncryptionAtHost: true })), []);
        assert.deepEqual(await messages(aksEncryptionAtHost, res(cluster, { agentPoolProfiles: [{ name: "system", enableEncryptionAtHost: true }, { name: "extra" }] })), [
            "r agent pool extra: temporary disks and disk caches are not encrypted on the host; set enableEncryptionAtHost: true",
        ]);
        assert.deepEqual(await messages(aksEncryptionAtHost, res(pool, { enableEncryptionAtHost: false }, "batch")), [
            "batch (AKS agent pool): temporary disks and disk caches are not encrypted on the host; set enableEncryptionAtHost: true",
        ]);
    });
});

describe("policy: azure-data-private", () => {
    const VAULT = "azure-native:keyvault:Vault";
    const ACCOUNT = "azure-native:storage:StorageAccount";
    const AKS = "azure-native:containerservice:ManagedCluster";
    it("passes disabled public access, a default-deny firewall without public IPs, and a private KMS vault", async () => {
        assert.deepEqual(await messages(azureDataPrivate, res(VAULT, { properties: { publicNetworkAccess: "Disabled" } })), []);
        assert.deepEqual(await messages(azureDataPrivate, res(VAULT, { properties: { networkAcls: { defaultAction: "Deny", virtualNetworkRules: [{ id: "subnet" }] } } })), []);
        assert.deepEqual(await messages(azureDataPrivate, res(ACCOUNT, { publicNetworkAccess: "Disabled" })), []);
        assert.deepEqual(await messages(azureDataPrivate, res(AKS, { securityProfile: { azureKeyVaultKms: { enabled: true, keyVaultNetworkAccess: "Private" } } })), []);
    });

    it("fails a vault or an account open to the internet or to public IPs, and a public KMS vault", async () => {
        assert.deepEqual(await messages(azureDataPrivate, res(VAULT, { properties: {} }, "kv")), [
            "kv (Key Vault): reachable from the internet; set publicNetworkAccess: Disabled (private endpoints) or networkAcls.defaultAction: Deny with only the cluster's subnets",
        ]);
        assert.deepEqual(await messages(azureDataPrivate, res(ACCOUNT, { publicNetworkAccess: "Enabled", networkRuleSet: { defaultAction: "Allow" } }, "st")), [
            "st (storage account): reachable from the internet; set publicNetworkAccess: Disabled (private endpoints) or networkRuleSet.defaultAction: Deny with only the cluster's subnets",
        ]);
        assert.deepEqual(await messages(azureDataPrivate, res(ACCOUNT, { networkRuleSet: { defaultAction: "Deny", ipRules: [{ value: "203.0.113.0/24" }] } }, "st")), [
            "st (storage account): networkRuleSet.ipRules let public addresses in; allow the cluster's subnets only",
        ]);
        assert.deepEqual(await messages(azureDataPrivate, res(AKS, { securityProfile: { azureKeyVaultKms: { enabled: true, keyVaultNetworkAccess: "Public" } } }, "aks")), [
            "aks: the KMS plugin reaches its key vault over the internet; set keyVaultNetworkAccess: Private with keyVaultResourceId (needs API Server VNet Integration)",
        ]);
    });
});
