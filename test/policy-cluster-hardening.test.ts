/**
 * gke-intranode-visibility and aks-encryption-at-host (policy/policies/cluster-hardening.ts),
 * each passing a good example and failing a bad one; the renders pass them (policy-render.test.ts).
 */
import { strict as assert } from "assert";
import { ResourceInput, runPolicy } from "../policy/offline";
import { aksEncryptionAtHost, gkeIntranodeVisibility } from "../policy/policies/cluster-hardening";

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
