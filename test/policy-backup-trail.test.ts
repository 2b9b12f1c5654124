/**
 * backup-access-logged and backup-customer-managed-key, each passing a good example and
 * failing a bad one per cloud, through policy/offline.ts's adapter (hand-built resources; the
 * renders are policy-render.test.ts's).
 */
import { strict as assert } from "assert";
import { StackValidationPolicy } from "@pulumi/policy";
import { ResourceInput, runPolicy } from "../policy/offline";
import { backupAccessLogged, backupCustomerKey } from "../policy/policies/backup-trail";

type Props = Record<string, unknown>;
const res = (type: string, name: string, inputs: Props, dependencies: string[] = []): ResourceInput => ({ type, name, urn: `urn:pulumi:s::platform::${type}::${name}`, inputs, dependencies });
async function messages(policy: StackValidationPolicy, resources: ResourceInput[], config: object = {}): Promise<string[]> {
    return (await runPolicy(policy, resources, config)).map((v) => v.message);
}
async function passes(policy: StackValidationPolicy, resources: ResourceInput[], config?: object) {
    assert.deepEqual(await messages(policy, resources, config), [], `should pass ${policy.name}`);
}
async function failsExactly(policy: StackValidationPolicy, resources: ResourceInput[], expected: RegExp[], config?: object) {
    const found = await messages(policy, resources, config);
    assert.equal(found.length, expected.length, found.join(" | ") || "(nothing)");
    expected.forEach((pattern, i) => assert.match(found[i], pattern));
}

const S3 = (kind: string) => `aws:s3/${kind[0].toLowerCase()}${kind.slice(1)}:${kind}`;
/** A store, its log bucket with a lifecycle rule, the logging, and each bucket's encryption. */
function s3(opts: { expireDays?: number; logging?: boolean; sse?: Props } = {}): ResourceInput[] {
    const store = res(S3("Bucket"), "store", { bucket: "velero-x" });
    const logs = res(S3("Bucket"), "store-logs", { bucket: "velero-x-logs" });
    const rule = { id: "r", status: "Enabled", filter: {}, ...(opts.expireDays === undefined ? {} : { expiration: { days: opts.expireDays } }) };
    return [
        store,
        logs,
        res(S3("BucketLifecycleConfiguration"), "store-logs", { bucket: "<computed store-logs.id>", rules: [rule] }, [logs.urn!]),
        ...(opts.logging === false ? [] : [res(S3("BucketLogging"), "store", { bucket: "velero-x", targetBucket: "velero-x-logs", targetPrefix: "velero-x/" }, [store.urn!, logs.urn!])]),
        res(S3("BucketServerSideEncryptionConfiguration"), "store", { bucket: "<computed store.id>", rules: [{ applyServerSideEncryptionByDefault: opts.sse ?? { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:us-east-1:2:key/k" } }] }, [store.urn!]),
        res(S3("BucketServerSideEncryptionConfiguration"), "store-logs", { bucket: "<computed store-logs.id>", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }, [logs.urn!]),
    ];
}

const ACCOUNT_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stvelero1";
const WORKSPACE_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/log-backup";
function azure(opts: { categories?: string[]; retention?: number; encryption?: Props } = {}): ResourceInput[] {
    const account = res("azure-native:storage:StorageAccount", "account", {
        accountName: "stvelero1",
        encryption: opts.encryption ?? { keySource: "Microsoft.Keyvault", keyVaultProperties: { keyName: "k", keyVaultUri: "https://v.vault.azure.net/" }, encryptionIdentity: { encryptionUserAssignedIdentity: "/id" } },
    });
    const workspace = res("azure-native:operationalinsights:Workspace", "ws", { workspaceName: "log-backup", retentionInDays: opts.retention ?? 120 });
    const setting = res(
        "azure-native:monitor:DiagnosticSetting",
        "diag",
        { resourceUri: `${ACCOUNT_ID}/blobServices/default`, workspaceId: WORKSPACE_ID, logs: (opts.categories ?? ["StorageRead", "StorageWrite", "StorageDelete"]).map((category) => ({ category, enabled: true })) },
        [account.urn!, workspace.urn!],
    );
    return [account, workspace, setting];
}

function gcs(opts: { age?: number; logging?: boolean; encryption?: boolean } = {}): ResourceInput[] {
    const store = res("gcp:storage/bucket:Bucket", "store", {
        name: "velero-g",
        ...(opts.logging === false ? {} : { logging: { logBucket: "velero-g-logs", logObjectPrefix: "velero-g/" } }),
        ...(opts.encryption === false ? {} : { encryption: { defaultKmsKeyName: "projects/p/locations/l/keyRings/r/cryptoKeys/backups" } }),
    });
    const logs = res("gcp:storage/bucket:Bucket", "store-logs", { name: "velero-g-logs", lifecycleRules: opts.age === undefined ? [] : [{ action: { type: "Delete" }, condition: { age: opts.age } }] });
    return [store, logs];
}

describe("policy: backup-access-logged", () => {
    it("passes each cloud's store logged to a place that keeps the logs 120 days (the default minimum)", async () => {
        await passes(backupAccessLogged, [...s3({ expireDays: 120 }), ...azure(), ...gcs({ age: 120 })]);
    });

    it("S3: fails a store without logging, logs kept forever, or kept less than the backups", async () => {
        await failsExactly(backupAccessLogged, s3({ expireDays: 120, logging: false }), [/^store: .*no server access logging/, /^store-logs: .*no server access logging/]);
        await failsExactly(backupAccessLogged, s3({}), [/^store: .*no lifecycle rule that expires logs/]);
        await failsExactly(backupAccessLogged, s3({ expireDays: 30 }), [/^store: .*expire after 30 days, before the backups \(120 days/]);
    });

    it("Azure: fails a setting that misses deletes, and a workspace that forgets sooner", async () => {
        await failsExactly(backupAccessLogged, azure({ categories: ["StorageRead", "StorageWrite"] }), [/^account: .*no diagnostic setting .* StorageRead, StorageWrite, StorageDelete/]);
        await failsExactly(backupAccessLogged, azure({ retention: 30 }), [/^account: .*no Log Analytics workspace that keeps them 120 days/]);
        await failsExactly(backupAccessLogged, azure().slice(0, 2), [/^account: .*no diagnostic setting/]);
    });

    it("GCS: fails a bucket without usage logging, or with logs deleted too soon", async () => {
        await failsExactly(backupAccessLogged, gcs({ age: 120, logging: false }), [/^store: .*no usage logging/, /^store-logs: .*no usage logging/]);
        await failsExactly(backupAccessLogged, gcs({ age: 7 }), [/^store: .*deleted after 7 days/]);
        await failsExactly(backupAccessLogged, gcs({}), [/^store: .*no lifecycle rule that deletes logs by age/]);
    });

    it("takes the minimum from the policy config", async () => {
        await passes(backupAccessLogged, [...s3({ expireDays: 30 }), ...gcs({ age: 30 }), ...azure({ retention: 30 })], { minRetentionDays: 30 });
    });
});

describe("policy: backup-customer-managed-key", () => {
    it("passes each cloud's store under a customer-managed key; the S3 log bucket's SSE-S3 is not a store's", async () => {
        await passes(backupCustomerKey, [...s3({ expireDays: 120 }), ...azure(), ...gcs({ age: 120 })]);
    });

    it("fails SSE-S3, aws:kms without a key, Microsoft-managed Azure keys, a Key Vault key without an identity, GCS without a default key", async () => {
        await failsExactly(backupCustomerKey, s3({ sse: { sseAlgorithm: "AES256" } }), [/^store: backup bucket is not encrypted with a customer-managed KMS key/]);
        await failsExactly(backupCustomerKey, s3({ sse: { sseAlgorithm: "aws:kms" } }), [/^store: /]);
        await failsExactly(backupCustomerKey, azure({ encryption: { keySource: "Microsoft.Storage" } }), [/^account: .*Key Vault key through a user-assigned identity/]);
        await failsExactly(backupCustomerKey, azure({ encryption: { keySource: "Microsoft.Keyvault", keyVaultProperties: { keyName: "k" } } }), [/^account: /]);
        await failsExactly(backupCustomerKey, gcs({ age: 120, encryption: false }), [/^store: backup bucket has no default Cloud KMS key/]);
    });

    it("without logging, every S3 bucket is a store and needs a key (a log bucket is known by what logs into it)", async () => {
        await failsExactly(backupCustomerKey, s3({ expireDays: 120, logging: false }), [/^store-logs: /]);
    });
});
