/**
 * Velero's S3 bucket. It outlives the cluster: retained on delete (and protected in
 * production), named from the stack and cluster name only, so a rebuilt cluster writes to
 * and restores from the same bucket. Each setting is its own resource, and each is retained
 * too: deleting the versioning resource would suspend versioning, deleting the public access
 * block would lift it. With a copy region, S3 replication copies every object to a second bucket
 * there, with the same settings, protected and retained the same way: the backups survive the
 * loss of the cluster's region.
 */
import * as iam from "@pulumi/aws/iam";
import { Provider } from "@pulumi/aws/provider";
import * as s3 from "@pulumi/aws/s3";
import * as pulumi from "@pulumi/pulumi";
import { BackupStorage } from "../types";
import { images } from "../versions";
import { serviceTrust } from "./aws-identity";
import { backupBucketName } from "./shared";

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
    readonly provider: Provider;
    readonly parent: pulumi.Resource;
}

export function awsBackupBucket(name: string, args: AwsBackupArgs): BackupStorage {
    const bucketName = backupBucketName(args.stack, args.cluster, args.scope);
    const copyName = args.copyRegion && `${bucketName}-${args.copyRegion}`;
    const storage = { cluster: args.cluster, provider: "aws", config: { region: args.region }, pluginImage: images.veleroPluginAws, csiSnapshots: true };
    const copy = args.copyRegion && copyName ? { copy: { bucket: copyName, config: { region: args.copyRegion } } } : {};
    if (!args.create) {
        // Volume data is snapshotted through CSI, so Velero needs no snapshot location of its own.
        return { ...storage, ...copy, bucket: bucketName, resources: [] };
    }
    const opts = { parent: args.parent, provider: args.provider, protect: args.protect, retainOnDelete: true };
    const primary = backupBucket(name, bucketName, { cluster: args.cluster, purpose: "velero" }, opts);
    if (!args.copyRegion || !copyName) return { ...storage, bucket: primary.bucket.bucket, resources: primary.resources };
    const replica = backupBucket(`${name}-copy`, copyName, { cluster: args.cluster, purpose: "velero-copy" }, opts, args.copyRegion);
    const replication = replicate(`${name}-copy`, args.cluster, primary, replica, opts);
    return { ...storage, ...copy, bucket: primary.bucket.bucket, resources: [...primary.resources, ...replica.resources, ...replication] };
}

interface SettledBucket {
    readonly bucket: s3.Bucket;
    readonly versioning: s3.BucketVersioning;
    readonly resources: pulumi.Resource[];
}

/** A bucket with every setting a backup bucket has; `region` places it outside the provider's region. */
function backupBucket(name: string, bucketName: string, tags: { cluster: string; purpose: string }, opts: pulumi.CustomResourceOptions, region?: string): SettledBucket {
    const at = region ? { region } : {};
    const bucket = new s3.Bucket(name, { bucket: bucketName, forceDestroy: false, ...at, tags: { "platform.example.io/cluster": tags.cluster, "platform.example.io/purpose": tags.purpose } }, opts);
    const versioning = new s3.BucketVersioning(name, { bucket: bucket.id, ...at, versioningConfiguration: { status: "Enabled" } }, opts);
    // SSE-S3 rather than a customer key: a backup must stay readable when the cluster and its keys are gone.
    const encryption = new s3.BucketServerSideEncryptionConfiguration(name, { bucket: bucket.id, ...at, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] }, opts);
    const publicAccess = new s3.BucketPublicAccessBlock(name, { bucket: bucket.id, ...at, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, opts);
    const ownership = new s3.BucketOwnershipControls(name, { bucket: bucket.id, ...at, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
    const tlsOnly = new s3.BucketPolicy(
        name,
        {
            bucket: bucket.id,
            ...at,
            policy: bucket.arn.apply((arn) =>
                JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [arn, `${arn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
                }),
            ),
        },
        { ...opts, dependsOn: [publicAccess] },
    );
    // Old versions of overwritten or deleted backups are kept for 30 days, then cost nothing.
    const lifecycle = new s3.BucketLifecycleConfiguration(
        name,
        {
            bucket: bucket.id,
            ...at,
            rules: [
                {
                    id: "expire-noncurrent-versions",
                    status: "Enabled",
                    filter: {},
                    noncurrentVersionExpiration: { noncurrentDays: 30 },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                },
            ],
        },
        { ...opts, dependsOn: [versioning] },
    );
    return { bucket, versioning, resources: [bucket, versioning, encryption, publicAccess, ownership, tlsOnly, lifecycle] };
}

/**
 * S3 replication of every object, and of deletions (delete markers), from `primary` to `replica`:
 * the copy mirrors what Velero keeps, and an overwritten or deleted backup stays recoverable for
 * 30 days as a noncurrent version on both sides. Objects written before the rule exists are not
 * copied (S3 Batch Replication does that once).
 */
function replicate(name: string, cluster: string, primary: SettledBucket, replica: SettledBucket, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
    const role = new iam.Role(name, { name: `${cluster}-backup-copy`, description: `S3 replication of ${cluster}'s Velero backups`, assumeRolePolicy: serviceTrust("s3.amazonaws.com") }, opts);
    const policy = new iam.RolePolicy(
        name,
        {
            role: role.name,
            policy: pulumi.all([primary.bucket.arn, replica.bucket.arn]).apply(([source, copy]) =>
                JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"], Resource: [source] },
                        { Effect: "Allow", Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"], Resource: [`${source}/*`] },
                        { Effect: "Allow", Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], Resource: [`${copy}/*`] },
                    ],
                }),
            ),
        },
        opts,
    );
    const replication = new s3.BucketReplicationConfig(
        name,
        {
            bucket: primary.bucket.id,
            role: role.arn,
            rules: [{ id: "copy-every-backup", status: "Enabled", filter: {}, deleteMarkerReplication: { status: "Enabled" }, destination: { bucket: replica.bucket.arn, storageClass: "STANDARD" } }],
        },
        // S3 refuses a replication rule until versioning is on at both ends.
        { ...opts, dependsOn: [primary.versioning, replica.versioning, policy] },
    );
    return [role, policy, replication];
}
