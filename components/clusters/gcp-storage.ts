/**
 * Velero's GCS bucket. It outlives the cluster: retained on delete (and protected in
 * production), named from the stack, cluster name and project, so a rebuilt cluster finds its
 * backups again. With a copy region, Storage Transfer Service replicates every new or changed
 * object (event-driven cross-bucket replication) to a second bucket there, with the same
 * settings: the backups survive the loss of the cluster's region. A bucket's location cannot
 * change, so the copy is a second bucket rather than a dual-region primary.
 */
import { Provider } from "@pulumi/gcp/provider";
import * as storage from "@pulumi/gcp/storage";
import type { input as gcpInputs } from "@pulumi/gcp/types";
import * as pulumi from "@pulumi/pulumi";
import { BackupStorage } from "../types";
import { images } from "../versions";
import { backupBucketName } from "./shared";

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
    /** The project's number: names the Storage Transfer Service agent. */
    readonly projectNumber: pulumi.Output<string>;
    readonly provider: Provider;
    readonly parent: pulumi.Resource;
}

/** The longest backup TTL is 2160h (cluster-resources-weekly, velero.ts); the copy keeps objects 10 days longer. */
const COPY_RETENTION_DAYS = 100;

export function gcpBackupBucket(name: string, args: GcpBackupArgs): BackupStorage {
    const bucketName = backupBucketName(args.stack, args.cluster, args.project);
    const copyName = args.copyRegion && `${bucketName}-${args.copyRegion}`;
    const common = { cluster: args.cluster, provider: "gcp", config: { project: args.project }, pluginImage: images.veleroPluginGcp, csiSnapshots: true };
    const copy = copyName ? { copy: { bucket: copyName, config: { project: args.project } } } : {};
    if (!args.create) return { ...common, ...copy, bucket: bucketName, resources: [] };
    const opts = { parent: args.parent, provider: args.provider, protect: args.protect, retainOnDelete: true };
    const bucket = backupBucket(name, bucketName, args.region, { "platform-cluster": args.cluster, purpose: "velero" }, opts);
    if (!args.copyRegion || !copyName) return { ...common, bucket: bucket.name, resources: [bucket] };
    // Replication does not carry deletions: the copy drops objects once every backup in them has expired.
    const replica = backupBucket(`${name}-copy`, copyName, args.copyRegion, { "platform-cluster": args.cluster, purpose: "velero-copy" }, opts, [
        { action: { type: "Delete" }, condition: { age: COPY_RETENTION_DAYS } },
    ]);
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
    return { ...common, ...copy, bucket: bucket.name, resources: [bucket, replica, ...grants, job] };
}

function backupBucket(
    name: string,
    bucketName: string,
    region: string,
    labels: Record<string, string>,
    opts: pulumi.CustomResourceOptions,
    extraRules: gcpInputs.storage.BucketLifecycleRule[] = [],
): storage.Bucket {
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
            // Old versions of overwritten or deleted backups are kept for 30 days.
            lifecycleRules: [{ action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 30, withState: "ARCHIVED" } }, ...extraRules],
            forceDestroy: false,
            labels,
        },
        opts,
    );
}
