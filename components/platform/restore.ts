/**
 * DR rebuild mode (a cluster's `restore` block): after the rebuilt cluster's platform is up,
 * one Velero Restore puts back what a backup holds (tenant workloads, their data, platform
 * state). Restore fields checked against Velero v1.18.1 (pkg/apis/velero/v1/restore_types.go,
 * pkg/controller/restore_controller.go).
 *
 * Ordering is what makes the restore land: Velero skips objects that already exist
 * (existingResourcePolicy "none"), so everything Pulumi owns is created first and stays
 * Pulumi's. The Restore waits for
 *   - Velero's release and every BackupStorageLocation, each of which `up` holds until
 *     Velero has synced the bucket's backups into the cluster (velero.ts): Velero rejects a
 *     Restore whose backup (or schedule's latest backup) it does not list yet;
 *   - every other add-on, so restored objects find their CRDs, webhooks and issuers.
 * Tenants' boxes (namespace, quota, policies, RBAC) are created at the start of the run, long
 * before. Their SecretStore and Flux objects wait on releases like the Restore does, so the
 * Restore leaves those kinds to Pulumi instead of racing it.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { RestoreConfig } from "../config";
import { VELERO_NAMESPACE, Velero } from "./velero";

/** Kinds Pulumi creates in tenant namespaces once a release is up (components/tenancy/). */
export const LEFT_TO_PULUMI = ["secretstores.external-secrets.io", "gitrepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io"];

export interface RestoreArgs {
    readonly restore: RestoreConfig;
    /** Everything else the platform installs (add-on components, releases); the Restore starts after them. Default: none. */
    readonly after?: pulumi.Resource[];
    /** How long `up` waits for the restore to complete. Default: 2h (the full-rebuild RTO is 4h). */
    readonly timeout?: string;
}

/** The Restore of `velero`, under it in the resource tree. */
export function restoreFromBackup(velero: Velero, args: RestoreArgs): k8s.apiextensions.CustomResource {
    const { backupName, schedule } = args.restore;
    return velero.customResource(
        "restore",
        {
            apiVersion: "velero.io/v1",
            kind: "Restore",
            metadata: {
                // No name: Pulumi generates a fresh one per restore, so a retained earlier Restore never collides.
                namespace: velero.namespace.metadata.name,
                // `up` returns when the restore has completed: the runbook's signal to remove the block.
                annotations: { "pulumi.com/waitFor": "jsonpath={.status.phase}=Completed" },
            },
            spec: {
                // `scheduleName` makes Velero pick that schedule's latest completed backup.
                ...(backupName ? { backupName } : { scheduleName: schedule }),
                excludedNamespaces: [VELERO_NAMESPACE],
                excludedResources: LEFT_TO_PULUMI,
                existingResourcePolicy: "none",
                restorePVs: true,
            },
        },
        {
            dependsOn: [...velero.locations, ...(args.after ?? [])],
            // Another backup is another restore: a new object, not an edit Velero would ignore.
            replaceOnChanges: ["spec"],
            // Removing the block ends rebuild mode; the finished Restore stays as the record of what was put back.
            retainOnDelete: true,
            customTimeouts: { create: args.timeout ?? "2h" },
        },
    );
}
