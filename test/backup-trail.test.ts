/**
 * The backup stores' own trail and keys (issue #13 item 3), from the registered inputs of the
 * real stacks: every store's reads, writes and deletes are logged and kept 120 days (the
 * longest schedule TTL, 2160h = 90 days, plus 30 days as a noncurrent version); production's
 * stores encrypt with keys of their own, and Velero is granted only what its cloud needs.
 * Names, regions and numbers are written out here.
 */
import { strict as assert } from "assert";
import { RenderDocument, RenderedResource } from "../scripts/render-program";
import { statements } from "./clusters-fixtures";
import { renderStack } from "./mocks";

const one = (doc: RenderDocument, type: string, name: string): RenderedResource => {
    const found = doc.resources.filter((r) => r.type === type && r.name === name);
    assert.equal(found.length, 1, `one ${type} named ${name} in ${doc.stack}`);
    return found[0];
};
const typed = (doc: RenderDocument, type: string) => doc.resources.filter((r) => r.type === type);
const S3 = (kind: string) => `aws:s3/${kind[0].toLowerCase()}${kind.slice(1)}:${kind}`;

/** 90 days of the longest TTL and 30 as a noncurrent version. */
const LOG_DAYS = 120;
const AWS_PRIMARY = "velero-prod-aws-use1-7182b097";
const AWS_STORES = [
    { name: "prod-aws-use1-backup", bucket: AWS_PRIMARY, region: undefined, keyRegion: "us-east-1" },
    { name: "prod-aws-use1-backup-copy", bucket: `${AWS_PRIMARY}-us-west-2`, region: "us-west-2", keyRegion: "us-west-2" },
];
const GCP_PRIMARY = "velero-prod-gcp-euw4-5a3e83f7";
const GCP_STORES = [
    { name: "prod-gcp-euw4-backup", bucket: GCP_PRIMARY, region: "europe-west4" },
    { name: "prod-gcp-euw4-backup-copy", bucket: `${GCP_PRIMARY}-europe-west1`, region: "europe-west1" },
];

describe("backup stores' trail: the retention the logs follow", () => {
    it("the longest schedule keeps backups 90 days and stores keep deleted objects 30 more: 120 days of logs", async () => {
        const doc = await renderStack("production");
        const ttls = typed(doc, "kubernetes:velero.io/v1:Schedule").map((s) => String((s.inputs.spec as any).template.ttl));
        assert.deepEqual([...new Set(ttls)].sort(), ["2160h", "720h", "72h"]);
        const noncurrent = (one(doc, S3("BucketLifecycleConfiguration"), "prod-aws-use1-backup").inputs.rules as any[])[0].noncurrentVersionExpiration.noncurrentDays;
        assert.equal(2160 / 24 + noncurrent, LOG_DAYS);
    });
});

describe("backup stores' trail on AWS (production)", () => {
    let doc: RenderDocument;
    before(async () => {
        doc = await renderStack("production");
    });

    for (const store of AWS_STORES) {
        it(`${store.bucket}: server access logs to ${store.bucket}-logs in its region, kept ${LOG_DAYS} days, written by S3 for this bucket only`, () => {
            const logging = one(doc, S3("BucketLogging"), store.name);
            assert.deepEqual(logging.inputs, {
                bucket: store.bucket,
                targetBucket: `${store.bucket}-logs`,
                targetPrefix: `${store.bucket}/`,
                targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: "EventTime" } },
                ...(store.region ? { region: store.region } : {}),
            });
            const logs = `${store.name}-logs`;
            assert.equal(one(doc, S3("Bucket"), logs).inputs.region, store.region);
            // S3 delivers access logs only into SSE-S3 buckets.
            assert.deepEqual((one(doc, S3("BucketServerSideEncryptionConfiguration"), logs).inputs.rules as any[])[0].applyServerSideEncryptionByDefault, { sseAlgorithm: "AES256" });
            assert.deepEqual(one(doc, S3("BucketVersioning"), logs).inputs.versioningConfiguration, { status: "Enabled" });
            const block = one(doc, S3("BucketPublicAccessBlock"), logs).inputs;
            assert.deepEqual([block.blockPublicAcls, block.blockPublicPolicy, block.ignorePublicAcls, block.restrictPublicBuckets], [true, true, true, true]);
            const [rule] = one(doc, S3("BucketLifecycleConfiguration"), logs).inputs.rules as any[];
            assert.deepEqual([rule.status, rule.expiration, rule.noncurrentVersionExpiration], ["Enabled", { days: LOG_DAYS }, { noncurrentDays: LOG_DAYS }]);
            const [tls, delivery] = statements(one(doc, S3("BucketPolicy"), logs).inputs.policy);
            assert.equal(tls.Sid, "DenyInsecureTransport");
            assert.deepEqual(delivery, {
                Sid: "S3ServerAccessLogs",
                Effect: "Allow",
                Principal: { Service: "logging.s3.amazonaws.com" },
                Action: "s3:PutObject",
                Resource: `arn:aws:s3:::${store.bucket}-logs/*`,
                Condition: { ArnLike: { "aws:SourceArn": `arn:aws:s3:::${store.bucket}` }, StringEquals: { "aws:SourceAccount": "222222222222" } },
            });
            for (const r of doc.resources.filter((x) => x.name === logs || (x.name === store.name && x.type === S3("BucketLogging")))) {
                assert.deepEqual([r.protect, r.retainOnDelete], [true, true], `${r.type} ${r.name}`);
            }
        });

        it(`${store.bucket}: SSE-KMS with a bucket key, under a key of its own in ${store.keyRegion} that only the account root's IAM can grant`, () => {
            const key = one(doc, "aws:kms/key:Key", `${store.name}-key`);
            assert.deepEqual([key.inputs.region, key.inputs.enableKeyRotation, key.protect, key.retainOnDelete], [store.region, true, true, true]);
            assert.deepEqual(statements(key.inputs.policy), [{ Sid: "AccountRootDelegatesToIam", Effect: "Allow", Principal: { AWS: "arn:aws:iam::222222222222:root" }, Action: "kms:*", Resource: "*" }]);
            assert.equal(one(doc, "aws:kms/alias:Alias", `${store.name}-key`).inputs.name, `alias/${store.bucket}`);
            const [rule] = one(doc, S3("BucketServerSideEncryptionConfiguration"), store.name).inputs.rules as any[];
            assert.deepEqual(rule, {
                applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: `arn:aws:kms:${store.keyRegion}:222222222222:key/<computed ${store.name}-key.keyId>` },
                bucketKeyEnabled: true,
            });
        });
    }

    it("Velero's role may use the primary's key through S3 in us-east-1 only: GenerateDataKey and Decrypt, not Encrypt", () => {
        const grants = typed(doc, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.startsWith("prod-aws-use1-velero-velero-backupStorage"));
        assert.equal(grants.length, 1);
        const kms = statements(grants[0].inputs.policy).filter((s) => String(s.Action).includes("kms:"));
        assert.deepEqual(kms, [
            {
                Effect: "Allow",
                Action: ["kms:Decrypt", "kms:GenerateDataKey"],
                Resource: ["arn:aws:kms:us-east-1:222222222222:key/<computed prod-aws-use1-backup-key.keyId>"],
                Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } },
            },
        ]);
    });
});

describe("backup stores' trail on Azure (production)", () => {
    let doc: RenderDocument;
    before(async () => {
        doc = await renderStack("production");
    });
    const DATA = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-prod-azure-weu-data/providers";

    it(`every blob read, write and delete of the account goes to a workspace beside it, kept ${LOG_DAYS} days`, () => {
        const workspace = one(doc, "azure-native:operationalinsights:Workspace", "prod-azure-weu-backup-access-logs");
        assert.deepEqual([workspace.inputs.resourceGroupName, workspace.inputs.retentionInDays, workspace.protect, workspace.retainOnDelete], ["rg-prod-azure-weu-data", LOG_DAYS, true, true]);
        const setting = one(doc, "azure-native:monitor:DiagnosticSetting", "prod-azure-weu-backup-access-logs");
        assert.deepEqual(setting.inputs, {
            name: "backup-access",
            resourceUri: `${DATA}/Microsoft.Storage/storageAccounts/stvelero2795a1bf71ee/blobServices/default`,
            workspaceId: `${DATA}/Microsoft.OperationalInsights/workspaces/log-prod-azure-weu-backup-access`,
            logs: [
                { category: "StorageRead", enabled: true },
                { category: "StorageWrite", enabled: true },
                { category: "StorageDelete", enabled: true },
            ],
        });
    });

    it("the account encrypts with its own Key Vault key through an identity that may only wrap and unwrap with that key", () => {
        const vault = "kvbk-eda27626208ecf1966a";
        const identity = `${DATA}/Microsoft.ManagedIdentity/userAssignedIdentities/id-prod-azure-weu-backup-key`;
        const account = one(doc, "azure-native:storage:StorageAccount", "prod-azure-weu-backup");
        assert.deepEqual(account.inputs.identity, { type: "UserAssigned", userAssignedIdentities: [identity] });
        assert.deepEqual(account.inputs.encryption, {
            keySource: "Microsoft.Keyvault",
            keyVaultProperties: { keyName: "velero-backups", keyVaultUri: `https://${vault}.vault.azure.net/` },
            encryptionIdentity: { encryptionUserAssignedIdentity: identity },
            requireInfrastructureEncryption: true,
            services: { blob: { enabled: true, keyType: "Account" } },
        });
        const use = one(doc, "azure-native:authorization:RoleAssignment", "prod-azure-weu-backup-key-use");
        assert.deepEqual([use.inputs.roleDefinitionId, use.inputs.scope], [
            "/subscriptions/00000000-0000-0000-0000-000000000002/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6",
            `${DATA}/Microsoft.KeyVault/vaults/${vault}/keys/velero-backups`,
        ]);
        assert.ok(account.dependencies.includes(use.urn), "Storage checks its access to the key when the account is updated");
        const props = one(doc, "azure-native:keyvault:Vault", "prod-azure-weu-backup-key").inputs.properties as Record<string, unknown>;
        assert.deepEqual([props.enablePurgeProtection, props.networkAcls], [true, { defaultAction: "Deny", bypass: "AzureServices", ipRules: [], virtualNetworkRules: [] }]);
        // Velero's only grant stays Storage Blob Data Contributor on its container: Storage unwraps the key itself.
        const velero = typed(doc, "azure-native:authorization:RoleAssignment").filter((a) => a.name.startsWith("prod-azure-weu-velero"));
        assert.deepEqual(velero.map((a) => String(a.inputs.roleDefinitionId).split("/").pop()), ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"]);
    });
});

describe("backup stores' trail on GCP (production)", () => {
    let doc: RenderDocument;
    before(async () => {
        doc = await renderStack("production");
    });

    for (const store of GCP_STORES) {
        it(`${store.bucket}: usage logs to ${store.bucket}-logs, deleted after ${LOG_DAYS} days, written by Cloud Storage's analytics group only`, () => {
            const bucket = one(doc, "gcp:storage/bucket:Bucket", store.name);
            assert.deepEqual(bucket.inputs.logging, { logBucket: `${store.bucket}-logs`, logObjectPrefix: `${store.bucket}/` });
            const logs = one(doc, "gcp:storage/bucket:Bucket", `${store.name}-logs`);
            assert.deepEqual(
                [logs.inputs.location, logs.inputs.uniformBucketLevelAccess, logs.inputs.publicAccessPrevention, logs.inputs.versioning, logs.protect, logs.retainOnDelete],
                [store.region.toUpperCase(), true, "enforced", { enabled: true }, true, true],
            );
            assert.deepEqual(logs.inputs.lifecycleRules, [
                { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: LOG_DAYS, withState: "ARCHIVED" } },
                { action: { type: "Delete" }, condition: { age: LOG_DAYS } },
            ]);
            const writer = one(doc, "gcp:storage/bucketIAMMember:BucketIAMMember", `${store.name}-logs-writer`);
            assert.deepEqual(writer.inputs, { bucket: `${store.bucket}-logs`, role: "roles/storage.objectCreator", member: "group:cloud-storage-analytics@google.com" });
        });

        it(`${store.bucket}: a default Cloud KMS key of its own in ${store.region}, usable by the project's GCS service agent only`, () => {
            const ring = one(doc, "gcp:kms/keyRing:KeyRing", `${store.name}-keys`);
            assert.deepEqual(ring.inputs, { name: store.bucket, location: store.region, project: "platform-production-01" });
            const key = one(doc, "gcp:kms/cryptoKey:CryptoKey", `${store.name}-key`);
            assert.equal(key.inputs.rotationPeriod, "7776000s");
            const keyName = `projects/platform-production-01/locations/${store.region}/keyRings/${store.bucket}/cryptoKeys/backups`;
            const bucket = one(doc, "gcp:storage/bucket:Bucket", store.name);
            assert.deepEqual(bucket.inputs.encryption, { defaultKmsKeyName: keyName });
            const grants = typed(doc, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember").filter((g) => g.inputs.cryptoKeyId === keyName);
            assert.deepEqual(
                grants.map((g) => [g.inputs.role, g.inputs.member]),
                [["roles/cloudkms.cryptoKeyEncrypterDecrypter", "serviceAccount:service-464796986498@gs-project-accounts.iam.gserviceaccount.com"]],
            );
            assert.ok(bucket.dependencies.includes(grants[0].urn), "GCS refuses a default key its agent cannot use");
            for (const r of [ring, key, grants[0]]) assert.deepEqual([r.protect, r.retainOnDelete], [true, true], r.name);
        });
    }

    it("Velero's account is granted no key: GCS encrypts and decrypts as its service agent", () => {
        const grants = typed(doc, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember").map((g) => String(g.inputs.member));
        assert.equal(grants.length, 3, "GKE's etcd key and the two backup keys");
        assert.ok(grants.every((m) => !m.includes("velero")), grants.join(", "));
    });
});

describe("backup stores' trail in staging", () => {
    let doc: RenderDocument;
    before(async () => {
        doc = await renderStack("staging");
    });

    it("logs are kept as in production; keys are the clouds' own (the stack file says why)", () => {
        assert.equal(typed(doc, S3("BucketLogging")).length, 2);
        for (const r of typed(doc, S3("BucketLifecycleConfiguration")).filter((l) => l.name.endsWith("-logs"))) assert.deepEqual((r.inputs.rules as any[])[0].expiration, { days: LOG_DAYS }, r.name);
        assert.equal(one(doc, "azure-native:operationalinsights:Workspace", "stg-azure-weu-backup-access-logs").inputs.retentionInDays, LOG_DAYS);
        assert.deepEqual(typed(doc, "gcp:storage/bucket:Bucket").filter((b) => b.inputs.logging).length, 2);

        assert.deepEqual((one(doc, S3("BucketServerSideEncryptionConfiguration"), "stg-aws-use1-backup").inputs.rules as any[])[0].applyServerSideEncryptionByDefault, { sseAlgorithm: "AES256" });
        assert.equal((one(doc, "azure-native:storage:StorageAccount", "stg-azure-weu-backup").inputs.encryption as any).keySource, "Microsoft.Storage");
        assert.equal(one(doc, "gcp:storage/bucket:Bucket", "stg-gcp-euw4-backup").inputs.encryption, undefined);
        assert.deepEqual(typed(doc, "aws:kms/alias:Alias").map((a) => a.inputs.name).filter((n) => String(n).includes("velero")), []);
    });
});
