/**
 * EksCluster's security properties, read from the inputs it registers (render of the real
 * stack files), and its adapters called with one grant of each kind.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { RenderDocument } from "../scripts/render-program";
import { buildCluster, clusterConfigs, list, one, renamedSource, statements, typed } from "./clusters-fixtures";
import { renderStack, valueOf } from "./mocks";
import { RESOURCELESS_READS } from "./platform-helpers";

const CLUSTER = "aws:eks/cluster:Cluster";
const ROLE = "aws:iam/role:Role";
const ADDON = "aws:eks/addon:Addon";

describe("EksCluster (production render)", () => {
    let doc: RenderDocument;
    const [config] = clusterConfigs("production", "aws");
    before(async () => {
        doc = await renderStack("production");
    });

    it("API endpoint private only", () => {
        const vpc = one(doc, CLUSTER).inputs.vpcConfig as Record<string, unknown>;
        assert.equal(vpc.endpointPrivateAccess, true);
        assert.equal(vpc.endpointPublicAccess, false);
    });

    it("secrets encrypted with a rotating KMS key of its own", () => {
        const cluster = one(doc, CLUSTER);
        const key = one(doc, "aws:kms/key:Key", `${config.name}-secrets-key`);
        assert.equal(key.inputs.enableKeyRotation, true);
        const encryption = cluster.inputs.encryptionConfig as { provider: { keyArn: string }; resources: string[] };
        assert.deepEqual(encryption.resources, ["secrets"]);
        assert.match(encryption.provider.keyArn, /^arn:aws:kms:us-east-1:222222222222:key\//);
        assert.ok(cluster.dependencies.some((d) => d.endsWith("-cluster-kms")), "the cluster role's KMS grant exists before the cluster");
    });

    it("every control-plane log type enabled, into a log group with retention", () => {
        assert.deepEqual([...(one(doc, CLUSTER).inputs.enabledClusterLogTypes as string[])].sort(), ["api", "audit", "authenticator", "controllerManager", "scheduler"]);
        const logs = one(doc, "aws:cloudwatch/logGroup:LogGroup", `${config.name}-control-plane-logs`);
        assert.equal(logs.inputs.name, `/aws/eks/${config.name}/cluster`);
        assert.ok(Number(logs.inputs.retentionInDays) > 0);
    });

    it("NAT gateway per AZ, three private and three public subnets in three AZs", () => {
        assert.equal(typed(doc, "aws:ec2/natGateway:NatGateway").length, 3);
        const subnets = typed(doc, "aws:ec2/subnet:Subnet");
        assert.equal(subnets.filter((s) => s.name.includes("-private-")).length, 3);
        assert.equal(subnets.filter((s) => s.name.includes("-public-")).length, 3);
        assert.deepEqual(new Set(subnets.map((s) => s.inputs.availabilityZone)), new Set(["us-east-1a", "us-east-1b", "us-east-1c"]));
        for (const s of subnets) assert.equal(s.inputs.mapPublicIpOnLaunch ?? false, false);
    });

    it("access entries: each admin role is cluster admin, through the API only", () => {
        const cluster = one(doc, CLUSTER);
        assert.equal((cluster.inputs.accessConfig as { authenticationMode: string }).authenticationMode, "API");
        // Tenants' entries carry Kubernetes groups and no policy (tenant-access.test.ts); the admins' carry no group.
        const entries = typed(doc, "aws:eks/accessEntry:AccessEntry").filter((e) => e.inputs.kubernetesGroups === undefined).map((e) => e.inputs.principalArn);
        assert.deepEqual(entries, config.cloud === "aws" ? config.adminRoleArns : []);
        const [association] = typed(doc, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation");
        assert.equal(association.inputs.policyArn, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
        assert.deepEqual(association.inputs.accessScope, { type: "cluster" });
    });

    it("launch templates: IMDSv2 only, hop limit 1, encrypted gp3 root volume of the pool's size", () => {
        for (const pool of config.nodePools) {
            const template = one(doc, "aws:ec2/launchTemplate:LaunchTemplate", `${config.name}-${pool.name}-lt`);
            assert.deepEqual(template.inputs.metadataOptions, { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" });
            const [root] = template.inputs.blockDeviceMappings as { ebs: Record<string, unknown> }[];
            assert.equal(root.ebs.volumeType, "gp3");
            assert.equal(root.ebs.encrypted, "true");
            assert.equal(root.ebs.volumeSize, pool.diskSizeGb);
            const group = one(doc, "aws:eks/nodeGroup:NodeGroup", `${config.name}-${pool.name}`);
            assert.equal((group.inputs.launchTemplate as { id: string }).id, `<computed ${template.name}.id>`);
        }
    });

    it("node groups: capacity type, taints, labels, scaling bounds, one node at a time, autoscaler owns the size", () => {
        for (const pool of config.nodePools) {
            const group = one(doc, "aws:eks/nodeGroup:NodeGroup", `${config.name}-${pool.name}`);
            assert.equal(group.inputs.capacityType, pool.spot ? "SPOT" : "ON_DEMAND");
            assert.deepEqual(group.inputs.instanceTypes, [pool.instanceType]);
            assert.deepEqual(group.inputs.scalingConfig, { minSize: pool.minSize, maxSize: pool.maxSize, desiredSize: pool.minSize });
            assert.deepEqual(group.inputs.updateConfig, { maxUnavailable: 1 });
            assert.deepEqual(group.ignoreChanges, ["scalingConfig.desiredSize"]);
            assert.deepEqual(group.inputs.labels, { ...pool.labels, "platform.example.io/pool-role": pool.role });
            const taints = group.inputs.taints as { key: string; value?: string; effect: string }[];
            for (const t of pool.taints) assert.ok(taints.some((x) => x.key === t.key && x.value === t.value && x.effect === "NO_SCHEDULE"), `${pool.name}: ${t.key}`);
            assert.equal(taints.some((x) => x.key === "CriticalAddonsOnly"), pool.role === "system");
        }
        const batch = one(doc, "aws:eks/nodeGroup:NodeGroup", `${config.name}-batch`);
        const system = one(doc, "aws:eks/nodeGroup:NodeGroup", `${config.name}-system`);
        assert.ok(batch.dependencies.includes(system.urn), "user pools upgrade after the system pool");
    });

    it("add-ons: vpc-cni enforces NetworkPolicy; coredns, kube-proxy, EBS CSI and the snapshot controller", () => {
        const addons = typed(doc, ADDON);
        assert.deepEqual(addons.map((a) => a.inputs.addonName).sort(), ["aws-ebs-csi-driver", "coredns", "kube-proxy", "snapshot-controller", "vpc-cni"]);
        const cni = addons.find((a) => a.inputs.addonName === "vpc-cni")!;
        assert.equal(JSON.parse(String(cni.inputs.configurationValues)).enableNetworkPolicy, "true");
    });

    it("IRSA: an OIDC provider for the cluster's issuer; EBS CSI and vpc-cni have roles only their service accounts can assume", () => {
        const oidc = one(doc, "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
        assert.deepEqual(oidc.inputs.clientIdLists, ["sts.amazonaws.com"]);
        assert.match(String(oidc.inputs.url), /^https:\/\/oidc\.eks\.us-east-1\.amazonaws\.com\/id\//);
        const host = String(oidc.inputs.url).replace("https://", "");
        for (const [addonName, subject] of [["aws-ebs-csi-driver", "kube-system:ebs-csi-controller-sa"], ["vpc-cni", "kube-system:aws-node"]]) {
            const addon = typed(doc, ADDON).find((a) => a.inputs.addonName === addonName)!;
            const role = typed(doc, ROLE).find((r) => String(addon.inputs.serviceAccountRoleArn).endsWith(`:role/${r.inputs.name}`));
            assert.ok(role, `${addonName} has no role of its own`);
            const [trust] = statements(role.inputs.assumeRolePolicy);
            assert.deepEqual(trust.Principal, { Federated: `arn:aws:iam::222222222222:oidc-provider/${host}` });
            assert.deepEqual(trust.Condition, { StringEquals: { [`${host}:sub`]: `system:serviceaccount:${subject}`, [`${host}:aud`]: "sts.amazonaws.com" } });
        }
    });

    it("no inline policy of the stack allows `*` as a resource, but for reads that take no resource", () => {
        const policies = [...typed(doc, "aws:iam/rolePolicy:RolePolicy"), ...typed(doc, "aws:s3/bucketPolicy:BucketPolicy")];
        assert.ok(policies.length > 3);
        const starred: string[] = [];
        for (const p of policies) {
            for (const s of statements(p.inputs.policy)) {
                if (s.Effect !== "Allow" || !list(s.Resource).includes("*")) continue;
                starred.push(p.name);
                assert.deepEqual(list(s.Action).filter((a) => !RESOURCELESS_READS.includes(a)), [], p.name);
            }
        }
        // cluster-autoscaler's Describe calls, once.
        assert.deepEqual(starred, ["prod-aws-use1-cluster-autoscaler-cluster-autoscaler-nodeGroupScaling-03420d"]);
    });

    it("backup bucket: versioned, encrypted, public access blocked, TLS only", () => {
        // The primary; its copy in the paired region is test/backup-copy.test.ts's.
        const versioning = one(doc, "aws:s3/bucketVersioning:BucketVersioning", "prod-aws-use1-backup");
        assert.deepEqual(versioning.inputs.versioningConfiguration, { status: "Enabled" });
        const encryption = one(doc, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "prod-aws-use1-backup");
        // Production's own KMS key (backup-trail tests); staging keeps SSE-S3.
        assert.equal((encryption.inputs.rules as { applyServerSideEncryptionByDefault: { sseAlgorithm: string } }[])[0].applyServerSideEncryptionByDefault.sseAlgorithm, "aws:kms");
        const block = one(doc, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "prod-aws-use1-backup");
        for (const key of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.equal(block.inputs[key], true, key);
        const [deny] = statements(one(doc, "aws:s3/bucketPolicy:BucketPolicy", "prod-aws-use1-backup").inputs.policy);
        assert.deepEqual([deny.Effect, deny.Condition], ["Deny", { Bool: { "aws:SecureTransport": "false" } }]);
    });
});

describe("EksCluster (staging render)", () => {
    it("public endpoint only from the configured networks, and one shared NAT gateway", async () => {
        const doc = await renderStack("staging");
        const vpc = one(doc, CLUSTER).inputs.vpcConfig as Record<string, unknown>;
        assert.equal(vpc.endpointPublicAccess, true);
        assert.deepEqual(vpc.publicAccessCidrs, ["203.0.113.0/24"]);
        assert.equal(typed(doc, "aws:ec2/natGateway:NatGateway").length, 1);
    });
});

describe("EksCluster adapters", () => {
    const build = () =>
        buildCluster("staging", "aws", (cluster) => {
            const storage = cluster.backupStorage();
            return {
                storage,
                velero: cluster.workloadIdentity("velero", "velero", { kind: "backupStorage", access: "readWrite", storage }),
                dns: cluster.workloadIdentity("cert-manager", "cert-manager", { kind: "dnsZone", zone: "Z0000000000STAGINGAWS" }),
                secrets: cluster.workloadIdentity("team-a", "tenant-secrets", { kind: "secretsRead", prefix: "tenants/team-a/" }),
                again: cluster.workloadIdentity("velero", "velero", { kind: "backupStorage", access: "readOnly", storage: cluster.backupStorage(renamedSource("staging", "aws", "stg-aws-old")) }),
            };
        });

    it("each grant names exactly one resource: the bucket, the hosted zone, the secret name prefix", async () => {
        const { doc, used } = await build();
        const bucket = await valueOf(pulumi.output(used.storage.bucket));
        const policy = (name: string) => statements(one(doc, "aws:iam/rolePolicy:RolePolicy", name).inputs.policy);
        assert.deepEqual(policy("stg-aws-use1-velero-velero-backupStorage-dc3328").flatMap((s) => list(s.Resource)), [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`]);
        assert.deepEqual(policy("stg-aws-use1-cert-manager-cert-manager-dnsZone-4351bc")[0].Resource, ["arn:aws:route53:::hostedzone/Z0000000000STAGINGAWS"]);
        assert.deepEqual(policy("stg-aws-use1-team-a-tenant-secrets-secretsRead-2be5c5").flatMap((s) => list(s.Resource)), ["arn:aws:secretsmanager:us-east-1:111111111111:secret:tenants/team-a/*"]);
    });

    it("one role per service account, assumable by that service account alone; a second grant adds a policy to it", async () => {
        const { doc, used } = await build();
        const role = one(doc, ROLE, "stg-aws-use1-velero-velero-irsa");
        const [trust] = statements(role.inputs.assumeRolePolicy);
        assert.ok(Object.values(trust.Condition!.StringEquals).includes("system:serviceaccount:velero:velero"));
        assert.equal(await valueOf(pulumi.output(used.velero.serviceAccountAnnotations)).then((a) => a["eks.amazonaws.com/role-arn"]), `arn:aws:iam::111111111111:role/${role.inputs.name}`);
        const readOnly = statements(one(doc, "aws:iam/rolePolicy:RolePolicy", "stg-aws-use1-velero-velero-backupStorage-396132").inputs.policy);
        // Read-only for backups; the one write is the restore's own log and results (Velero puts them under restores/).
        const old = "arn:aws:s3:::velero-stg-aws-old-82cad5f3";
        assert.deepEqual(
            readOnly.map((s) => [list(s.Action), list(s.Resource)]),
            [
                [["s3:ListBucket", "s3:GetBucketLocation"], [old]],
                [["s3:GetObject"], [`${old}/*`]],
                [["s3:PutObject"], [`${old}/restores/*`]],
            ],
        );
        assert.equal(used.again.resources.length, 3);
    });

    it("secret store, DNS-01 solver and gateway annotations for AWS", async () => {
        const { cluster } = await build();
        assert.deepEqual(cluster.secretStoreProvider({ name: "sa", namespace: "ns" }, "tenants/a/"), {
            aws: { service: "SecretsManager", region: "us-east-1", auth: { jwt: { serviceAccountRef: { name: "sa", namespace: "ns" } } } },
        });
        assert.deepEqual(cluster.dns01Solver("Z1", { serviceAccountAnnotations: {}, podLabels: {}, resources: [] }), { dns01: { route53: { region: "us-east-1", hostedZoneID: "Z1" } } });
        assert.equal(cluster.gatewayServiceAnnotations()["service.beta.kubernetes.io/aws-load-balancer-type"], "nlb");
    });

    it("kubeconfig: secret, authenticating with `aws eks get-token` as the deployer role", async () => {
        const { cluster } = await build();
        assert.ok(await pulumi.isSecret(cluster.kubeconfig));
        const user = JSON.parse(await valueOf(cluster.kubeconfig)).users[0].user.exec;
        assert.equal(user.command, "aws");
        assert.deepEqual(user.args.slice(0, 6), ["eks", "get-token", "--cluster-name", "stg-aws-use1", "--region", "us-east-1"]);
        assert.ok(user.args.includes("arn:aws:iam::111111111111:role/platform-deployer"));
    });
});
