/**
 * The S3 pieces a backup store is made of: a bucket with every setting a store of record has
 * (versioned, encrypted, public access blocked, owner-enforced, TLS only, old versions
 * expired), the KMS key a production store encrypts with, and the server access log of a
 * store, delivered to a log bucket of its own in the store's region and kept as long as the
 * backups (backup-retention.ts).
 */
import * as kms from "@pulumi/aws/kms";
import * as s3 from "@pulumi/aws/s3";
import * as pulumi from "@pulumi/pulumi";
import { BACKUP_ACCESS_LOG_DAYS, NONCURRENT_VERSION_DAYS } from "../backup-retention";
import { relatedBucketName } from "./shared";

/** The account a store lives in: its root administers the store's key, and only its buckets may log. */
export interface AwsAccount {
    readonly partition: pulumi.Output<string>;
    readonly accountId: pulumi.Output<string>;
}

export interface SettledBucket {
    readonly bucket: s3.Bucket;
    readonly versioning: s3.BucketVersioning;
    readonly resources: pulumi.Resource[];
}

interface BucketSettings {
    /** Tags `platform.example.io/cluster` and `/purpose`. */
    readonly tags: { cluster: string; purpose: string };
    /** Default encryption with this customer-managed key; SSE-S3 without. */
    readonly key?: kms.Key;
    /** Statements the bucket policy adds to the TLS-only denial, given the bucket's ARN. */
    readonly statements?: (arn: string) => pulumi.Input<object[]>;
    /** Also delete current objects this many days after they were written (log buckets). */
    readonly expireAfterDays?: number;
}

type At = { region?: string };

/** A bucket with every setting a backup store has; `at.region` places it outside the provider's region. */
export function settledBucket(name: string, bucketName: string, at: At, settings: BucketSettings, opts: pulumi.CustomResourceOptions): SettledBucket {
    const bucket = new s3.Bucket(
        name,
        { bucket: bucketName, forceDestroy: false, ...at, tags: { "platform.example.io/cluster": settings.tags.cluster, "platform.example.io/purpose": settings.tags.purpose } },
        opts,
    );
    const versioning = new s3.BucketVersioning(name, { bucket: bucket.id, ...at, versioningConfiguration: { status: "Enabled" } }, opts);
    const byDefault = settings.key ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: settings.key.arn } : { sseAlgorithm: "AES256" };
    // The bucket key makes S3 ask KMS for a data key per bucket and hour, not per object: KMS requests cost.
    const encryption = new s3.BucketServerSideEncryptionConfiguration(name, { bucket: bucket.id, ...at, rules: [{ applyServerSideEncryptionByDefault: byDefault, bucketKeyEnabled: true }] }, opts);
    const publicAccess = new s3.BucketPublicAccessBlock(name, { bucket: bucket.id, ...at, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, opts);
    const ownership = new s3.BucketOwnershipControls(name, { bucket: bucket.id, ...at, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
    const policy = bucket.arn.apply((arn) =>
        pulumi.output(settings.statements?.(arn) ?? []).apply((extra) =>
            JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [arn, `${arn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }, ...extra],
            }),
        ),
    );
    const tlsOnly = new s3.BucketPolicy(name, { bucket: bucket.id, ...at, policy }, { ...opts, dependsOn: [publicAccess] });
    const expire = settings.expireAfterDays ? { expiration: { days: settings.expireAfterDays } } : {};
    // Old versions of overwritten or deleted objects are kept for a while, then cost nothing; a
    // log deleted early is kept as long as it would have lived.
    const noncurrentDays = settings.expireAfterDays ?? NONCURRENT_VERSION_DAYS;
    const lifecycle = new s3.BucketLifecycleConfiguration(
        name,
        {
            bucket: bucket.id,
            ...at,
            rules: [
                {
                    id: settings.expireAfterDays ? "expire-logs" : "expire-noncurrent-versions",
                    status: "Enabled",
                    filter: {},
                    ...expire,
                    noncurrentVersionExpiration: { noncurrentDays },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                },
            ],
        },
        { ...opts, dependsOn: [versioning] },
    );
    return { bucket, versioning, resources: [bucket, versioning, encryption, publicAccess, ownership, tlsOnly, lifecycle] };
}

/**
 * A store's own KMS key, named `alias/<bucket>` so that a restore in another stack finds it.
 * The key policy names the account root alone: IAM policies then grant the key, one role and
 * one use at a time (Velero's role, the replication role), and no service may use it directly.
 */
export function backupKey(name: string, bucketName: string, at: At, account: AwsAccount, opts: pulumi.CustomResourceOptions): { key: kms.Key; resources: pulumi.Resource[] } {
    const policy = pulumi.all([account.partition, account.accountId]).apply(([partition, id]) =>
        JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Sid: "AccountRootDelegatesToIam", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${id}:root` }, Action: "kms:*", Resource: "*" }],
        }),
    );
    const key = new kms.Key(
        name,
        { description: `Velero backups in ${bucketName}`, ...at, enableKeyRotation: true, rotationPeriodInDays: 365, deletionWindowInDays: 30, policy, tags: { "platform.example.io/backup-store": bucketName } },
        opts,
    );
    const alias = new kms.Alias(name, { name: `alias/${bucketName}`, ...at, targetKeyId: key.keyId }, opts);
    return { key, resources: [key, alias] };
}

/**
 * The key of a store another stack made (a restore source, or its copy), found by its alias.
 * Only a production stack looks: its stores, and those it restores from, have one.
 */
export function attachedKeyArn(bucketName: string, at: At, opts: pulumi.InvokeOutputOptions): pulumi.Output<string> {
    return kms.getAliasOutput({ name: `alias/${bucketName}`, ...at }, opts).targetKeyArn;
}

/**
 * S3 server access logging of `store` into a log bucket of its own, in the same region and
 * account (S3 delivers nowhere else), kept `BACKUP_ACCESS_LOG_DAYS`. The log bucket is
 * encrypted with SSE-S3 even where the store has a KMS key: S3 cannot deliver access logs to a
 * bucket whose default encryption is SSE-KMS. Only S3's logging service may write to it, and
 * only for this store of this account.
 */
export function accessLogged(name: string, store: SettledBucket, bucketName: string, at: At, tags: { cluster: string }, account: AwsAccount, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
    const statements = (arn: string) =>
        pulumi.all([store.bucket.arn, account.accountId]).apply(([source, id]) => [
            {
                Sid: "S3ServerAccessLogs",
                Effect: "Allow",
                Principal: { Service: "logging.s3.amazonaws.com" },
                Action: "s3:PutObject",
                Resource: `${arn}/*`,
                Condition: { ArnLike: { "aws:SourceArn": source }, StringEquals: { "aws:SourceAccount": id } },
            },
        ]);
    const logs = settledBucket(`${name}-logs`, relatedBucketName(bucketName, "logs"), at, { tags: { cluster: tags.cluster, purpose: "velero-access-logs" }, statements, expireAfterDays: BACKUP_ACCESS_LOG_DAYS }, opts);
    const logging = new s3.BucketLogging(
        name,
        // By name (an S3 bucket's id is its name): a reader of the plan sees which bucket logs where.
        { bucket: store.bucket.bucket, ...at, targetBucket: logs.bucket.bucket, targetPrefix: `${bucketName}/`, targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: "EventTime" } } },
        { ...opts, dependsOn: logs.resources },
    );
    return [...logs.resources, logging];
}
