/**
 * Where each cloud keeps the copy of a cluster's backups that must survive the loss of the
 * cluster's region (`clusters[].backupCopyRegion`; docs/disaster-recovery.md). Defaults stay in
 * the same jurisdiction (EU data stays in the EU). Azure's is not a choice: geo-redundant
 * storage replicates to the region's fixed Azure pair, so the table is that pairing.
 */
import type { Cloud, Environment } from "../config-fields";

type CopyCloud = Exclude<Cloud, "existing">;

const DEFAULT_COPY_REGION: Record<CopyCloud, Readonly<Record<string, string>>> = {
    aws: {
        "us-east-1": "us-west-2",
        "us-east-2": "us-west-2",
        "us-west-1": "us-east-1",
        "us-west-2": "us-east-1",
        "ca-central-1": "ca-west-1",
        "eu-west-1": "eu-central-1",
        "eu-west-2": "eu-west-1",
        "eu-west-3": "eu-central-1",
        "eu-central-1": "eu-west-1",
        "eu-north-1": "eu-central-1",
        "ap-southeast-1": "ap-southeast-2",
        "ap-southeast-2": "ap-southeast-1",
        "ap-northeast-1": "ap-northeast-3",
    },
    // Azure's region pairs (the GRS secondary).
    azure: {
        westeurope: "northeurope",
        northeurope: "westeurope",
        eastus: "westus",
        westus: "eastus",
        eastus2: "centralus",
        centralus: "eastus2",
        westus2: "westcentralus",
        westus3: "eastus",
        uksouth: "ukwest",
        francecentral: "francesouth",
        germanywestcentral: "germanynorth",
        swedencentral: "swedensouth",
        southeastasia: "eastasia",
        australiaeast: "australiasoutheast",
        japaneast: "japanwest",
    },
    gcp: {
        "europe-west4": "europe-west1",
        "europe-west1": "europe-west4",
        "europe-west3": "europe-west4",
        "europe-north1": "europe-west1",
        "us-central1": "us-east1",
        "us-east1": "us-central1",
        "us-east4": "us-central1",
        "us-west1": "us-central1",
        "asia-southeast1": "asia-east1",
        "asia-east1": "asia-southeast1",
        "asia-northeast1": "asia-northeast2",
    },
};

/** The region the table pairs with `region` on `cloud`, if any. */
export const pairedRegion = (cloud: CopyCloud, region: string): string | undefined => DEFAULT_COPY_REGION[cloud][region];

/**
 * The region of a cluster's backup copy, or undefined for none: `backupCopyRegion` when set
 * (`false`: none), else the paired region, except in the local environment.
 */
export function backupCopyRegion(cluster: { cloud: CopyCloud; region: string; backupCopyRegion?: string | false }, environment: Environment): string | undefined {
    if (cluster.backupCopyRegion === false) return undefined;
    if (cluster.backupCopyRegion !== undefined) return cluster.backupCopyRegion;
    return environment === "local" ? undefined : pairedRegion(cluster.cloud, cluster.region);
}
