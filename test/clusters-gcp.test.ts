/**
 * GkeCluster's security properties, read from the inputs it registers (render of the real
 * stack files), and its adapters called with one grant of each kind.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { secretIdPrefix } from "../components/clusters/gcp-identity";
import { validateSettings } from "../components/config";
import { RenderDocument } from "../scripts/render-program";
import { buildCluster, clusterConfigs, one, typed } from "./clusters-fixtures";
import { loadStackSettings, renderStack, valueOf } from "./mocks";

const CLUSTER = "gcp:container/cluster:Cluster";
const POOL = "gcp:container/nodePool:NodePool";
const PROJECT_IAM = "gcp:projects/iAMMember:IAMMember";

describe("GkeCluster (production render)", () => {
    let doc: RenderDocument;
    let inputs: Record<string, any>;
    const [config] = clusterConfigs("production", "gcp");
    before(async () => {
        doc = await renderStack("production");
        inputs = one(doc, CLUSTER).inputs;
    });

    it("private nodes and private endpoint; no access from Google Cloud's public ranges", () => {
        assert.deepEqual(inputs.privateClusterConfig, { enablePrivateEndpoint: true, enablePrivateNodes: true, masterIpv4CidrBlock: "172.16.0.0/28" });
        assert.equal(inputs.masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled, false);
        assert.deepEqual(inputs.masterAuth, { clientCertificateConfig: { issueClientCertificate: false } });
    });

    it("application-layer secrets encryption with a rotating Cloud KMS key that only GKE's service agent may use", () => {
        const key = one(doc, "gcp:kms/cryptoKey:CryptoKey", `${config.name}-secrets-key`);
        assert.deepEqual(inputs.databaseEncryption, { state: "ENCRYPTED", keyName: `projects/platform-production-01/locations/europe-west4/keyRings/${config.name}-gke/cryptoKeys/etcd-secrets` });
        const seconds = Number(String(key.inputs.rotationPeriod).replace(/s$/, ""));
        assert.ok(seconds > 0 && seconds <= 90 * 24 * 3600, `rotation ${key.inputs.rotationPeriod}`);
        const binding = one(doc, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", `${config.name}-secrets-key-gke`);
        assert.match(String(binding.inputs.member), /^serviceAccount:service-\d+@container-engine-robot\.iam\.gserviceaccount\.com$/);
        assert.equal(binding.inputs.cryptoKeyId, inputs.databaseEncryption.keyName);
    });

    it("control-plane logs, Dataplane V2, workload identity, shielded nodes, no legacy ABAC", () => {
        for (const c of ["APISERVER", "CONTROLLER_MANAGER", "SCHEDULER"]) assert.ok(inputs.loggingConfig.enableComponents.includes(c), c);
        assert.equal(inputs.datapathProvider, "ADVANCED_DATAPATH");
        assert.deepEqual(inputs.workloadIdentityConfig, { workloadPool: "platform-production-01.svc.id.goog" });
        assert.equal(inputs.enableShieldedNodes, true);
        assert.equal(inputs.enableLegacyAbac, false);
    });

    it("default pool removed, deletion protection on, release channel set", () => {
        assert.equal(inputs.removeDefaultNodePool, true);
        assert.equal(inputs.deletionProtection, true);
        assert.ok(["STABLE", "REGULAR"].includes(inputs.releaseChannel.channel));
    });

    it("VPC-native with secondary ranges; private nodes egress through Cloud Router and NAT", () => {
        const subnet = one(doc, "gcp:compute/subnetwork:Subnetwork");
        assert.deepEqual(subnet.inputs.secondaryIpRanges, [
            { rangeName: "pods", ipCidrRange: "10.20.0.0/14" },
            { rangeName: "services", ipCidrRange: "10.24.0.0/20" },
        ]);
        assert.deepEqual(inputs.ipAllocationPolicy, { clusterSecondaryRangeName: "pods", servicesSecondaryRangeName: "services" });
        const router = one(doc, "gcp:compute/router:Router");
        const nat = one(doc, "gcp:compute/routerNat:RouterNat");
        assert.equal(nat.inputs.router, router.inputs.name);
        assert.ok(one(doc, CLUSTER).dependencies.includes(nat.urn), "nodes would boot without egress");
    });

    it("node pools: GKE metadata server, shielded VMs, auto-repair and auto-upgrade, spot, taints, labels, autoscaling", () => {
        for (const pool of config.nodePools) {
            const r = one(doc, POOL, `${config.name}-${pool.name}`);
            const node = r.inputs.nodeConfig as any;
            assert.deepEqual(node.workloadMetadataConfig, { mode: "GKE_METADATA" });
            assert.deepEqual(node.shieldedInstanceConfig, { enableSecureBoot: true, enableIntegrityMonitoring: true });
            assert.deepEqual(r.inputs.management, { autoRepair: true, autoUpgrade: true });
            assert.equal(node.spot, pool.spot);
            assert.equal(node.machineType, pool.instanceType);
            assert.deepEqual((r.inputs.autoscaling as any).minNodeCount, pool.minSize);
            assert.deepEqual((r.inputs.autoscaling as any).maxNodeCount, pool.maxSize);
            for (const t of pool.taints) assert.ok(node.taints.some((x: any) => x.key === t.key && x.value === t.value && x.effect === "NO_SCHEDULE"));
            for (const [k, v] of Object.entries(pool.labels)) assert.equal(node.labels[k], v);
            assert.doesNotMatch(node.serviceAccount, /-compute@developer\.gserviceaccount\.com$/, "nodes run as the default compute account");
        }
    });

    it("project-level bindings of workload identities are conditional; none is unconditional", () => {
        const identities = new Set(typed(doc, "gcp:serviceaccount/account:Account").filter((a) => String(a.inputs.accountId).startsWith("wi-")).map((a) => `serviceAccount:${a.inputs.accountId}@platform-production-01.iam.gserviceaccount.com`));
        const projectWide = typed(doc, PROJECT_IAM).filter((m) => identities.has(String(m.inputs.member)));
        assert.ok(projectWide.length > 0);
        for (const m of projectWide) assert.match(String((m.inputs.condition as any)?.expression), /^resource\.name\.startsWith\("projects\/\d+\/secrets\/[a-z0-9_-]+_"\)$/, m.name);
    });

    it("backup bucket: versioned, public access prevented, uniform access, kept on delete", () => {
        // The primary; its copy in the paired region is test/backup-copy.test.ts's.
        const bucket = one(doc, "gcp:storage/bucket:Bucket", "prod-gcp-euw4-backup");
        assert.deepEqual(bucket.inputs.versioning, { enabled: true });
        assert.equal(bucket.inputs.publicAccessPrevention, "enforced");
        assert.equal(bucket.inputs.uniformBucketLevelAccess, true);
        assert.equal(bucket.inputs.forceDestroy, false);
    });
});

describe("GkeCluster (staging render)", () => {
    it("public endpoint only from the configured networks; no deletion protection", async () => {
        const doc = await renderStack("staging");
        const inputs = one(doc, CLUSTER).inputs as any;
        assert.equal(inputs.privateClusterConfig.enablePrivateEndpoint, false);
        assert.deepEqual(inputs.masterAuthorizedNetworksConfig.cidrBlocks, [{ cidrBlock: "203.0.113.0/24", displayName: "203.0.113.0/24" }]);
        assert.equal(inputs.deletionProtection, false);
    });
});

describe("GkeCluster adapters", () => {
    const build = () =>
        buildCluster("staging", "gcp", (cluster) => {
            const storage = cluster.backupStorage();
            return {
                storage,
                velero: cluster.workloadIdentity("velero", "velero", { kind: "backupStorage", access: "readWrite", storage }),
                dns: cluster.workloadIdentity("cert-manager", "cert-manager", { kind: "dnsZone", zone: "gcp-staging-example-com" }),
                secrets: cluster.workloadIdentity("team-a", "tenant-secrets", { kind: "secretsRead", prefix: "tenants/team-a/" }),
            };
        });

    it("each grant binds on one resource: the bucket, the managed zone, secrets by name prefix", async () => {
        const { doc, used } = await build();
        // Velero's grant; the Storage Transfer agent's grants on the buckets belong to the copy (backup-copy.test.ts).
        const velero = typed(doc, "gcp:storage/bucketIAMMember:BucketIAMMember").filter((r) => r.name.startsWith("stg-gcp-euw4-velero-velero-"));
        assert.equal(velero.length, 1);
        const bucket = velero[0];
        assert.deepEqual([bucket.inputs.bucket, bucket.inputs.role], [await valueOf(pulumi.output(used.storage.bucket)), "roles/storage.objectAdmin"]);
        const zone = one(doc, "gcp:dns/dnsManagedZoneIamMember:DnsManagedZoneIamMember");
        assert.deepEqual([zone.inputs.managedZone, zone.inputs.project], ["gcp-staging-example-com", "platform-staging-0001"]);
        const secrets = one(doc, PROJECT_IAM, "stg-gcp-euw4-team-a-tenant-secrets-secretsRead-2be5c5");
        assert.equal(secrets.inputs.role, "roles/secretmanager.secretAccessor");
        assert.match(String((secrets.inputs.condition as any).expression), /^resource\.name\.startsWith\("projects\/\d{12}\/secrets\/tenants_team-a_"\)$/);
    });

    it("a tenant's secret prefix is never a prefix of another tenant's", () => {
        assert.equal(secretIdPrefix("tenants/team-a/"), "tenants_team-a_");
        assert.ok(!secretIdPrefix("tenants/team-a-b/").startsWith(secretIdPrefix("tenants/team-a/")));
    });

    it("the Google service account can be used by exactly one Kubernetes service account", async () => {
        const { doc, used } = await build();
        const user = one(doc, "gcp:serviceaccount/iAMMember:IAMMember", "stg-gcp-euw4-velero-velero-wi-user");
        assert.deepEqual([user.inputs.role, user.inputs.member], ["roles/iam.workloadIdentityUser", "serviceAccount:platform-staging-0001.svc.id.goog[velero/velero]"]);
        const annotations = await valueOf(pulumi.output(used.velero.serviceAccountAnnotations));
        assert.match(String(annotations["iam.gke.io/gcp-service-account"]), /^wi-velero-velero-[0-9a-f]{8}@platform-staging-0001\.iam\.gserviceaccount\.com$/);
    });

    it("secret store, DNS-01 solver and gateway annotations for GCP; kubeconfig with gke-gcloud-auth-plugin, secret", async () => {
        const { cluster } = await build();
        const store = cluster.secretStoreProvider({ name: "sa", namespace: "ns" }, "tenants/a/") as any;
        assert.deepEqual(store.gcpsm.auth.workloadIdentity.serviceAccountRef, { name: "sa", namespace: "ns" });
        assert.deepEqual(cluster.dns01Solver("zone-1", { serviceAccountAnnotations: {}, podLabels: {}, resources: [] }), { dns01: { cloudDNS: { project: "platform-staging-0001", hostedZoneName: "zone-1" } } });
        assert.deepEqual(cluster.gatewayServiceAnnotations(), { "cloud.google.com/l4-rbs": "enabled" });
        assert.ok(await pulumi.isSecret(cluster.kubeconfig));
        assert.equal(JSON.parse(await valueOf(cluster.kubeconfig)).users[0].user.exec.command, "gke-gcloud-auth-plugin");
    });

    it("config: a public endpoint needs authorized networks, on every cloud", () => {
        const settings = structuredClone(loadStackSettings("staging")) as any;
        for (const c of settings.clusters) c.authorizedNetworks = [];
        const problems = validateSettings(settings).problems;
        for (const i of [0, 1, 2]) assert.ok(problems.some((p) => p.startsWith(`clusters[${i}].authorizedNetworks: `)), problems.join("\n"));
    });
});
