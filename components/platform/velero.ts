/**
 * Velero: backups of the platform, the tenants and the cluster-wide objects to the cluster's
 * bucket, and the storage a disaster-recovery restore reads from.
 * Values checked against the vmware-tanzu velero chart 12.1.0 (Velero v1.18.1)
 * (vmware-tanzu/helm-charts, tag velero-12.1.0, charts/velero/values.yaml and templates/;
 * CRD fields in vmware-tanzu/velero, tag v1.18.1, pkg/apis/velero/v1/).
 *
 * The program, not the chart, owns the BackupStorageLocations, VolumeSnapshotLocation and
 * Schedules, so that a Restore can name them as dependencies and config changes show in a diff.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BACKUP_TTL_HOURS } from "../backup-retention";
import { BackupSource, BackupStorage, IdentityGrant } from "../types";
import { AddonContext, addons, systemNamespaces } from "./addons";
import { AddonArgs, fromRegistry, HelmAddon, requests } from "./helm-addon";

export const VELERO_NAMESPACE = addons.velero.namespace;
const SERVICE_ACCOUNT = "velero";
/** The location backups go to; Velero's CLI and schedules default to this name. */
export const DEFAULT_LOCATION = "default";
const CREDENTIALS_KEY = "cloud";

/** Cluster-scoped kinds the weekly backup keeps: what a rebuilt cluster needs before any namespace. */
export const CLUSTER_RESOURCES = [
    "customresourcedefinitions.apiextensions.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
    "storageclasses.storage.k8s.io",
    "validatingwebhookconfigurations.admissionregistration.k8s.io",
    "mutatingwebhookconfigurations.admissionregistration.k8s.io",
];

export interface VeleroArgs extends AddonArgs {
    /** Attach this cluster's store read-only as a second location (`clusters[].restore.source`). Default: none. */
    readonly source?: BackupSource;
    /**
     * Attach the copy outside the region of the store a restore reads (the source's, else this
     * cluster's), read-only, as location `copy-<cluster>` (`clusters[].restore.fromCopy`). Default: false.
     */
    readonly fromCopy?: boolean;
    /**
     * A restore is under way: schedules are paused (a fresh, empty backup must not become the
     * "latest" one the restore picks) and `up` waits for each location's first backup sync.
     * Default: false.
     */
    readonly restoring?: boolean;
}

export interface BackupScheduleArgs {
    /** Namespaces of the platform's add-ons (Velero's own is left out). */
    readonly platformNamespaces: string[];
    /** Also back the platform up every hour, kept 72h (`addons.velero.hourlyBackups`). Default: false. */
    readonly hourly?: boolean;
}

const containerSecurityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true };

/** The store `storage` keeps outside its region, as storage of its own; an error when it keeps none. */
function copyOf(storage: BackupStorage): BackupStorage {
    if (!storage.copy) throw new pulumi.RunError(`restore.fromCopy: the backups of ${storage.cluster} have no copy outside their region`);
    const { copy, ...rest } = storage;
    return { ...rest, bucket: copy.bucket, config: copy.config, encryptionKey: copy.encryptionKey, resources: [] };
}

export class Velero extends HelmAddon {
    /** This cluster's bucket (`backupBucket` stack output). */
    readonly storage: BackupStorage;
    /** The BackupStorageLocations (own, and the source cluster's when attached); a Restore waits for them. */
    readonly locations: k8s.apiextensions.CustomResource[];
    private readonly snapshots: boolean;
    private readonly restoring: boolean;
    private readonly secrets = new Map<string, k8s.core.v1.Secret>();

    constructor(name: string, args: VeleroArgs, opts?: pulumi.ComponentResourceOptions) {
        const { cluster } = args;
        const own = cluster.backupStorage();
        const source = args.source && cluster.backupStorage(args.source);
        const copy = args.fromCopy ? copyOf(source ?? own) : undefined;
        const grants: IdentityGrant[] = [{ kind: "backupStorage", access: "readWrite", storage: own }];
        if (source) grants.push({ kind: "backupStorage", access: "readOnly", storage: source });
        if (copy) grants.push({ kind: "backupStorage", access: "readOnly", storage: copy });
        const plugins = [...new Set([own.pluginImage, ...(source ? [source.pluginImage] : [])])];
        super(
            name,
            {
                cluster,
                ...fromRegistry(addons.velero, args),
                identity: { serviceAccount: SERVICE_ACCOUNT, grant: grants },
                values: (identity) => ({
                    initContainers: plugins.map((image, i) => ({
                        name: `velero-plugin-${i}`,
                        image,
                        imagePullPolicy: "IfNotPresent",
                        volumeMounts: [{ mountPath: "/target", name: "plugins" }],
                        securityContext: containerSecurityContext,
                        // It only copies the plugin binary into the shared volume.
                        resources: requests("10m", "32Mi"),
                    })),
                    // The image's user is named (cnb), so the kubelet can only check runAsNonRoot against a number;
                    // fsGroup lets the non-root user read a projected cloud token.
                    podSecurityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
                    containerSecurityContext,
                    // One replica: the server is a singleton (no leader election), and two would run every backup twice.
                    resources: requests("100m", "128Mi"),
                    // The pre-install/upgrade hook that applies Velero's CRDs.
                    upgradeJobResources: requests("50m", "128Mi"),
                    serviceAccount: { server: { name: SERVICE_ACCOUNT, annotations: identity?.serviceAccountAnnotations ?? {} } },
                    podLabels: identity?.podLabels ?? {},
                    // Credentials, when the store needs them, are referenced per location (spec.credential).
                    credentials: { useSecret: false },
                    backupsEnabled: false,
                    snapshotsEnabled: false,
                    configuration: {
                        defaultBackupStorageLocation: DEFAULT_LOCATION,
                        // Volume snapshots through the cluster's CSI driver and its labelled VolumeSnapshotClass.
                        ...(own.csiSnapshots ? { features: "EnableCSI" } : {}),
                        ...(own.snapshotConfig ? { defaultVolumeSnapshotLocations: `${own.provider}:${DEFAULT_LOCATION}` } : {}),
                    },
                    metrics: { enabled: true },
                }),
            },
            opts,
            "platform:addons:Velero",
        );
        this.storage = own;
        this.snapshots = own.snapshotConfig !== undefined || own.csiSnapshots;
        this.restoring = args.restoring ?? false;
        this.locations = [this.location(DEFAULT_LOCATION, own, "ReadWrite")];
        if (source) this.locations.push(this.location(`source-${source.cluster}`, source, "ReadOnly"));
        if (copy) this.locations.push(this.location(`copy-${copy.cluster}`, copy, "ReadOnly"));
        if (own.snapshotConfig) {
            this.customResource("snapshot-location", {
                apiVersion: "velero.io/v1",
                kind: "VolumeSnapshotLocation",
                metadata: { name: DEFAULT_LOCATION, namespace: this.namespace.metadata.name },
                spec: { provider: own.provider, config: own.snapshotConfig, credential: this.credential(DEFAULT_LOCATION, own) },
            });
        }
        this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status, bucket: own.bucket });
    }

    private location(locationName: string, storage: BackupStorage, accessMode: "ReadWrite" | "ReadOnly") {
        return this.customResource(`location-${locationName}`, {
            apiVersion: "velero.io/v1",
            kind: "BackupStorageLocation",
            metadata: {
                name: locationName,
                namespace: this.namespace.metadata.name,
                // A restore may only start once the backups in the bucket have been synced into the
                // cluster: Velero rejects a Restore whose backup it does not list yet (FailedValidation).
                // Outside rebuild mode no `annotations` key at all: once the block is removed the provider
                // keeps no annotations in the state, and an empty map would then be a diff on every
                // preview (seen in the DR drill, scripts/integration/dr-drill.ts).
                ...(this.restoring ? { annotations: { "pulumi.com/waitFor": "jsonpath={.status.lastSyncedTime}" } } : {}),
            },
            spec: {
                provider: storage.provider,
                objectStorage: { bucket: storage.bucket, ...(storage.prefix ? { prefix: storage.prefix } : {}) },
                config: storage.config,
                default: locationName === DEFAULT_LOCATION,
                accessMode,
                credential: this.credential(locationName, storage),
            },
        });
    }

    /** The Secret holding a location's credentials file, when its store needs one (S3-compatible stores); one per location. */
    private credential(locationName: string, storage: BackupStorage) {
        if (!storage.credentials) return undefined;
        let secret = this.secrets.get(locationName);
        if (!secret) {
            secret = new k8s.core.v1.Secret(
                `${this.addonName}-${locationName}-credentials`,
                { metadata: { name: `${locationName}-credentials`, namespace: this.namespace.metadata.name }, stringData: { [CREDENTIALS_KEY]: storage.credentials } },
                { parent: this },
            );
            this.secrets.set(locationName, secret);
        }
        // Through the Secret's output, so the location waits for its credentials.
        return secret.metadata.name.apply((name) => ({ name, key: CREDENTIALS_KEY }));
    }

    /** The four schedules; each Backup it makes lands in the default location. */
    scheduleBackups(args: BackupScheduleArgs): k8s.apiextensions.CustomResource[] {
        const platform = args.platformNamespaces.filter((ns) => ns !== VELERO_NAMESPACE);
        const schedules: { name: string; cron: string; ttl: string; template: Record<string, unknown> }[] = [
            ...(args.hourly ? [{ name: "infrastructure-hourly", cron: "15 * * * *", ttl: `${BACKUP_TTL_HOURS.hourly}h`, template: { includedNamespaces: platform } }] : []),
            { name: "infrastructure-daily", cron: "0 3 * * *", ttl: `${BACKUP_TTL_HOURS.daily}h`, template: { includedNamespaces: platform } },
            // Every namespace but the platform's and Kubernetes' own: adding or removing a tenant
            // changes no schedule, and a namespace made outside Pulumi is backed up too.
            {
                name: "tenants-daily",
                cron: "0 2 * * *",
                ttl: `${BACKUP_TTL_HOURS.daily}h`,
                template: { includedNamespaces: ["*"], excludedNamespaces: [...args.platformNamespaces, ...systemNamespaces].sort() },
            },
            {
                name: "cluster-resources-weekly",
                cron: "0 4 * * 0",
                ttl: `${BACKUP_TTL_HOURS.weekly}h`,
                template: { includedResources: CLUSTER_RESOURCES, includeClusterResources: true },
            },
        ];
        return schedules.map(({ name, cron, ttl, template }) =>
            this.customResource(
                `schedule-${name}`,
                {
                    apiVersion: "velero.io/v1",
                    kind: "Schedule",
                    metadata: { name, namespace: this.namespace.metadata.name },
                    spec: {
                        schedule: cron,
                        paused: this.restoring,
                        template: { ...template, ttl, storageLocation: DEFAULT_LOCATION, snapshotVolumes: this.snapshots },
                    },
                },
                // A backup needs somewhere to go; the schedule would fail its first run otherwise.
                { dependsOn: [this.locations[0]] },
            ),
        );
    }
}

/** The Platform's entry (addons.ts): Velero on the cluster's bucket, and the restore source's while restoring. */
export function install(name: string, { cluster, charts, clusterConfig, backupSource, restoring, addons: settings }: AddonContext, _links: object, opts?: pulumi.ComponentResourceOptions): Velero {
    return new Velero(name, { cluster, charts, extraValues: settings.velero.values, source: backupSource, fromCopy: clusterConfig.restore?.fromCopy, restoring }, opts);
}
