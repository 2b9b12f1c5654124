/**
 * Velero's S3 bucket. It outlives the cluster: retained on delete (and protected in
 * production), named from the stack and cluster name only, so a rebuilt cluster writes to
 * and restores from the same bucket. Each setting is its own resource, and each is retained
 * too: deleting the versioning resource would suspend versioning, deleting the public access
 * block would lift it.
 */
import { Provider } from "@pulumi/aws/provider";
import * as s3 from "@pulumi/aws/s3";
import * as pulumi from "@pulumi/pulumi";
import { BackupStorage } from "../types";
import { images } from "../versions";
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
    readonly provider: Provider;
    readonly parent: pulumi.Resource;
}

export function awsBackupBucket(name: string, args: AwsBackupArgs): BackupStorage {
    const bucketName = backupBucketName(args.stack, args.cluster, args.scope);
    const storage = { cluster: args.cluster, provider: "aws", config: { region: args.region }, pluginImage: images.veleroPluginAws, csiSnapshots: true };
    if (!args.create) {
        // Volume data is snapshotted through CSI, so Velero needs no snapshot location of its own.
        return { ...storage, bucket: bucketName, resources: [] };
    }
    const opts = { parent: args.parent, provider: args.provider, protect: args.protect, retainOnDelete: true };
    const bucket = new s3.Bucket(name, { bucket: bucketName, forceDestroy: false, tags: { "platform.example.io/cluster": args.cluster, "platform.example.io/purpose": "velero" } }, opts);
    const versioning = new s3.BucketVersioning(name, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, opts);
    // SSE-S3 rather than a customer key: a backup must stay readable when the cluster and its keys are gone.
    const encryption = new s3.BucketServerSideEncryptionConfiguration(name, { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] }, opts);
    const publicAccess = new s3.BucketPublicAccessBlock(name, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, opts);
    const ownership = new s3.BucketOwnershipControls(name, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
    const tlsOnly = new s3.BucketPolicy(
        name,
        {
            bucket: bucket.id,
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
    return { ...storage, bucket: bucket.bucket, resources: [bucket, versioning, encryption, publicAccess, ownership, tlsOnly, lifecycle] };
}
