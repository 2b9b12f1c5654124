/**
 * Velero's GCS bucket. It outlives the cluster: retained on delete (and protected in
 * production), named from the stack, cluster name and project, so a rebuilt cluster finds its
 * backups again. With a copy region, Storage Transfer Service replicates every new or changed
 * object (event-driven cross-bucket replication) to a second bucket there, with the same
 * settings: the backups survive the loss of the cluster's region. A bucket's location cannot
 * change, so the copy is a second bucket rather than a dual-region primary. Every request to
 * either bucket is written to a log bucket of its own (GCS usage logs), kept as long as the
 * backups; in production each bucket encrypts with a Cloud KMS key of its own (CMEK).
 */
import * as kms from "@pulumi/gcp/kms";
import { Provider } from "@pulumi/gcp/provider";
import * as storage from "@pulumi/gcp/storage";
import type { input as gcpInputs } from "@pulumi/gcp/types";
import * as pulumi from "@pulumi/pulumi";
import { BackupStorage } from "../types";
import { BACKUP_ACCESS_LOG_DAYS, LONGEST_BACKUP_DAYS, NONCURRENT_VERSION_DAYS } from "../backup-retention";
import { images } from "../versions";
import { backupBucketName, relatedBucketName } from "./shared";

export interface GcpBackupArgs {
    readonly stack: string;
    /** The cluster whose bucket this is (this cluster, or the source of a restore). */
    readonly cluster: string;
    readonly project: string;
    readonly region: string;
    /** False to attach another cluster's existing bucket without managing it. */
    readonly create: boolean;
    readonly protect: boolean;
    /** Copy every backup to a bucket in this region. Default: no copy. */
    readonly copyRegion?: string;
    /** Encrypt each bucket with a Cloud KMS key of its own (production); Google-managed keys otherwise. */
    readonly customerKey: boolean;
    /** The project's number: names the Storage Transfer Service agent. */
    readonly projectNumber: pulumi.Output<string>;
    readonly provider: Provider;
    readonly parent: pulumi.Resource;
}

/** The copy keeps objects 10 days longer than the longest backup TTL. */
const COPY_RETENTION_DAYS = LONGEST_BACKUP_DAYS + 10;

export function gcpBackupBucket(name: string, args: GcpBackupArgs): BackupStorage {
    const bucketName = backupBucketName(args.stack, args.cluster, args.project);
    const copyName = args.copyRegion && relatedBucketName(bucketName, args.copyRegion);
    const common = { cluster: args.cluster, provider: "gcp", config: { project: args.project }, pluginImage: images.veleroPluginGcp, csiSnapshots: true };
    const copy = copyName ? { copy: { bucket: copyName, config: { project: args.project } } } : {};
    if (!args.create) return { ...common, ...copy, bucket: bucketName, resources: [] };
    const opts = { parent: args.parent, provider: args.provider, protect: args.protect, retainOnDelete: true };
    const gcsAgent = args.customerKey ? storage.getProjectServiceAccountOutput({ project: args.project }, { parent: args.parent, provider: args.provider }).member : undefined;
    const store = (suffix: string, physical: string, region: string, purpose: string, extraRules: gcpInputs.storage.BucketLifecycleRule[] = []) => {
        const key = gcsAgent && storeKey(`${name}${suffix}`, physical, region, args.project, gcsAgent, opts);
        const logs = accessLogs(`${name}${suffix}`, physical, region, args.cluster, opts);
        const bucket = backupBucket(`${name}${suffix}`, physical, region, { "platform-cluster": args.cluster, purpose }, { ...opts, dependsOn: [...logs.resources, ...(key?.resources ?? [])] }, extraRules, {
            logging: { logBucket: logs.bucket.name, logObjectPrefix: `${physical}/` },
            ...(key ? { encryption: { defaultKmsKeyName: key.key.id } } : {}),
        });
        return { bucket, resources: [...(key?.resources ?? []), ...logs.resources, bucket] };
    };
    const primary = store("", bucketName, args.region, "velero");
    const bucket = primary.bucket;
    if (!args.copyRegion || !copyName) return { ...common, bucket: bucket.name, resources: primary.resources };
    // Replication does not carry deletions: the copy drops objects once every backup in them has expired.
    const copyStore = store("-copy", copyName, args.copyRegion, "velero-copy", [{ action: { type: "Delete" }, condition: { age: COPY_RETENTION_DAYS } }]);
    const replica = copyStore.bucket;
    const agent = pulumi.interpolate`serviceAccount:project-${args.projectNumber}@storage-transfer-service.iam.gserviceaccount.com`;
    const grant = (suffix: string, target: storage.Bucket, role: string) => new storage.BucketIAMMember(`${name}-copy-${suffix}`, { bucket: target.name, role, member: agent }, opts);
    // What the Storage Transfer Service agent needs: list and read the source, write the copy.
    const grants = [grant("source-reader", bucket, "roles/storage.legacyBucketReader"), grant("source-objects", bucket, "roles/storage.objectViewer"), grant("copy-writer", replica, "roles/storage.legacyBucketWriter")];
    const job = new storage.TransferJob(
        `${name}-copy`,
        {
            project: args.project,
            description: `Copy of ${bucketName} in ${args.copyRegion}`,
            replicationSpec: { gcsDataSource: { bucketName: bucket.name }, gcsDataSink: { bucketName: replica.name } },
            status: "ENABLED",
        },
        { ...opts, dependsOn: grants },
    );
    return { ...common, ...copy, bucket: bucket.name, resources: [...primary.resources, ...copyStore.resources, ...grants, job] };
}

/**
 * A bucket's own Cloud KMS key, in the bucket's region (GCS needs the key where the bucket
 * is). Only the project's GCS service agent may use it: GCS encrypts and decrypts for whoever
 * the bucket lets in, so Velero's account needs no grant on the key. Retained like the bucket.
 */
function storeKey(name: string, bucketName: string, region: string, project: string, agent: pulumi.Output<string>, opts: pulumi.CustomResourceOptions) {
    const ring = new kms.KeyRing(`${name}-keys`, { name: bucketName, location: region, project }, opts);
    const key = new kms.CryptoKey(`${name}-key`, { name: "backups", keyRing: ring.id, purpose: "ENCRYPT_DECRYPT", rotationPeriod: "7776000s" }, opts);
    const grant = new kms.CryptoKeyIAMMember(`${name}-key-gcs`, { cryptoKeyId: key.id, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: agent }, opts);
    return { key, resources: [ring, key, grant] };
}

/** Cloud Storage's log-writing group: it delivers usage logs into the log bucket. */
const STORAGE_ANALYTICS = "group:cloud-storage-analytics@google.com";

/**
 * A bucket for the usage logs of one backup bucket (every request: who, what, when), in the
 * same region, private like the store, kept `BACKUP_ACCESS_LOG_DAYS` (a log deleted early, as
 * a noncurrent version, as long). Cloud Storage's analytics group may only create objects.
 */
function accessLogs(name: string, bucketName: string, region: string, cluster: string, opts: pulumi.CustomResourceOptions) {
    const bucket = backupBucket(`${name}-logs`, relatedBucketName(bucketName, "logs"), region, { "platform-cluster": cluster, purpose: "velero-access-logs" }, opts, [], {}, BACKUP_ACCESS_LOG_DAYS);
    const writer = new storage.BucketIAMMember(`${name}-logs-writer`, { bucket: bucket.name, role: "roles/storage.objectCreator", member: STORAGE_ANALYTICS }, opts);
    return { bucket, resources: [bucket, writer] };
}

function backupBucket(
    name: string,
    bucketName: string,
    region: string,
    labels: Record<string, string>,
    opts: pulumi.CustomResourceOptions,
    extraRules: gcpInputs.storage.BucketLifecycleRule[] = [],
    extra: Pick<storage.BucketArgs, "logging" | "encryption"> = {},
    /** Delete objects this many days after they were written, and noncurrent versions as long after (log buckets). */
    expireAfterDays?: number,
): storage.Bucket {
    const noncurrentDays = expireAfterDays ?? NONCURRENT_VERSION_DAYS;
    const expire = expireAfterDays ? [{ action: { type: "Delete" }, condition: { age: expireAfterDays } }] : [];
    return new storage.Bucket(
        name,
        {
            name: bucketName,
            location: region.toUpperCase(),
            storageClass: "STANDARD",
            uniformBucketLevelAccess: true,
            publicAccessPrevention: "enforced",
            versioning: { enabled: true },
            softDeletePolicy: { retentionDurationSeconds: 7 * 24 * 3600 },
            // Old versions of overwritten or deleted objects are kept for a while, then cost nothing.
            lifecycleRules: [{ action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: noncurrentDays, withState: "ARCHIVED" } }, ...expire, ...extraRules],
            forceDestroy: false,
            labels,
            ...extra,
        },
        opts,
    );
}
