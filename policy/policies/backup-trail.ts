/**
 * A backup store's own trail and key (issue #13 item 3): whoever reads, writes or deletes a
 * backup is on record for as long as the backup can exist, and production backups are
 * encrypted with keys the platform holds. A bucket that receives a store's access logs is a
 * log bucket, told apart by that and not by a tag: it needs no log of its own, and S3 cannot
 * deliver logs into a bucket encrypted with a KMS key.
 */
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { BACKUP_ACCESS_LOG_DAYS } from "../../components/backup-retention";
import { asList, configOf, get, known, PlatformPolicy } from "../util";

const S3_BUCKET = "aws:s3/bucket:Bucket";
const S3_LOGGING = "aws:s3/bucketLogging:BucketLogging";
const S3_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";
const S3_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const AZURE_ACCOUNT = "azure-native:storage:StorageAccount";
const AZURE_DIAGNOSTICS = "azure-native:monitor:DiagnosticSetting";
const AZURE_WORKSPACE = "azure-native:operationalinsights:Workspace";
const GCS_BUCKET = "gcp:storage/bucket:Bucket";
/** Blob resource-log categories: every read, write and delete (or a group that holds them). */
const BLOB_CATEGORIES = ["StorageRead", "StorageWrite", "StorageDelete"];
const BLOB_GROUPS = ["audit", "allLogs"];

const DEFAULTS = { minRetentionDays: BACKUP_ACCESS_LOG_DAYS };

const namesOf = (r: PolicyResource): string[] =>
    ["id", "bucket", "name", "accountName", "workspaceName"].map((k) => known(() => r.props[k])).filter((n): n is string => typeof n === "string" && n.length > 0);
const names = (value: string, name: string) => value === name || value.startsWith(`${name}/`) || value.endsWith(`/${name}`) || value.includes(`/${name}/`);

/**
 * Which of `candidates` `resource` points at with the property at `path`: by the id or name
 * written there; else by what the engine says that property came from; else (an offline
 * render, which records only a resource's dependencies) by those dependencies.
 */
function pointsAt(resource: PolicyResource, path: string, candidates: PolicyResource[]): PolicyResource[] {
    const value = known(() => get(resource.props, path));
    if (typeof value === "string") {
        const byName = candidates.filter((c) => namesOf(c).some((n) => names(value, n)));
        if (byName.length) return byName;
    }
    const from = resource.propertyDependencies?.[path.split(".")[0]];
    const urns = new Set((from?.length ? from : resource.dependencies).map((d) => d.urn));
    return candidates.filter((c) => urns.has(c.urn));
}
const refersTo = (resource: PolicyResource, target: PolicyResource, path: string, candidates: PolicyResource[]) => pointsAt(resource, path, candidates).includes(target);

/** A store's log, with the log's place and how long it lives there. */
type Found = { store: PolicyResource; problem?: string };

function s3Logs(resources: PolicyResource[], min: number): { logBuckets: Set<string>; found: Found[] } {
    const of = (type: string) => resources.filter((r) => r.type === type);
    const logBuckets = new Set<string>();
    const targets = new Map<string, PolicyResource[]>();
    for (const logging of of(S3_LOGGING)) {
        const target = pointsAt(logging, "targetBucket", of(S3_BUCKET));
        target.forEach((t) => logBuckets.add(t.urn));
        for (const store of pointsAt(logging, "bucket", of(S3_BUCKET)).filter((b) => !target.includes(b))) targets.set(store.urn, target);
    }
    const found = of(S3_BUCKET)
        .filter((b) => !logBuckets.has(b.urn))
        .map((store): Found => {
            const target = targets.get(store.urn);
            if (!target?.length) return { store, problem: "no server access logging (an s3.BucketLogging into a log bucket)" };
            const rules = of(S3_LIFECYCLE).filter((l) => target.some((t) => refersTo(l, t, "bucket", of(S3_BUCKET)))).flatMap((l) => asList(l.props.rules));
            const days = rules.filter((r) => get(r, "status") === "Enabled").map((r) => get(r, "expiration.days")).filter((d): d is number => typeof d === "number");
            if (!days.length) return { store, problem: "its access-log bucket has no lifecycle rule that expires logs (kept forever, unbounded cost)" };
            if (Math.min(...days) < min) return { store, problem: `its access logs expire after ${Math.min(...days)} days, before the backups (${min} days, policy config minRetentionDays)` };
            return { store };
        });
    return { logBuckets, found };
}

function azureLogs(resources: PolicyResource[], min: number): Found[] {
    const of = (type: string) => resources.filter((r) => r.type === type);
    return of(AZURE_ACCOUNT).map((store): Found => {
        const settings = of(AZURE_DIAGNOSTICS).filter((d) => refersTo(d, store, "resourceUri", of(AZURE_ACCOUNT)) && /\/blobServices\/default$/.test(String(known(() => d.props.resourceUri) ?? "/blobServices/default")));
        const complete = settings.filter((d) => {
            const logs = asList(d.props.logs).filter((l) => get(l, "enabled") !== false);
            return BLOB_CATEGORIES.every((c) => logs.some((l) => get(l, "category") === c || BLOB_GROUPS.includes(String(get(l, "categoryGroup")))));
        });
        if (!complete.length) return { store, problem: `no diagnostic setting on its blob service that logs ${BLOB_CATEGORIES.join(", ")}` };
        const retained = complete.some((d) => of(AZURE_WORKSPACE).some((w) => refersTo(d, w, "workspaceId", of(AZURE_WORKSPACE)) && (known(() => w.props.retentionInDays) as number) >= min));
        if (!retained) return { store, problem: `its blob access logs go to no Log Analytics workspace that keeps them ${min} days (policy config minRetentionDays)` };
        return { store };
    });
}

function gcsLogs(resources: PolicyResource[], min: number): { logBuckets: Set<string>; found: Found[] } {
    const buckets = resources.filter((r) => r.type === GCS_BUCKET);
    // Single blocks arrive as an object or a one-element list.
    const logOf = (b: PolicyResource) => {
        const logBucket = known(() => get(asList(b.props.logging)[0], "logBucket"));
        return typeof logBucket === "string" ? buckets.find((t) => t !== b && [known(() => t.props.name), known(() => t.props.id)].includes(logBucket)) : undefined;
    };
    const logBuckets = new Set(buckets.map(logOf).filter((t): t is PolicyResource => t !== undefined).map((t) => t.urn));
    const found = buckets
        .filter((b) => !logBuckets.has(b.urn))
        .map((store): Found => {
            const target = logOf(store);
            if (!target) return { store, problem: "no usage logging (logging.logBucket naming a log bucket of this stack)" };
            const ages = asList(target.props.lifecycleRules)
                .filter((r) => get(r, "action.type") === "Delete")
                .map((r) => get(r, "condition.age"))
                .filter((d): d is number => typeof d === "number");
            if (!ages.length) return { store, problem: "its log bucket has no lifecycle rule that deletes logs by age (kept forever, unbounded cost)" };
            if (Math.min(...ages) < min) return { store, problem: `its usage logs are deleted after ${Math.min(...ages)} days, before the backups (${min} days, policy config minRetentionDays)` };
            return { store };
        });
    return { logBuckets, found };
}

/** The buckets (S3, GCS) that receive a store's access logs: not backup stores themselves. */
export const accessLogBuckets = (resources: PolicyResource[]): Set<string> => new Set([...s3Logs(resources, 0).logBuckets, ...gcsLogs(resources, 0).logBuckets]);

/** Every backup store's reads, writes and deletes are logged, and the logs outlive the backups. */
export const backupAccessLogged: PlatformPolicy<StackValidationPolicy> = {
    name: "backup-access-logged",
    description: "Every backup store logs each read, write and delete (S3 server access logs, Azure blob diagnostic logs, GCS usage logs) to a place that keeps them at least minRetentionDays (default: the longest backup TTL plus the noncurrent-version days).",
    severity: "high",
    configSchema: { properties: { minRetentionDays: { type: "integer", minimum: 1, default: DEFAULTS.minRetentionDays } } },
    inspects: [S3_BUCKET, S3_LOGGING, S3_LIFECYCLE, AZURE_ACCOUNT, AZURE_DIAGNOSTICS, AZURE_WORKSPACE, GCS_BUCKET],
    validateStack: (args, report) => {
        const { minRetentionDays } = configOf(args, DEFAULTS);
        const found = [...s3Logs(args.resources, minRetentionDays).found, ...azureLogs(args.resources, minRetentionDays), ...gcsLogs(args.resources, minRetentionDays).found];
        for (const { store, problem } of found) if (problem) report(`${store.name}: backup store has ${problem}`, store.urn);
    },
};

/** Backup stores encrypt with a customer-managed key: S3 SSE-KMS with a key, Azure Key Vault through an identity, a GCS default KMS key. */
export const backupCustomerKey: PlatformPolicy<StackValidationPolicy> = {
    name: "backup-customer-managed-key",
    description: "Every backup store (not its access-log bucket) encrypts with a customer-managed key: S3 aws:kms with a key id, an Azure account keySource Microsoft.Keyvault with a key and an identity, a GCS default KMS key.",
    severity: "high",
    remediationSteps: "Production creates these itself; a stack that relaxes this (staging) says why in its stack file.",
    inspects: [S3_BUCKET, S3_LOGGING, S3_ENCRYPTION, AZURE_ACCOUNT, GCS_BUCKET],
    validateStack: (args, report) => {
        const of = (type: string) => args.resources.filter((r) => r.type === type);
        const logBuckets = accessLogBuckets(args.resources);
        for (const store of of(S3_BUCKET).filter((b) => !logBuckets.has(b.urn))) {
            const rules = of(S3_ENCRYPTION).filter((e) => refersTo(e, store, "bucket", of(S3_BUCKET))).flatMap((e) => asList(e.props.rules));
            const keyed = rules.some((r) => ["aws:kms", "aws:kms:dsse"].includes(String(get(r, "applyServerSideEncryptionByDefault.sseAlgorithm"))) && get(r, "applyServerSideEncryptionByDefault.kmsMasterKeyId") !== undefined);
            if (!keyed) report(`${store.name}: backup bucket is not encrypted with a customer-managed KMS key (sseAlgorithm aws:kms with kmsMasterKeyId)`, store.urn);
        }
        for (const store of of(AZURE_ACCOUNT)) {
            const encryption = get(store.props, "encryption");
            const keyed = get(encryption, "keySource") === "Microsoft.Keyvault" && get(encryption, "keyVaultProperties.keyName") !== undefined && get(encryption, "encryptionIdentity.encryptionUserAssignedIdentity") !== undefined;
            if (!keyed) report(`${store.name}: backup account is not encrypted with a Key Vault key through a user-assigned identity (encryption.keySource Microsoft.Keyvault)`, store.urn);
        }
        for (const store of of(GCS_BUCKET).filter((b) => !logBuckets.has(b.urn))) {
            if (get(store.props, "encryption.defaultKmsKeyName") === undefined) report(`${store.name}: backup bucket has no default Cloud KMS key (encryption.defaultKmsKeyName)`, store.urn);
        }
    },
};
