/**
 * Backups that survive a region (`clusters[].backupCopyRegion`): production renders a copy of
 * every backup store outside the cluster's region, protected and retained like the primary; a
 * copy can be turned off only explicitly, and the policy pack then says so. Names and regions
 * are written out here (bucket hashes computed by hand: sha256 of stack, cluster and account).
 */
import { strict as assert } from "assert";
import { resolveBackupSources, validateSettings } from "../components/config";
import { checkRender } from "../policy/offline";
import { readStackConfig, RenderDocument, RenderedResource, renderProgram } from "../scripts/render-program";
import { statements } from "./clusters-fixtures";
import { editedStackFile, loadStackSettings, renderStack } from "./mocks";

const byName = (doc: RenderDocument, type: string, name: string): RenderedResource => {
    const found = doc.resources.filter((r) => r.type === type && r.name === name);
    assert.equal(found.length, 1, `one ${type} named ${name}`);
    return found[0];
};
const COPY_TYPES = ["aws:s3/bucketReplicationConfig:BucketReplicationConfig", "gcp:storage/transferJob:TransferJob"];

/** The AWS primary: velero-prod-aws-use1-<sha256("production\0prod-aws-use1\0222222222222")[0:8]>. */
const AWS_PRIMARY = "velero-prod-aws-use1-7182b097";
/** The GCP primary: velero-prod-gcp-euw4-<sha256("production\0prod-gcp-euw4\0platform-production-01")[0:8]>. */
const GCP_PRIMARY = "velero-prod-gcp-euw4-5a3e83f7";

describe("backup copies outside the region (production)", () => {
    let doc: RenderDocument;
    before(async () => {
        doc = await renderStack("production");
    });

    it("AWS: a replica bucket in us-west-2 with every setting the primary has, protected and retained", () => {
        const replica = byName(doc, "aws:s3/bucket:Bucket", "prod-aws-use1-backup-copy");
        assert.deepEqual(
            { bucket: replica.inputs.bucket, region: replica.inputs.region, tags: replica.inputs.tags },
            { bucket: `${AWS_PRIMARY}-us-west-2`, region: "us-west-2", tags: { "platform.example.io/cluster": "prod-aws-use1", "platform.example.io/purpose": "velero-copy" } },
        );
        const settings = doc.resources.filter((r) => r.type.startsWith("aws:s3/") && r.name === "prod-aws-use1-backup-copy" && r.type !== "aws:s3/bucketReplicationConfig:BucketReplicationConfig");
        assert.deepEqual(settings.map((r) => r.type.split(":").pop()).sort(), [
            "Bucket",
            "BucketLifecycleConfiguration",
            // Its access log goes to its own log bucket in us-west-2 (backup-trail tests).
            "BucketLogging",
            "BucketOwnershipControls",
            "BucketPolicy",
            "BucketPublicAccessBlock",
            "BucketServerSideEncryptionConfiguration",
            "BucketVersioning",
        ]);
        for (const r of settings) {
            assert.deepEqual({ region: r.inputs.region, protect: r.protect, retainOnDelete: r.retainOnDelete }, { region: "us-west-2", protect: true, retainOnDelete: true }, r.type);
        }
        assert.deepEqual(byName(doc, "aws:s3/bucketVersioning:BucketVersioning", "prod-aws-use1-backup-copy").inputs.versioningConfiguration, { status: "Enabled" });
    });

    it("AWS: replication of every object and deletion, after versioning at both ends, by a role that can do only that", () => {
        const replication = byName(doc, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "prod-aws-use1-backup-copy");
        const rules = replication.inputs.rules as Record<string, unknown>[];
        assert.equal(rules.length, 1);
        assert.deepEqual({ status: rules[0].status, filter: rules[0].filter, deleteMarkerReplication: rules[0].deleteMarkerReplication }, { status: "Enabled", filter: {}, deleteMarkerReplication: { status: "Enabled" } });
        const primaryVersioning = byName(doc, "aws:s3/bucketVersioning:BucketVersioning", "prod-aws-use1-backup");
        const copyVersioning = byName(doc, "aws:s3/bucketVersioning:BucketVersioning", "prod-aws-use1-backup-copy");
        for (const v of [primaryVersioning, copyVersioning]) assert.ok(replication.dependencies.includes(v.urn), `waits for ${v.urn}`);
        assert.deepEqual({ protect: replication.protect, retainOnDelete: replication.retainOnDelete }, { protect: true, retainOnDelete: true });

        const role = byName(doc, "aws:iam/role:Role", "prod-aws-use1-backup-copy");
        assert.equal(role.inputs.name, "prod-aws-use1-backup-copy");
        assert.deepEqual(statements(role.inputs.assumeRolePolicy), [{ Effect: "Allow", Principal: { Service: "s3.amazonaws.com" }, Action: ["sts:AssumeRole"] }]);
        const policy = statements(byName(doc, "aws:iam/rolePolicy:RolePolicy", "prod-aws-use1-backup-copy").inputs.policy);
        assert.deepEqual(
            policy.map((s) => s.Action),
            [
                ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                ["kms:Decrypt"],
                ["kms:Encrypt", "kms:GenerateDataKey"],
            ],
        );
        // Production's stores have keys: S3 decrypts with the source's and encrypts with the copy's, each only through S3 in its region.
        assert.deepEqual(
            policy.slice(3).map((s) => [s.Resource, s.Condition]),
            [
                [["arn:aws:kms:us-east-1:222222222222:key/<computed prod-aws-use1-backup-key.keyId>"], { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } }],
                [["arn:aws:kms:us-west-2:222222222222:key/<computed prod-aws-use1-backup-copy-key.keyId>"], { StringEquals: { "kms:ViaService": "s3.us-west-2.amazonaws.com" } }],
            ],
        );
        assert.deepEqual(
            { selection: rules[0].sourceSelectionCriteria, encryption: (rules[0].destination as Record<string, unknown>).encryptionConfiguration },
            { selection: { sseKmsEncryptedObjects: { status: "Enabled" } }, encryption: { replicaKmsKeyId: "arn:aws:kms:us-west-2:222222222222:key/<computed prod-aws-use1-backup-copy-key.keyId>" } },
        );
    });

    it("Azure: the backup account is read-access geo-zone-redundant (RA-GZRS): a copy in the paired region", () => {
        const account = doc.resources.filter((r) => r.type === "azure-native:storage:StorageAccount");
        assert.equal(account.length, 1);
        assert.deepEqual(account[0].inputs.sku, { name: "Standard_RAGZRS" });
        assert.deepEqual({ protect: account[0].protect, retainOnDelete: account[0].retainOnDelete }, { protect: true, retainOnDelete: true });
    });

    it("GCP: a copy bucket in europe-west1 fed by a Storage Transfer Service replication job, protected and retained", () => {
        const copy = byName(doc, "gcp:storage/bucket:Bucket", "prod-gcp-euw4-backup-copy");
        assert.deepEqual(
            { name: copy.inputs.name, location: copy.inputs.location, labels: copy.inputs.labels, versioning: copy.inputs.versioning, publicAccessPrevention: copy.inputs.publicAccessPrevention },
            { name: `${GCP_PRIMARY}-europe-west1`, location: "EUROPE-WEST1", labels: { "platform-cluster": "prod-gcp-euw4", purpose: "velero-copy" }, versioning: { enabled: true }, publicAccessPrevention: "enforced" },
        );
        assert.equal(byName(doc, "gcp:storage/bucket:Bucket", "prod-gcp-euw4-backup").inputs.name, GCP_PRIMARY);
        const job = byName(doc, "gcp:storage/transferJob:TransferJob", "prod-gcp-euw4-backup-copy");
        assert.deepEqual(job.inputs.replicationSpec, { gcsDataSource: { bucketName: GCP_PRIMARY }, gcsDataSink: { bucketName: `${GCP_PRIMARY}-europe-west1` } });
        assert.equal(job.inputs.status, "ENABLED");
        for (const r of [copy, job]) assert.deepEqual({ protect: r.protect, retainOnDelete: r.retainOnDelete }, { protect: true, retainOnDelete: true }, r.type);
        const agentGrants = doc.resources.filter((r) => r.type === "gcp:storage/bucketIAMMember:BucketIAMMember" && String(r.inputs.member).includes("@storage-transfer-service.iam.gserviceaccount.com"));
        assert.deepEqual(agentGrants.map((g) => [g.inputs.bucket, g.inputs.role]).sort(), [
            [GCP_PRIMARY, "roles/storage.legacyBucketReader"],
            [GCP_PRIMARY, "roles/storage.objectViewer"],
            [`${GCP_PRIMARY}-europe-west1`, "roles/storage.legacyBucketWriter"],
        ]);
        for (const g of agentGrants) assert.ok(job.dependencies.includes(g.urn), "the job starts once the agent can read and write");
    });

    it("the policy pack finds every store copied", async () => {
        const found = (await checkRender(doc)).filter((v) => v.policy === "backup-copy-outside-region");
        assert.deepEqual(found, []);
    });
});

describe("backup copies: off where asked, refused where they would be meaningless", () => {
    it("local has no copy; staging copies too (RA-GRS without zones)", async () => {
        const local = await renderStack("local");
        assert.deepEqual(local.resources.filter((r) => COPY_TYPES.includes(r.type)), []);
        const staging = await renderStack("staging");
        assert.deepEqual(staging.resources.filter((r) => COPY_TYPES.includes(r.type)).map((r) => r.name).sort(), ["stg-aws-use1-backup-copy", "stg-gcp-euw4-backup-copy"]);
        assert.deepEqual(staging.resources.find((r) => r.type === "azure-native:storage:StorageAccount")!.inputs.sku, { name: "Standard_RAGRS" });
    });

    it("backupCopyRegion: false removes the copies, and the policy pack reports each store", async () => {
        const file = editedStackFile("production", (s: any) => {
            for (const c of s.clusters) c.backupCopyRegion = false;
        });
        const off = await renderProgram("production", readStackConfig(file));
        assert.deepEqual(off.resources.filter((r) => COPY_TYPES.includes(r.type) || /-backup-copy/.test(r.name)), []);
        assert.deepEqual(off.resources.find((r) => r.type === "azure-native:storage:StorageAccount")!.inputs.sku, { name: "Standard_ZRS" });
        const found = (await checkRender(off)).filter((v) => v.policy === "backup-copy-outside-region");
        assert.deepEqual(found.map((v) => v.message.split(":")[0]).sort(), ["prod-aws-use1-backup", "prod-azure-weu-backup", "prod-gcp-euw4-backup"]);
        assert.ok(found.every((v) => v.level === "mandatory"), "production blocks it");
    });

    it("restore.fromCopy: the copy attached read-only, in its region, with read access to it and the restore log's prefix", async () => {
        const file = editedStackFile("production", (s: any) => {
            s.clusters[0].restore = { schedule: "tenants-daily", fromCopy: true };
        });
        const rebuild = await renderProgram("production", readStackConfig(file));
        const locations = rebuild.resources.filter((r) => r.type === "kubernetes:velero.io/v1:BackupStorageLocation" && r.name.startsWith("prod-aws-use1-"));
        const spec = (name: string) => locations.find((r) => (r.inputs.metadata as any).name === name)!.inputs.spec as any;
        assert.deepEqual(locations.map((r) => (r.inputs.metadata as any).name).sort(), ["copy-prod-aws-use1", "default"]);
        assert.deepEqual(
            { accessMode: spec("copy-prod-aws-use1").accessMode, bucket: spec("copy-prod-aws-use1").objectStorage.bucket, config: spec("copy-prod-aws-use1").config },
            { accessMode: "ReadOnly", bucket: `${AWS_PRIMARY}-us-west-2`, config: { region: "us-west-2" } },
        );
        const arn = `arn:aws:s3:::${AWS_PRIMARY}-us-west-2`;
        const grants = rebuild.resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.startsWith("prod-aws-use1-velero") && String(r.inputs.policy).includes(arn));
        assert.equal(grants.length, 1);
        assert.deepEqual(statements(grants[0].inputs.policy).map((s) => [s.Action, s.Resource]), [
            [["s3:ListBucket", "s3:GetBucketLocation"], [arn]],
            [["s3:GetObject"], [`${arn}/*`]],
            [["s3:PutObject"], [`${arn}/restores/*`]],
            // The copy's own key, in us-west-2 (its ARN: the copy-key resource's, since this stack made it).
            [["kms:Decrypt", "kms:GenerateDataKey"], ["arn:aws:kms:us-west-2:222222222222:key/<computed prod-aws-use1-backup-copy-key.keyId>"]],
        ]);
    });

    it("config errors: the cluster's own region, a region without a default pair, an Azure region that is not the pair", () => {
        const settings = loadStackSettings("production") as any;
        settings.clusters[0].backupCopyRegion = "us-east-1";
        settings.clusters[1].backupCopyRegion = "francecentral";
        settings.clusters[2].region = "me-central1";
        const problems = validateSettings(settings).problems;
        const noCopy = resolveBackupSources(
            validateSettings(loadStackSettings("local")).settings!.clusters.map((c) => ({ ...c, restore: { schedule: "tenants-daily", fromCopy: true } })),
            "local",
            process.cwd(),
        ).problems;
        assert.deepEqual(noCopy, ["clusters[0].restore.fromCopy: this cluster's store has no copy (backupCopyRegion is false, or an existing cluster)"]);
        assert.deepEqual(problems, [
            "clusters[0].backupCopyRegion: must be another region than the cluster's (us-east-1): the copy is what survives a region loss",
            "clusters[1].backupCopyRegion: geo-redundant storage copies to westeurope's Azure pair, northeurope: set northeurope, or false for no copy",
            "clusters[2].backupCopyRegion: has no default for me-central1: set the region the backups are copied to, or false for no copy (the backups would not survive a region loss)",
        ]);
    });
});
