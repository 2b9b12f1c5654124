import { PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { asList, byType, Check, get, known, PlatformPolicy } from "../util";
import { accessLogBuckets } from "./backup-trail";

// The program creates storage only for Velero backups and their access logs (backup-trail.ts): every
// bucket here is a backup bucket or a log bucket, and both are kept the same way.
const AWS_BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const AWS_VERSIONING = ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"];
const AWS_ENCRYPTION = [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
const AWS_PUBLIC_ACCESS_BLOCK = ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"];
const AZURE_ACCOUNT = "azure-native:storage:StorageAccount";
const AZURE_BLOB_SERVICE = ["azure-native:storage:BlobServiceProperties"];
const GCP_BUCKET = "gcp:storage/bucket:Bucket";

/**
 * A destroy or a replacement must not take the backups with it. `retainOnDelete` is not among
 * the options @pulumi/policy 1.21 receives from the engine (only `protect` is), so the engine
 * sees `protect`; the offline runner (policy/offline.ts) also passes retainOnDelete from the render.
 */
function retained(props: Record<string, any>, args: ResourceValidationArgs, report: ReportViolation) {
    const opts = args.opts as ResourceValidationArgs["opts"] & { retainOnDelete?: boolean };
    if (opts.retainOnDelete === false) report(`${args.name}: backup storage is not retainOnDelete: deleting the stack or the cluster would delete the backups`);
    if (!opts.protect) report(`${args.name}: backup storage is not protected: a destroy or a replacement would delete it`);
    if (props.forceDestroy === true) report(`${args.name}: forceDestroy lets a delete empty the bucket; remove it`);
}

const checks: Record<string, Check> = {
    ...Object.fromEntries(AWS_BUCKETS.map((t) => [t, retained])),
    ...Object.fromEntries(
        AWS_VERSIONING.map((t) => [t, ((props, args, report) => {
            if (get(props, "versioningConfiguration.status") !== "Enabled") report(`${args.name}: bucket versioning is not Enabled: an overwrite or delete would lose backups`);
        }) as Check]),
    ),
    ...Object.fromEntries(
        AWS_ENCRYPTION.map((t) => [t, ((props, args, report) => {
            const algorithms = asList(props.rules).map((r) => get(r, "applyServerSideEncryptionByDefault.sseAlgorithm"));
            if (!algorithms.some((a) => a === "aws:kms" || a === "aws:kms:dsse" || a === "AES256")) report(`${args.name}: no default server-side encryption rule`);
        }) as Check]),
    ),
    ...Object.fromEntries(
        AWS_PUBLIC_ACCESS_BLOCK.map((t) => [t, ((props, args, report) => {
            const open = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].filter((k) => props[k] !== true);
            if (open.length) report(`${args.name}: public access is not fully blocked (${open.join(", ")} not true)`);
        }) as Check]),
    ),
    [AZURE_ACCOUNT]: (props, args, report) => {
        retained(props, args, report);
        if (props.allowBlobPublicAccess !== false) report(`${args.name}: set allowBlobPublicAccess: false`);
        if (props.enableHttpsTrafficOnly === false) report(`${args.name}: enableHttpsTrafficOnly is false`);
        if (["TLS1_0", "TLS1_1"].includes(props.minimumTlsVersion)) report(`${args.name}: minimumTlsVersion ${props.minimumTlsVersion} is below TLS1_2`);
        // Azure Storage encrypts at rest always; a customer key is optional.
    },
    "azure-native:storage:BlobServiceProperties": (props, args, report) => {
        if (props.isVersioningEnabled !== true) report(`${args.name}: blob versioning is off; set isVersioningEnabled: true`);
    },
    "azure-native:storage:BlobContainer": (props, args, report) => {
        if (props.publicAccess !== undefined && props.publicAccess !== "None") report(`${args.name}: container publicAccess is ${props.publicAccess}; use None`);
    },
    [GCP_BUCKET]: (props, args, report) => {
        retained(props, args, report);
        if (get(asList(props.versioning)[0], "enabled") !== true) report(`${args.name}: set versioning.enabled: true`);
        if (props.uniformBucketLevelAccess !== true) report(`${args.name}: set uniformBucketLevelAccess: true (no per-object ACLs)`);
        if (props.publicAccessPrevention !== "enforced") report(`${args.name}: set publicAccessPrevention: enforced`);
        // GCS encrypts at rest always; a customer key is optional.
    },
};

/** Backup storage is versioned, encrypted, not public, and survives a destroy (per resource). */
export const backupBucketSettings: PlatformPolicy<ResourceValidationPolicy> = {
    name: "backup-bucket-settings",
    description: "Backup buckets are versioned, encrypted, not public, protected and retained on delete.",
    severity: "critical",
    ...byType(checks),
};

/**
 * Volumes are snapshotted through CSI (the drivers hold their own rights). A VolumeSnapshotLocation
 * means Velero's cloud plugin snapshots, which need EC2 `Describe*` on `*`, or snapshot rights on a
 * whole resource group or project.
 */
export const veleroSnapshotsThroughCsi: PlatformPolicy<ResourceValidationPolicy> = {
    name: "velero-snapshots-through-csi",
    description: "Velero snapshots volumes through CSI: no VolumeSnapshotLocation (cloud plugin snapshots need account-wide rights).",
    severity: "high",
    remediationSteps: "Leave BackupStorage.snapshotConfig undefined; offer a VolumeSnapshotClass labelled velero.io/csi-volumesnapshot-class and set csiSnapshots: true.",
    ...byType({
        "kubernetes:velero.io/v1:VolumeSnapshotLocation": (_props, args, report) =>
            report(`${args.name}: a VolumeSnapshotLocation turns on the cloud plugin's snapshots, which need account-wide rights; snapshot volumes through CSI instead`),
    }),
};

/** True when `companion` configures `bucket`: it depends on it, or names it. */
function configures(companion: PolicyResource, bucket: PolicyResource): boolean {
    if (companion.dependencies.some((d) => d.urn === bucket.urn)) return true;
    if (Object.values(companion.propertyDependencies ?? {}).some((deps) => deps.some((d) => d.urn === bucket.urn))) return true;
    const target = known(() => companion.props.bucket ?? companion.props.accountName);
    const names = [known(() => bucket.props.bucket), known(() => bucket.props.id), known(() => bucket.props.accountName)];
    return typeof target === "string" && names.includes(target);
}

/**
 * On AWS and Azure, versioning, encryption and public access are separate resources: a bucket
 * without them passes the per-resource check. This stack check requires them to exist.
 */
export const backupBucketComplete: PlatformPolicy<StackValidationPolicy> = {
    name: "backup-bucket-complete",
    description: "Every S3 backup bucket has versioning, default encryption and a public access block; every storage account has blob versioning.",
    severity: "critical",
    inspects: [...AWS_BUCKETS, ...AWS_VERSIONING, ...AWS_ENCRYPTION, ...AWS_PUBLIC_ACCESS_BLOCK, AZURE_ACCOUNT, ...AZURE_BLOB_SERVICE],
    validateStack: (args, report) => {
        const ofTypes = (types: string[]) => args.resources.filter((r) => types.includes(r.type));
        const require = (bucket: PolicyResource, types: string[], what: string) => {
            if (!ofTypes(types).some((c) => configures(c, bucket))) report(`${bucket.name}: backup bucket has no ${what}`, bucket.urn);
        };
        for (const bucket of ofTypes(AWS_BUCKETS)) {
            require(bucket, AWS_VERSIONING, "BucketVersioning");
            require(bucket, AWS_ENCRYPTION, "BucketServerSideEncryptionConfiguration");
            require(bucket, AWS_PUBLIC_ACCESS_BLOCK, "BucketPublicAccessBlock");
        }
        for (const account of ofTypes([AZURE_ACCOUNT])) require(account, AZURE_BLOB_SERVICE, "BlobServiceProperties (blob versioning)");
    },
};

const AWS_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig";
const GCP_TRANSFER = "gcp:storage/transferJob:TransferJob";
/** Azure SKUs that keep a copy in the paired region. */
const GEO_REDUNDANT = ["Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS"];
const COPY_PURPOSE = "velero-copy";

/** The `purpose` a backup bucket is tagged (S3) or labelled (GCS) with. */
const tagOf = (bucket: PolicyResource, tag: string): unknown => known(() => (bucket.props.tags as Record<string, unknown> | undefined)?.[tag]);
const purposeOf = (bucket: PolicyResource): unknown => tagOf(bucket, "platform.example.io/purpose") ?? known(() => get(bucket.props, "labels.purpose"));
const clusterOf = (bucket: PolicyResource): unknown => tagOf(bucket, "platform.example.io/cluster") ?? known(() => get(bucket.props, "labels.platform-cluster"));

/** `resource` names `bucket` in a property, or depends on it. */
function refersTo(resource: PolicyResource, bucket: PolicyResource, nameAt: string): boolean {
    if (resource.dependencies.some((d) => d.urn === bucket.urn)) return true;
    if (Object.values(resource.propertyDependencies ?? {}).some((deps) => deps.some((d) => d.urn === bucket.urn))) return true;
    const named = known(() => get(resource.props, nameAt));
    return typeof named === "string" && [known(() => bucket.props.bucket), known(() => bucket.props.name)].includes(named);
}

/**
 * A region can be lost with everything in it: every backup store keeps a copy outside its
 * region (docs/disaster-recovery.md). S3: an enabled replication rule to a copy bucket placed in
 * another region; Azure: a geo-redundant SKU; GCS: a copy bucket in another location that a
 * Storage Transfer Service job replicates into.
 */
export const backupCopyOutsideRegion: PlatformPolicy<StackValidationPolicy> = {
    name: "backup-copy-outside-region",
    description: "Every backup store keeps a copy outside its region: S3 replication, geo-redundant Azure storage, a replicated GCS copy bucket.",
    severity: "high",
    remediationSteps: "Set clusters[].backupCopyRegion (or keep its default, the region's pair); false only where losing the region may lose the backups.",
    inspects: [...AWS_BUCKETS, AWS_REPLICATION, AZURE_ACCOUNT, GCP_BUCKET, GCP_TRANSFER],
    validateStack: (args, report) => {
        const ofTypes = (types: string[]) => args.resources.filter((r) => types.includes(r.type));
        // A log bucket is not a store: its loss loses no backup.
        const logBuckets = accessLogBuckets(args.resources);
        const stores = (types: string[]) => ofTypes(types).filter((b) => purposeOf(b) !== COPY_PURPOSE && !logBuckets.has(b.urn));
        const copies = (types: string[], of: PolicyResource) => ofTypes(types).filter((b) => purposeOf(b) === COPY_PURPOSE && clusterOf(b) === clusterOf(of));
        for (const bucket of stores(AWS_BUCKETS)) {
            const replicas = copies(AWS_BUCKETS, bucket).filter((c) => typeof known(() => c.props.region) === "string" && c.props.region !== known(() => bucket.props.region));
            const rules = ofTypes([AWS_REPLICATION]).filter((r) => refersTo(r, bucket, "bucket")).flatMap((r) => asList(r.props.rules));
            if (!replicas.length || !rules.some((rule) => get(rule, "status") === "Enabled")) {
                report(`${bucket.name}: backups have no copy outside the bucket's region (an enabled S3 replication rule to a bucket in another region)`, bucket.urn);
            }
        }
        for (const account of ofTypes([AZURE_ACCOUNT])) {
            const sku = known(() => get(account.props, "sku.name"));
            if (typeof sku === "string" && !GEO_REDUNDANT.includes(sku)) report(`${account.name}: storage SKU ${sku} keeps no copy outside the region; use ${GEO_REDUNDANT.join(", ")}`, account.urn);
        }
        for (const bucket of stores([GCP_BUCKET])) {
            const elsewhere = copies([GCP_BUCKET], bucket).filter((c) => known(() => c.props.location) !== known(() => bucket.props.location));
            const fed = elsewhere.some((c) => ofTypes([GCP_TRANSFER]).some((job) => refersTo(job, bucket, "replicationSpec.gcsDataSource.bucketName") && refersTo(job, c, "replicationSpec.gcsDataSink.bucketName")));
            if (!fed) report(`${bucket.name}: backups have no copy outside the bucket's location (a copy bucket elsewhere that a Storage Transfer Service replication job feeds)`, bucket.urn);
        }
    },
};
