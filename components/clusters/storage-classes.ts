/**
 * Volume snapshots go through the cloud's CSI driver, not through Velero's cloud plugins: the
 * plugins' snapshot permissions cannot be scoped (EC2 Describe* takes no resource, Azure and
 * GCP snapshots need resource-group or project roles), while the CSI driver already holds its
 * own. Each cloud cluster therefore offers one VolumeSnapshotClass labelled for Velero.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The label Velero's CSI support uses to pick the snapshot class of a driver. */
export const VELERO_SNAPSHOT_CLASS_LABEL = "velero.io/csi-volumesnapshot-class";
export const SNAPSHOT_CLASS = "platform-csi-snapshots";

export interface StorageClassesArgs {
    /** The CSI driver that provisions the cluster's disks. */
    readonly driver: string;
    readonly provider: k8s.Provider;
    /** What must exist first (the CSI driver, the snapshot controller). */
    readonly dependsOn: pulumi.Resource[];
    /** A default StorageClass to create, where the cloud sets none (EKS). */
    readonly defaultStorageClass?: { readonly name: string; readonly parameters: Record<string, string> };
}

export function storageClasses(name: string, args: StorageClassesArgs, parent: pulumi.Resource): pulumi.Resource[] {
    const opts = { parent, provider: args.provider, dependsOn: args.dependsOn };
    const snapshotClass = new k8s.apiextensions.CustomResource(
        `${name}-snapshot-class`,
        {
            apiVersion: "snapshot.storage.k8s.io/v1",
            kind: "VolumeSnapshotClass",
            metadata: { name: SNAPSHOT_CLASS, labels: { [VELERO_SNAPSHOT_CLASS_LABEL]: "true" } },
            driver: args.driver,
            // Retain: a snapshot outlives the VolumeSnapshot object, as a backup must.
            deletionPolicy: "Retain",
        },
        opts,
    );
    if (!args.defaultStorageClass) return [snapshotClass];
    const storageClass = new k8s.storage.v1.StorageClass(
        `${name}-default-storage-class`,
        {
            metadata: { name: args.defaultStorageClass.name, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
            provisioner: args.driver,
            parameters: args.defaultStorageClass.parameters,
            reclaimPolicy: "Delete",
            allowVolumeExpansion: true,
            // The volume is created in the zone the pod lands in, never in one it cannot reach.
            volumeBindingMode: "WaitForFirstConsumer",
        },
        opts,
    );
    return [snapshotClass, storageClass];
}
