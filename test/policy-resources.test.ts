/**
 * Each resource policy of the pack passes a good resource and fails a bad one. Policies are
 * called through policy/offline.ts's adapter, which builds the args the engine would pass
 * and collects `reportViolation` calls. The examples are hand-built, not rendered.
 */
import { strict as assert } from "assert";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { backupBucketSettings, veleroSnapshotsThroughCsi } from "../policy/policies/backups";
import { chartVersionExact } from "../policy/policies/charts";
import { clusterPrivateAndEncrypted } from "../policy/policies/clusters";
import { identityGrantScoped, isBroadAzureScope, isWildcardResource } from "../policy/policies/identity";
import { eksNodeImdsv2, nodeNoPublicIp, nodePoolBoundedAutoscaling } from "../policy/policies/nodes";
import { ResourceInput, runPolicy } from "../policy/offline";

type Props = Record<string, unknown>;
const res = (type: string, inputs: Props, opts: Partial<ResourceInput> = {}): ResourceInput => ({ type, name: "r", inputs, ...opts });

async function messages(policy: ResourceValidationPolicy, resource: ResourceInput, config: object = {}): Promise<string[]> {
    return (await runPolicy(policy, [resource], config)).map((v) => v.message);
}
async function passes(policy: ResourceValidationPolicy, resource: ResourceInput, config?: object) {
    assert.deepEqual(await messages(policy, resource, config), [], `${resource.type} should pass ${policy.name}`);
}
async function fails(policy: ResourceValidationPolicy, resource: ResourceInput, pattern: RegExp, config?: object) {
    const found = await messages(policy, resource, config);
    assert.ok(found.length > 0, `${resource.type} should fail ${policy.name}`);
    assert.ok(found.some((m) => pattern.test(m)), `expected ${pattern} among: ${found.join(" | ")}`);
}

const RELEASE = "kubernetes:helm.sh/v3:Release";
const EKS = "aws:eks/cluster:Cluster";
const AKS = "azure-native:containerservice:ManagedCluster";
const GKE = "gcp:container/cluster:Cluster";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";

describe("policy: helm-chart-version-exact", () => {
    it("passes an exact version and fails ranges, wildcards and a missing version", async () => {
        await passes(chartVersionExact, res(RELEASE, { chart: "cert-manager", version: "v1.18.2" }));
        await passes(chartVersionExact, res(RELEASE, { chart: "kyverno", version: "3.5.1-rc.1" }));
        for (const version of ["^1.18.0", "~1.18", "1.x", ">=1.0.0", "*", "1.18"]) await fails(chartVersionExact, res(RELEASE, { chart: "c", version }), /not an exact version/);
        await fails(chartVersionExact, res(RELEASE, { chart: "c" }), /no version/);
    });
});

describe("policy: cluster-private-endpoint-encrypted", () => {
    it("EKS: private endpoint and KMS-encrypted secrets", async () => {
        const good = { vpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true }, encryptionConfig: { resources: ["secrets"], provider: { keyArn: "arn:aws:kms:us-east-1:1:key/k" } } };
        await passes(clusterPrivateAndEncrypted, res(EKS, good));
        await fails(clusterPrivateAndEncrypted, res(EKS, { ...good, vpcConfig: { endpointPrivateAccess: true } }), /endpoint is public/);
        await fails(clusterPrivateAndEncrypted, res(EKS, { vpcConfig: good.vpcConfig }), /not envelope-encrypted/);
    });

    it("AKS: private cluster and KMS, or Entra-only access", async () => {
        const aad = { disableLocalAccounts: true, aadProfile: { managed: true, enableAzureRBAC: true } };
        await passes(clusterPrivateAndEncrypted, res(AKS, { apiServerAccessProfile: { enablePrivateCluster: true }, ...aad }));
        await passes(clusterPrivateAndEncrypted, res(AKS, { apiServerAccessProfile: { enablePrivateCluster: true }, securityProfile: { azureKeyVaultKms: { enabled: true, keyId: "k" } } }));
        await fails(clusterPrivateAndEncrypted, res(AKS, { apiServerAccessProfile: { enablePrivateCluster: false }, ...aad }), /API server is public/);
        await fails(clusterPrivateAndEncrypted, res(AKS, { apiServerAccessProfile: { enablePrivateCluster: true }, disableLocalAccounts: false, aadProfile: aad.aadProfile }), /neither KMS/);
    });

    it("GKE: private endpoint and application-layer secrets encryption", async () => {
        const good = { privateClusterConfig: { enablePrivateEndpoint: true, enablePrivateNodes: true }, databaseEncryption: { state: "ENCRYPTED", keyName: "projects/p/locations/l/keyRings/r/cryptoKeys/k" } };
        await passes(clusterPrivateAndEncrypted, res(GKE, good));
        await fails(clusterPrivateAndEncrypted, res(GKE, { ...good, privateClusterConfig: { enablePrivateNodes: true } }), /public endpoint/);
        await fails(clusterPrivateAndEncrypted, res(GKE, { ...good, databaseEncryption: { state: "DECRYPTED" } }), /not encrypted/);
    });
});

describe("policy: node-pool-bounded-autoscaling", () => {
    it("passes bounded pools on each cloud and fails unbounded or oversized ones", async () => {
        await passes(nodePoolBoundedAutoscaling, res("aws:eks/nodeGroup:NodeGroup", { scalingConfig: { minSize: 3, maxSize: 6, desiredSize: 3 } }));
        await fails(nodePoolBoundedAutoscaling, res("aws:eks/nodeGroup:NodeGroup", { scalingConfig: { minSize: 3, maxSize: 500 } }), /above the limit of 100/);
        await fails(nodePoolBoundedAutoscaling, res("aws:eks/nodeGroup:NodeGroup", { scalingConfig: { minSize: 3 } }), /no maximum/);
        await passes(nodePoolBoundedAutoscaling, res("azure-native:containerservice:AgentPool", { enableAutoScaling: true, minCount: 0, maxCount: 20 }));
        await fails(nodePoolBoundedAutoscaling, res("azure-native:containerservice:AgentPool", { enableAutoScaling: false, count: 3 }), /autoscaling is off/);
        await fails(nodePoolBoundedAutoscaling, res(AKS, { agentPoolProfiles: [{ name: "system", enableAutoScaling: true, minCount: 3 }] }), /agent pool system: no maximum/);
        await passes(nodePoolBoundedAutoscaling, res("gcp:container/nodePool:NodePool", { autoscaling: { totalMinNodeCount: 1, totalMaxNodeCount: 10 } }));
        await fails(nodePoolBoundedAutoscaling, res("gcp:container/nodePool:NodePool", { nodeCount: 3 }), /no maximum/);
    });

    it("takes the ceiling from the policy config", async () => {
        const pool = res("aws:eks/nodeGroup:NodeGroup", { scalingConfig: { minSize: 1, maxSize: 30 } });
        await passes(nodePoolBoundedAutoscaling, pool);
        await fails(nodePoolBoundedAutoscaling, pool, /above the limit of 20/, { maxNodes: 20 });
    });
});

describe("policy: eks-node-imdsv2", () => {
    it("requires httpTokens required, hop limit 1, and a launch template on node groups", async () => {
        await passes(eksNodeImdsv2, res(LAUNCH_TEMPLATE, { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 } }));
        await fails(eksNodeImdsv2, res(LAUNCH_TEMPLATE, { metadataOptions: { httpTokens: "optional" } }), /IMDSv1/);
        await fails(eksNodeImdsv2, res(LAUNCH_TEMPLATE, {}), /IMDSv1/);
        await fails(eksNodeImdsv2, res(LAUNCH_TEMPLATE, { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } }), /HopLimit 2/);
        await passes(eksNodeImdsv2, res(LAUNCH_TEMPLATE, { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } }), { maxHopLimit: 2 });
        await passes(eksNodeImdsv2, res("aws:eks/nodeGroup:NodeGroup", { launchTemplate: { id: "lt-1", version: "1" } }));
        await fails(eksNodeImdsv2, res("aws:eks/nodeGroup:NodeGroup", {}), /no launch template/);
    });
});

describe("policy: node-no-public-ip", () => {
    it("fails public IPs on launch templates, AKS pools and GKE nodes", async () => {
        await passes(nodeNoPublicIp, res(LAUNCH_TEMPLATE, { networkInterfaces: [{ associatePublicIpAddress: "false" }] }));
        await fails(nodeNoPublicIp, res(LAUNCH_TEMPLATE, { networkInterfaces: [{ associatePublicIpAddress: "true" }] }), /public IPs/);
        await passes(nodeNoPublicIp, res("azure-native:containerservice:AgentPool", { enableNodePublicIP: false }));
        await fails(nodeNoPublicIp, res(AKS, { agentPoolProfiles: [{ name: "user", enableNodePublicIP: true }] }), /agent pool user: nodes get public IPs/);
        await passes(nodeNoPublicIp, res(GKE, { privateClusterConfig: { enablePrivateNodes: true } }));
        await fails(nodeNoPublicIp, res(GKE, { privateClusterConfig: { enablePrivateEndpoint: true } }), /enablePrivateNodes/);
        await fails(nodeNoPublicIp, res("gcp:container/nodePool:NodePool", { networkConfig: { enablePrivateNodes: false } }), /public IPs/);
    });
});

describe("policy: velero-snapshots-through-csi", () => {
    it("fails a VolumeSnapshotLocation and passes the BackupStorageLocation beside it", async () => {
        const spec = { provider: "aws", config: { region: "us-east-1" } };
        await fails(veleroSnapshotsThroughCsi, res("kubernetes:velero.io/v1:VolumeSnapshotLocation", { spec }), /account-wide rights; snapshot volumes through CSI/);
        await passes(veleroSnapshotsThroughCsi, res("kubernetes:velero.io/v1:BackupStorageLocation", { spec: { ...spec, objectStorage: { bucket: "b" } } }));
    });
});

describe("policy: backup-bucket-settings", () => {
    const kept = { protect: true, retainOnDelete: true };
    it("AWS: versioning Enabled, default encryption, all public access blocked, bucket protected and retained", async () => {
        await passes(backupBucketSettings, res("aws:s3/bucket:Bucket", { bucket: "velero-prod" }, kept));
        await fails(backupBucketSettings, res("aws:s3/bucket:Bucket", { bucket: "velero-prod" }, { protect: true, retainOnDelete: false }), /not retainOnDelete/);
        await fails(backupBucketSettings, res("aws:s3/bucket:Bucket", { bucket: "velero-prod" }, { retainOnDelete: true }), /not protected/);
        await fails(backupBucketSettings, res("aws:s3/bucket:Bucket", { bucket: "b", forceDestroy: true }, kept), /forceDestroy/);
        await passes(backupBucketSettings, res("aws:s3/bucketVersioning:BucketVersioning", { versioningConfiguration: { status: "Enabled" } }));
        await fails(backupBucketSettings, res("aws:s3/bucketVersioning:BucketVersioning", { versioningConfiguration: { status: "Suspended" } }), /not Enabled/);
        const sse = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
        await passes(backupBucketSettings, res(sse, { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] }));
        await fails(backupBucketSettings, res(sse, { rules: [] }), /no default server-side encryption/);
        const block = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
        await passes(backupBucketSettings, res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", block));
        await fails(backupBucketSettings, res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", { ...block, restrictPublicBuckets: false }), /restrictPublicBuckets/);
    });

    it("Azure: no blob public access, versioning on, private containers", async () => {
        await passes(backupBucketSettings, res("azure-native:storage:StorageAccount", { allowBlobPublicAccess: false, minimumTlsVersion: "TLS1_2" }, kept));
        await fails(backupBucketSettings, res("azure-native:storage:StorageAccount", { minimumTlsVersion: "TLS1_2" }, kept), /allowBlobPublicAccess/);
        await passes(backupBucketSettings, res("azure-native:storage:BlobServiceProperties", { isVersioningEnabled: true }));
        await fails(backupBucketSettings, res("azure-native:storage:BlobServiceProperties", {}), /versioning is off/);
        await fails(backupBucketSettings, res("azure-native:storage:BlobContainer", { publicAccess: "Blob" }), /publicAccess is Blob/);
    });

    it("GCP: versioning, uniform access, public access prevention enforced", async () => {
        const good = { versioning: { enabled: true }, uniformBucketLevelAccess: true, publicAccessPrevention: "enforced" };
        await passes(backupBucketSettings, res("gcp:storage/bucket:Bucket", good, kept));
        await fails(backupBucketSettings, res("gcp:storage/bucket:Bucket", { ...good, publicAccessPrevention: "inherited" }, kept), /publicAccessPrevention/);
        await fails(backupBucketSettings, res("gcp:storage/bucket:Bucket", { ...good, versioning: { enabled: false } }, kept), /versioning/);
    });
});

describe("policy: identity-grant-no-wildcard", () => {
    const doc = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
    it("AWS: scoped resources pass; Resource * fails unless every action has no resource to scope to", async () => {
        const scoped = doc({ Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: ["arn:aws:s3:::velero-prod/*"] });
        await passes(identityGrantScoped, res("aws:iam/policy:Policy", { policy: scoped }));
        await passes(identityGrantScoped, res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ Effect: "Allow", Action: "route53:ListHostedZones", Resource: "*" }) }));
        await passes(identityGrantScoped, res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ Effect: "Allow", Action: ["route53:GetChange"], Resource: ["arn:aws:route53:::change/*"] }) }));
        await fails(identityGrantScoped, res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ Effect: "Allow", Action: ["route53:GetChange", "route53:ChangeResourceRecordSets"], Resource: ["arn:aws:route53:::change/*"] }) }), /scope it/);
        await fails(identityGrantScoped, res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ Effect: "Allow", Action: ["s3:*"], Resource: "*" }) }), /grants s3:\* on \*/);
        await fails(identityGrantScoped, res("aws:iam/policy:Policy", { policy: doc({ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:*:*:secret:*" }) }), /scope it/);
        await fails(identityGrantScoped, res("aws:iam/role:Role", { inlinePolicies: [{ name: "dns", policy: doc({ Effect: "Allow", Action: "route53:*", Resource: "*" }) }] }), /inline policy dns/);
        assert.equal(isWildcardResource("arn:aws:route53:::hostedzone/Z123"), false);
        assert.equal(isWildcardResource("arn:aws:s3:::*"), true);
        assert.equal(isWildcardResource("arn:aws:route53:::hostedzone/*"), true);
        assert.equal(isWildcardResource("arn:aws:secretsmanager:us-east-1:111111111111:secret:platform/*"), false);
    });

    it("AWS: resizing Auto Scaling groups needs a condition on one cluster's tag", async () => {
        const resize = { Effect: "Allow", Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"], Resource: ["arn:aws:autoscaling:us-east-1:111111111111:autoScalingGroup:*:autoScalingGroupName/eks-*"] };
        const owned = { "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true", "aws:ResourceTag/k8s.io/cluster-autoscaler/stg-aws-use1": "owned" };
        await passes(identityGrantScoped, res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ ...resize, Condition: { StringEquals: owned } }) }));
        await fails(identityGrantScoped, res("aws:iam/rolePolicy:RolePolicy", { policy: doc(resize) }), /grants autoscaling:SetDesiredCapacity, autoscaling:TerminateInstanceInAutoScalingGroup without a StringEquals condition on aws:ResourceTag\/k8s.io\/cluster-autoscaler\/<cluster>/);
        // The `enabled` tag is on every autoscaled group of the account: it names no cluster.
        await fails(identityGrantScoped, res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ ...resize, Condition: { StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true" } } }) }), /without a StringEquals condition/);
        await fails(identityGrantScoped, res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ Effect: "Allow", Action: "autoscaling:*", Resource: "arn:aws:autoscaling:us-east-1:111111111111:autoScalingGroup:*:autoScalingGroupName/eks-*" }) }), /grants autoscaling:\* without/);
        // Its reads take no resource at all.
        await passes(identityGrantScoped, res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ Effect: "Allow", Action: ["autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstanceTypes"], Resource: ["*"] }) }));
    });

    it("Azure: role assignments on one resource pass; subscription and resource-group scopes fail", async () => {
        const account = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/velero";
        await passes(identityGrantScoped, res("azure-native:authorization:RoleAssignment", { scope: account }));
        await fails(identityGrantScoped, res("azure-native:authorization:RoleAssignment", { scope: "/subscriptions/0000" }), /role assignment at/);
        await fails(identityGrantScoped, res("azure-native:authorization:RoleAssignment", { scope: "/subscriptions/0000/resourceGroups/rg/" }), /role assignment at/);
        assert.equal(isBroadAzureScope(account), false);
    });

    it("GCP: project-level members need an IAM condition or a node telemetry role", async () => {
        await passes(identityGrantScoped, res("gcp:projects/iAMMember:IAMMember", { role: "roles/container.defaultNodeServiceAccount", member: "serviceAccount:n@p.iam.gserviceaccount.com" }));
        const secrets = { role: "roles/secretmanager.secretAccessor", member: "serviceAccount:eso@p.iam.gserviceaccount.com" };
        await passes(identityGrantScoped, res("gcp:projects/iAMMember:IAMMember", { ...secrets, condition: { title: "prefix", expression: 'resource.name.startsWith("projects/p/secrets/platform-")' } }));
        await fails(identityGrantScoped, res("gcp:projects/iAMMember:IAMMember", secrets), /project-level grant of roles\/secretmanager.secretAccessor/);
        await fails(identityGrantScoped, res("gcp:projects/iAMPolicy:IAMPolicy", { policyData: "{}" }), /authoritative/);
    });
});
