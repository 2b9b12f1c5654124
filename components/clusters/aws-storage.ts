/**
 * Velero's S3 bucket. It outlives the cluster: retained on delete (and protected in
 * production), named from the stack and cluster name only, so a rebuilt cluster writes to
 * and restores from the same bucket. Each setting is its own resource, and each is retained
 * too: deleting the versioning resource would suspend versioning, deleting the public access
 * block would lift it. With a copy region, S3 replication copies every object to a second bucket
 * there, with the same settings, protected and retained the same way: the backups survive the
 * loss of the cluster's region. Every access to either bucket is logged (aws-bucket.ts); in
 * production each is encrypted with a KMS key of its own, retained like the bucket, so the
 * backups stay readable when the cluster and its keys are gone.
 */
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import { Provider } from "@pulumi/aws/provider";
import * as s3 from "@pulumi/aws/s3";
import * as pulumi from "@pulumi/pulumi";
import { BackupStorage } from "../types";
import { images } from "../versions";
import { accessLogged, attachedKeyArn, AwsAccount, backupKey, SettledBucket, settledBucket } from "./aws-bucket";
import { serviceTrust } from "./aws-identity";
import { backupBucketName, relatedBucketName } from "./shared";

export interface AwsBackupArgs {
    readonly stack: string;
    /** The cluster whose bucket this is (this cluster, or the source of a restore). */
    readonly cluster: string;
    readonly scope: string;
    readonly region: string;
    /** False to attach another cluster's existing bucket without managing it. */
    readonly create: boolean;
    readonly protect: boolean;
    /** Copy every backup to a bucket in this region (S3 replication). Default: no copy. */
    readonly copyRegion?: string;
    /** Encrypt each bucket with a customer-managed KMS key of its own (production); SSE-S3 otherwise. */
    readonly customerKey: boolean;
    readonly account: AwsAccount;
    readonly provider: Provider;
    readonly parent: pulumi.Resource;
}

/** A bucket of the store and what comes with it: its key (if any), its access log. */
interface StoreBucket extends SettledBucket {
    readonly key?: kms.Key;
    readonly region: string;
}

export function awsBackupBucket(name: string, args: AwsBackupArgs): BackupStorage {
    const bucketName = backupBucketName(args.stack, args.cluster, args.scope);
    const copyName = args.copyRegion && relatedBucketName(bucketName, args.copyRegion);
    const storage = { cluster: args.cluster, provider: "aws", config: { region: args.region }, pluginImage: images.veleroPluginAws, csiSnapshots: true };
    if (!args.create) {
        const invoke = { parent: args.parent, provider: args.provider };
        const keyOf = (bucket: string, at: { region?: string }) => (args.customerKey ? { encryptionKey: attachedKeyArn(bucket, at, invoke) } : {});
        const copy = args.copyRegion && copyName ? { copy: { bucket: copyName, config: { region: args.copyRegion }, ...keyOf(copyName, { region: args.copyRegion }) } } : {};
        // Volume data is snapshotted through CSI, so Velero needs no snapshot location of its own.
        return { ...storage, ...keyOf(bucketName, {}), ...copy, bucket: bucketName, resources: [] };
    }
    const opts = { parent: args.parent, provider: args.provider, protect: args.protect, retainOnDelete: true };
    const primary = storeBucket(name, bucketName, { cluster: args.cluster, purpose: "velero" }, args, opts);
    const own = { ...storage, bucket: primary.bucket.bucket, ...(primary.key ? { encryptionKey: primary.key.arn } : {}) };
    if (!args.copyRegion || !copyName) return { ...own, resources: primary.resources };
    const replica = storeBucket(`${name}-copy`, copyName, { cluster: args.cluster, purpose: "velero-copy" }, args, opts, args.copyRegion);
    const replication = replicate(`${name}-copy`, args.cluster, primary, replica, opts);
    const copy = { bucket: copyName, config: { region: args.copyRegion }, ...(replica.key ? { encryptionKey: replica.key.arn } : {}) };
    return { ...own, copy, resources: [...primary.resources, ...replica.resources, ...replication] };
}

/** A backup bucket with its key (production) and its access log; `region` places it outside the provider's region. */
function storeBucket(name: string, bucketName: string, tags: { cluster: string; purpose: string }, args: AwsBackupArgs, opts: pulumi.CustomResourceOptions, region?: string): StoreBucket {
    const at = region ? { region } : {};
    const key = args.customerKey ? backupKey(`${name}-key`, bucketName, at, args.account, opts) : undefined;
    const bucket = settledBucket(name, bucketName, at, { tags, key: key?.key }, opts);
    const logs = accessLogged(name, bucket, bucketName, at, tags, args.account, opts);
    return { ...bucket, key: key?.key, region: region ?? args.region, resources: [...(key?.resources ?? []), ...bucket.resources, ...logs] };
}

/**
 * S3 replication of every object, and of deletions (delete markers), from `primary` to `replica`:
 * the copy mirrors what Velero keeps, and an overwritten or deleted backup stays recoverable for
 * 30 days as a noncurrent version on both sides. Objects written before the rule exists are not
 * copied (S3 Batch Replication does that once). With keys, S3 decrypts with the source's key and
 * encrypts again with the copy's, and the role may use each key for that alone, through S3.
 */
function replicate(name: string, cluster: string, primary: StoreBucket, replica: StoreBucket, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
    const role = new iam.Role(name, { name: `${cluster}-backup-copy`, description: `S3 replication of ${cluster}'s Velero backups`, assumeRolePolicy: serviceTrust("s3.amazonaws.com") }, opts);
    const through = (region: string) => ({ StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } });
    const policy = new iam.RolePolicy(
        name,
        {
            role: role.name,
            policy: pulumi.all([primary.bucket.arn, replica.bucket.arn, primary.key?.arn, replica.key?.arn]).apply(([source, copy, sourceKey, copyKey]) =>
                JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"], Resource: [source] },
                        { Effect: "Allow", Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"], Resource: [`${source}/*`] },
                        { Effect: "Allow", Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], Resource: [`${copy}/*`] },
                        ...(sourceKey ? [{ Effect: "Allow", Action: ["kms:Decrypt"], Resource: [sourceKey], Condition: through(primary.region) }] : []),
                        // Encrypt as in S3's guide to replicating encrypted objects; GenerateDataKey for the copy's bucket key.
                        ...(copyKey ? [{ Effect: "Allow", Action: ["kms:Encrypt", "kms:GenerateDataKey"], Resource: [copyKey], Condition: through(replica.region) }] : []),
                    ],
                }),
            ),
        },
        opts,
    );
    const encrypted = replica.key
        ? { sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } }, destination: { bucket: replica.bucket.arn, storageClass: "STANDARD", encryptionConfiguration: { replicaKmsKeyId: replica.key.arn } } }
        : { destination: { bucket: replica.bucket.arn, storageClass: "STANDARD" } };
    const replication = new s3.BucketReplicationConfig(
        name,
        {
            bucket: primary.bucket.id,
            role: role.arn,
            rules: [{ id: "copy-every-backup", status: "Enabled", filter: {}, deleteMarkerReplication: { status: "Enabled" }, ...encrypted }],
        },
        // S3 refuses a replication rule until versioning is on at both ends.
        { ...opts, dependsOn: [primary.versioning, replica.versioning, policy] },
    );
    return [role, policy, replication];
}
