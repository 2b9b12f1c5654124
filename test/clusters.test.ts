/**
 * What the three cloud clusters promise alike, checked on the renders of the real stack files:
 * their own cloud and Kubernetes providers, every configured pool, protection of what must not
 * be lost, backup storage that survives a rebuild, and node-pool replacement without downtime.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { BaseCluster } from "../components/clusters/base";
import { backupBucketName, poolPhysicalName, subnetCidr } from "../components/clusters/shared";
import { ClusterConfig, NodePoolConfig, validateSettings } from "../components/config";
import { readStackConfig, RenderDocument, renderProgram, serialize } from "../scripts/render-program";
import { buildCluster, byUrn, CloudName, clusterConfigs, renamedSource, typed } from "./clusters-fixtures";
import { editedStackFile, loadStackSettings, record, renderStack, stackConfig, valueOf } from "./mocks";

const CLOUDS: Record<CloudName, { component: string; provider: string; cluster: string; pool: string; poolName: string }> = {
    aws: { component: "platform:clusters:EksCluster", provider: "pulumi:providers:aws", cluster: "aws:eks/cluster:Cluster", pool: "aws:eks/nodeGroup:NodeGroup", poolName: "nodeGroupName" },
    azure: { component: "platform:clusters:AksCluster", provider: "pulumi:providers:azure-native", cluster: "azure-native:containerservice:ManagedCluster", pool: "azure-native:containerservice:AgentPool", poolName: "agentPoolName" },
    gcp: { component: "platform:clusters:GkeCluster", provider: "pulumi:providers:gcp", cluster: "gcp:container/cluster:Cluster", pool: "gcp:container/nodePool:NodePool", poolName: "name" },
};
const BACKUP_TYPES = /^(aws:s3\/|azure-native:storage:|gcp:storage\/bucket:Bucket$)/;

for (const stack of ["staging", "production"]) {
    describe(`clusters: ${stack} render`, () => {
        let doc: RenderDocument;
        before(async () => {
            doc = await renderStack(stack);
        });

        it("Velero snapshots volumes through CSI on every cloud cluster: EnableCSI, no VolumeSnapshotLocation", () => {
            assert.deepEqual(typed(doc, "kubernetes:velero.io/v1:VolumeSnapshotLocation").map((r) => r.name), []);
            for (const cloud of Object.keys(CLOUDS) as CloudName[]) {
                const [config] = clusterConfigs(stack, cloud);
                const release = doc.resources.find((r) => r.name === `${config.name}-platform-velero-release`);
                assert.deepEqual((release?.inputs.values as { configuration: unknown }).configuration, { defaultBackupStorageLocation: "default", features: "EnableCSI" }, config.name);
            }
        });

        for (const cloud of Object.keys(CLOUDS) as CloudName[]) {
            const t = CLOUDS[cloud];
            const [config] = clusterConfigs(stack, cloud);

            it(`${cloud}: its own cloud provider, configured from the stack file, under every cloud resource`, () => {
                const [provider] = typed(doc, t.provider);
                const expected: Record<CloudName, Record<string, unknown>> = {
                    aws: { region: "us-east-1", assumeRoles: JSON.stringify([{ roleArn: (config as { assumeRoleArn?: string }).assumeRoleArn, sessionName: `pulumi-${config.name}` }]) },
                    azure: { subscriptionId: (config as { subscriptionId?: string }).subscriptionId, location: "westeurope" },
                    gcp: { project: (config as { project?: string }).project, region: "europe-west4" },
                };
                for (const [key, value] of Object.entries(expected[cloud])) assert.equal(provider.inputs[key], value, key);
                const prefix = cloud === "azure" ? "azure-native:" : `${cloud}:`;
                const cloudResources = doc.resources.filter((r) => r.type.startsWith(prefix));
                assert.ok(cloudResources.length > 10);
                for (const r of cloudResources) assert.equal(r.provider, provider.urn, `${r.name} does not use ${config.name}'s provider`);
            });

            it(`${cloud}: a Kubernetes provider from a secret kubeconfig that waits for every node pool`, () => {
                const provider = doc.resources.find((r) => r.type === "pulumi:providers:kubernetes" && r.name === `${config.name}-provider`);
                assert.ok(provider, `no Kubernetes provider for ${config.name}`);
                assert.equal(provider.inputs.kubeconfig, "[secret]");
                const pools = [...typed(doc, t.pool), ...(cloud === "azure" ? typed(doc, t.cluster) : [])];
                for (const pool of pools) assert.ok(provider.dependencies.includes(pool.urn), `provider does not wait for ${pool.name}`);
                // Every Kubernetes resource of the cluster's platform goes through this provider.
                const platformResources = doc.resources.filter((r) => r.type.startsWith("kubernetes:") && r.urn.includes(`::${config.name}-`) && r.custom);
                assert.ok(platformResources.length > 0);
                for (const r of platformResources) assert.equal(r.provider, provider.urn, r.name);
            });

            it(`${cloud}: every configured pool, named from the fields that force a new pool, created before the old is deleted`, () => {
                const pools = typed(doc, t.pool);
                const expectedPools = cloud === "azure" ? config.nodePools.slice(1) : config.nodePools; // AKS: the first system pool is inline
                assert.deepEqual(pools.map((p) => p.name).sort(), expectedPools.map((p) => `${config.name}-${p.name}`).sort());
                for (const pool of expectedPools) {
                    const r = pools.find((p) => p.name === `${config.name}-${pool.name}`)!;
                    assert.equal(r.inputs[t.poolName], poolPhysicalName(pool, cloud === "azure" ? 12 : cloud === "gcp" ? 40 : 63, cloud === "azure" ? "" : "-"));
                    assert.equal(r.deleteBeforeReplace, false);
                }
            });

            it(`${cloud}: cluster and pools protected in production only; backup storage always retained`, () => {
                const production = stack === "production";
                for (const r of [...typed(doc, t.cluster), ...typed(doc, t.pool)]) assert.equal(r.protect, production, r.name);
                const backup = doc.resources.filter((r) => BACKUP_TYPES.test(r.type) && r.name.startsWith(`${config.name}-backup`));
                assert.ok(backup.length > 0, "no backup storage");
                for (const r of backup) {
                    assert.equal(r.retainOnDelete, true, `${r.name} not retained`);
                    assert.equal(r.protect, production, `${r.name} protect`);
                }
            });

            it(`${cloud}: the backup bucket's name comes from stack and cluster name, never from the cluster resource`, () => {
                const bucket = doc.resources.find((r) => /(s3\/bucket:Bucket|storage:BlobContainer|storage\/bucket:Bucket)$/.test(r.type) && r.name === `${config.name}-backup`)!;
                const name = bucket.inputs.bucket ?? bucket.inputs.containerName ?? bucket.inputs.name;
                const scope = cloud === "aws" ? "222222222222|111111111111" : cloud === "azure" ? (config as { subscriptionId: string }).subscriptionId : (config as { project: string }).project;
                const candidates = scope.split("|").map((s) => backupBucketName(stack, config.name, s));
                assert.ok(candidates.includes(String(name)), `${name} is not derived from stack and cluster`);
                const clusterUrn = typed(doc, t.cluster)[0].urn;
                const upstream = new Set<string>();
                const visit = (urn: string) => byUrn(doc, urn).dependencies.forEach((d) => upstream.has(d) || (upstream.add(d), visit(d)));
                visit(bucket.urn);
                assert.ok(!upstream.has(clusterUrn), "the bucket waits for the cluster: a rebuild would touch it");
            });
        }
    });
}

describe("clusters: node-pool replacement without downtime", () => {
    const pool: NodePoolConfig = { name: "general", role: "user", instanceType: "m6i.xlarge", minSize: 1, maxSize: 5, spot: false, diskSizeGb: 100, taints: [], labels: {} };

    it("a new instance type, disk size or capacity type gives the pool a new physical name", () => {
        const base = poolPhysicalName(pool, 63);
        for (const change of [{ instanceType: "m6i.2xlarge" }, { diskSizeGb: 200 }, { spot: true }]) {
            assert.notEqual(poolPhysicalName({ ...pool, ...change }, 63), base, JSON.stringify(change));
        }
    });

    it("scaling, labels and taints keep the name (those update in place)", () => {
        const base = poolPhysicalName(pool, 63);
        const changes = [{ minSize: 3, maxSize: 9 }, { labels: { team: "a" } }, { taints: [{ key: "a", value: "b", effect: "NoSchedule" as const }] }];
        for (const change of changes) assert.equal(poolPhysicalName({ ...pool, ...change }, 63), base, JSON.stringify(change));
    });

    it("AKS names stay valid agent pool names (lower-case letters and digits, at most 12)", () => {
        for (const name of ["system", "general", "abcdefghijkl", "b1"]) assert.match(poolPhysicalName({ ...pool, name }, 12, ""), /^[a-z][a-z0-9]{0,11}$/);
    });

    it("changing a pool's instance type keeps its logical name and changes only its physical name, on every cloud", async () => {
        const before = await renderStack("production");
        const file = editedStackFile("production", (s) => {
            for (const cluster of s.clusters as { nodePools: { name: string; instanceType: string }[] }[]) cluster.nodePools.find((p) => p.name === "general")!.instanceType += "x";
        });
        const after = await renderProgram("production", readStackConfig(file));
        for (const cloud of Object.keys(CLOUDS) as CloudName[]) {
            const t = CLOUDS[cloud];
            const old = typed(before, t.pool).find((p) => p.name.endsWith("-general"))!;
            const replacement = typed(after, t.pool).find((p) => p.urn === old.urn);
            assert.ok(replacement, `${cloud}: the pool's logical name changed`);
            assert.notEqual(replacement.inputs[t.poolName], old.inputs[t.poolName], `${cloud}: same physical name, so no create-before-delete`);
            assert.equal(replacement.deleteBeforeReplace, false);
        }
    });
});

describe("clusters: determinism and helpers", () => {
    it("two renders of production are byte-identical", async () => {
        const config = readStackConfig(`${__dirname}/../../Pulumi.production.yaml`);
        const first = serialize(await renderProgram("production", config));
        const second = serialize(await renderProgram("production", config));
        assert.equal(first, second);
    });

    it("a cluster class that reads kubeconfig or provider before complete() gets an error naming the cluster", async () => {
        type Existing = Extract<ClusterConfig, { cloud: "existing" }>;
        const config = validateSettings(loadStackSettings("local")).settings!.clusters.find((c): c is Existing => c.cloud === "existing")!;
        class Unfinished extends BaseCluster<"existing", { config: typeof config; environment: "local" }> {
            readonly seen: string[] = [];
            constructor() {
                super("platform:clusters:Unfinished", "unfinished", { config, environment: "local" }, { privateRanges: [], provisionsLoadBalancers: false });
                for (const read of [() => this.kubeconfig, () => this.provider]) {
                    try {
                        read();
                    } catch (err) {
                        this.seen.push(String(err));
                    }
                }
            }
            protected createIdentity(): never {
                throw new Error("unused");
            }
            protected createBackupStorage(): never {
                throw new Error("unused");
            }
            secretStoreProvider = () => ({});
            dns01Solver = () => undefined;
            gatewayServiceAnnotations = () => ({});
            tenantAccess = () => ({ groups: [], resources: [] });
            gatewayRecords = () => [];
        }
        let cluster: Unfinished | undefined;
        await record("unit", stackConfig({}), () => {
            cluster = new Unfinished();
        });
        assert.deepEqual(cluster!.seen, [0, 1].map(() => "Error: cluster local-kind: read before its constructor called complete()"));
    });

    it("subnet arithmetic carves blocks inside the range and refuses blocks outside it", () => {
        assert.equal(subnetCidr("10.0.0.0/16", 19, 1), "10.0.32.0/19");
        assert.equal(subnetCidr("10.0.0.0/16", 22, 26), "10.0.104.0/22");
        assert.equal(subnetCidr("10.1.0.0/16", 17, 0), "10.1.0.0/17");
        assert.throws(() => subnetCidr("10.0.0.0/16", 19, 8), /no block 8/);
    });

    // The resources behind each cloud's own backup storage, by type.
    // `resources`: the storage's own, plus (staging copies by default) the copy's: AWS replica bucket with its six
    // settings, role, policy, replication; GCP copy bucket, three transfer-agent grants, the transfer job.
    const STORAGE: Record<CloudName, { cluster: string; scope: string; types: string[]; resources: number }> = {
        aws: {
            cluster: "stg-aws-use1",
            scope: "111111111111",
            types: ["Bucket", "BucketLifecycleConfiguration", "BucketLogging", "BucketOwnershipControls", "BucketPolicy", "BucketPublicAccessBlock", "BucketServerSideEncryptionConfiguration", "BucketVersioning"],
            // Primary and copy: 7 settings each, and each its log bucket (7) and logging; replication role, policy, rule.
            resources: 2 * (7 + 7 + 1) + 3,
        },
        azure: { cluster: "stg-azure-weu", scope: "00000000-0000-0000-0000-000000000001", types: ["BlobContainer", "BlobServiceProperties", "ResourceGroup", "StorageAccount"], resources: 4 + 2 },
        // Each of the two buckets with its log bucket and that bucket's writer grant; the transfer agent's three grants and job.
        gcp: { cluster: "stg-gcp-euw4", scope: "platform-staging-0001", types: ["Bucket"], resources: 2 * 3 + 4 },
    };

    for (const cloud of Object.keys(STORAGE) as CloudName[]) {
        it(`${cloud}: backupStorage() creates the storage once and attaches another cluster's without creating it`, async () => {
            const t = STORAGE[cloud];
            const { doc, used } = await buildCluster("staging", cloud, (cluster) => [cluster.backupStorage(), cluster.backupStorage(), cluster.backupStorage(renamedSource("staging", cloud, `${t.cluster}-old`))]);
            const [first, again, other] = used;
            assert.equal(first, again);
            const storageTypes = doc.resources.filter((r) => r.name === `${t.cluster}-backup` || r.name === `${t.cluster}-data`).map((r) => r.type.split(":").pop());
            assert.deepEqual(storageTypes.sort(), t.types);
            assert.deepEqual([first.resources.length, other.resources.length], [t.resources, 0]);
            assert.deepEqual([first.cluster, other.cluster], [t.cluster, `${t.cluster}-old`]);
            assert.equal(await valueOf(pulumi.output(other.bucket)), backupBucketName("staging", `${t.cluster}-old`, t.scope));
        });

        it(`${cloud}: volumes are snapshotted through CSI, never a VolumeSnapshotLocation (no snapshotConfig, own or attached)`, async () => {
            const { used } = await buildCluster("staging", cloud, (cluster) => [cluster.backupStorage(), cluster.backupStorage(renamedSource("staging", cloud, "other"))]);
            for (const storage of used) {
                assert.deepEqual(Object.keys(storage).sort(), ["bucket", "cluster", "config", "copy", "csiSnapshots", "pluginImage", "provider", "resources"]);
                assert.equal(storage.csiSnapshots, true);
            }
        });
    }
});
