/**
 * What an AKS cluster keeps that must outlive it: Velero's storage account and container,
 * and one Key Vault per secret prefix. They live in their own resource group (`rg-<cluster>-data`)
 * because deleting the cluster's resource group would delete everything in it, retained or
 * not. Everything here is retained on delete and protected in production; names come from
 * the stack, cluster and subscription, so a rebuilt cluster finds them again.
 */
import * as keyvault from "@pulumi/azure-native/keyvault";
import { Provider } from "@pulumi/azure-native/provider";
import * as resources from "@pulumi/azure-native/resources";
import * as storage from "@pulumi/azure-native/storage";
import * as storageEnums from "@pulumi/azure-native/types/enums/storage";
import * as pulumi from "@pulumi/pulumi";
import { BackupStorage } from "../types";
import { NONCURRENT_VERSION_DAYS } from "../backup-retention";
import { images } from "../versions";
import { accountKey, blobAccessLogs } from "./azure-backup-trail";
import { PrivateLinks, storageNetwork, vaultNetwork } from "./azure-private";
import { backupBucketName, shortHash } from "./shared";

export interface AzureDataArgs {
    readonly stack: string;
    readonly subscriptionId: string;
    readonly location: string;
    readonly tenantId: pulumi.Output<string>;
    readonly production: boolean;
    /**
     * Keep a geo-redundant copy in this region, the account region's Azure pair (RA-GZRS in
     * production, RA-GRS elsewhere); readable at the account's `-secondary` endpoint. Default: none.
     */
    readonly copyRegion?: string;
    readonly provider: Provider;
    readonly parent: pulumi.Resource;
    /** Encrypt the backup account with a Key Vault key of its own (production); Microsoft-managed keys otherwise. */
    readonly customerKey: boolean;
    /** Private endpoints in the cluster's VNet: set, the vaults and the account refuse public network access. */
    readonly privateLinks?: PrivateLinks;
}

export const dataGroupName = (cluster: string) => `rg-${cluster}-data`;
/** Storage account names are global, 3-24 lower-case letters and digits. */
export const backupAccountName = (stack: string, cluster: string, subscriptionId: string) => `stvelero${shortHash(12, stack, cluster, subscriptionId)}`;
/** Key Vault names are global, 3-24 characters; one vault per prefix keeps prefixes apart. */
export const secretsVaultName = (stack: string, cluster: string, subscriptionId: string, prefix: string) => `kv-${shortHash(20, stack, cluster, subscriptionId, prefix)}`;

/** The blob container's resource ID: the scope of a backup grant. */
export const containerScope = (subscriptionId: string, group: string, account: string, container: string) =>
    `/subscriptions/${subscriptionId}/resourceGroups/${group}/providers/Microsoft.Storage/storageAccounts/${account}/blobServices/default/containers/${container}`;

export class AzureClusterData {
    private group?: resources.ResourceGroup;
    private readonly vaults = new Map<string, keyvault.Vault>();
    /** Per prefix, the private DNS record of its vault's endpoint (private clusters only). */
    private readonly reachable = new Map<string, pulumi.Output<string>>();

    constructor(
        private readonly name: string,
        private readonly cluster: string,
        private readonly args: AzureDataArgs,
    ) {}

    private options(): pulumi.CustomResourceOptions {
        return { parent: this.args.parent, provider: this.args.provider, protect: this.args.production, retainOnDelete: true };
    }

    private resourceGroup(): resources.ResourceGroup {
        this.group ??= new resources.ResourceGroup(`${this.name}-data`, { resourceGroupName: dataGroupName(this.cluster), location: this.args.location }, this.options());
        return this.group;
    }

    /** Another cluster's container (of stack `stack`), named as that stack names it, with its geo-redundant copy when it keeps one; nothing created. */
    attachedBackupStorage(stack: string, cluster: string, subscriptionId: string, copyRegion?: string): BackupStorage {
        const common = this.storageOf(stack, cluster, subscriptionId);
        const container = backupBucketName(stack, cluster, subscriptionId);
        return { ...common, ...this.copyOf(common.config, container, copyRegion), bucket: container, resources: [] };
    }

    /**
     * Azure replicates the whole account to the pair; the secondary endpoint serves reads only. With
     * `reachable` (its private endpoint's DNS zone group), a location on the copy waits for its record.
     */
    private copyOf(config: { storageAccount: string }, container: string, copyRegion: string | undefined, reachable?: pulumi.CustomResource) {
        const url = `https://${config.storageAccount}-secondary.blob.core.windows.net`;
        const storageAccountURI = reachable ? pulumi.all([url, reachable.id]).apply(([u]) => u) : url;
        return copyRegion ? { copy: { bucket: container, config: { ...config, storageAccountURI } } } : {};
    }

    private storageOf(stack: string, cluster: string, subscriptionId: string) {
        const account = backupAccountName(stack, cluster, subscriptionId);
        return {
            cluster,
            provider: "azure",
            pluginImage: images.veleroPluginAzure,
            csiSnapshots: true,
            config: {
                resourceGroup: dataGroupName(cluster),
                storageAccount: account,
                subscriptionId,
                storageAccountURI: `https://${account}.blob.core.windows.net`,
                // Entra ID tokens from the workload identity; the account accepts no shared keys.
                useAAD: "true",
            },
        };
    }

    /** Velero's container in this cluster's own account, created and retained. */
    backupStorage(): BackupStorage {
        const { stack, subscriptionId } = this.args;
        const account = backupAccountName(stack, this.cluster, subscriptionId);
        const container = backupBucketName(stack, this.cluster, subscriptionId);
        const common = this.storageOf(stack, this.cluster, subscriptionId);
        const sku = this.args.copyRegion
            ? this.args.production
                ? storageEnums.SkuName.Standard_RAGZRS
                : storageEnums.SkuName.Standard_RAGRS
            : this.args.production
              ? storageEnums.SkuName.Standard_ZRS
              : storageEnums.SkuName.Standard_LRS;
        const opts = this.options();
        const group = this.resourceGroup();
        const place = { stack, cluster: this.cluster, subscriptionId, location: this.args.location, tenantId: this.args.tenantId, groupName: group.name };
        const key = this.args.customerKey ? accountKey(`${this.name}-backup`, place, opts) : undefined;
        const microsoftKeys = { encryption: { keySource: storageEnums.KeySource.Microsoft_Storage, requireInfrastructureEncryption: true, services: { blob: { enabled: true, keyType: storageEnums.KeyType.Account } } } };
        const accountResource = new storage.StorageAccount(
            `${this.name}-backup`,
            {
                accountName: account,
                resourceGroupName: group.name,
                location: this.args.location,
                kind: storageEnums.Kind.StorageV2,
                sku: { name: sku },
                allowBlobPublicAccess: false,
                allowSharedKeyAccess: false,
                defaultToOAuthAuthentication: true,
                enableHttpsTrafficOnly: true,
                minimumTlsVersion: storageEnums.MinimumTlsVersion.TLS1_2,
                ...(key?.accountArgs ?? microsoftKeys),
                ...storageNetwork(this.args.privateLinks !== undefined),
            },
            // Storage checks at once that its identity may use the key.
            { ...opts, dependsOn: key ? [key.ready] : [] },
        );
        this.args.privateLinks?.endpoint("backup-blob", accountResource.id, "blob");
        // The copy in the paired region has an address of its own, refused on the internet like the
        // primary's: a restore from it (restore.fromCopy) reads through a second endpoint.
        const secondary = this.args.copyRegion ? this.args.privateLinks?.endpoint("backup-blob-secondary", accountResource.id, "blob_secondary") : undefined;
        const copy = this.copyOf(common.config, container, this.args.copyRegion, secondary);
        const properties = new storage.BlobServiceProperties(
            `${this.name}-backup`,
            {
                accountName: accountResource.name,
                resourceGroupName: group.name,
                blobServicesName: "default",
                isVersioningEnabled: true,
                deleteRetentionPolicy: { enabled: true, days: NONCURRENT_VERSION_DAYS },
                containerDeleteRetentionPolicy: { enabled: true, days: NONCURRENT_VERSION_DAYS },
            },
            opts,
        );
        const containerResource = new storage.BlobContainer(
            `${this.name}-backup`,
            { accountName: accountResource.name, resourceGroupName: group.name, containerName: container, publicAccess: storageEnums.PublicAccess.None },
            { ...opts, dependsOn: [properties] },
        );
        // The geo-redundant copy is this account's secondary: the same key, the same log.
        const logs = blobAccessLogs(`${this.name}-backup`, accountResource.id, place, opts);
        return { ...common, ...copy, bucket: containerResource.name, resources: [group, ...(key?.resources ?? []), accountResource, properties, containerResource, ...logs] };
    }

    /**
     * The URL of the vault of `prefix`, known only once the vault is reachable from the cluster (its
     * private endpoint's DNS record, when private): a secret store built on it waits for that.
     */
    secretsVaultUrl(prefix: string): pulumi.Output<string> {
        const uri = this.secretsVault(prefix).properties.vaultUri;
        const dns = this.reachable.get(prefix);
        return dns ? pulumi.all([uri, dns]).apply(([url]) => url) : uri;
    }

    /** The Key Vault that holds the secrets of `prefix` (names inside it carry no prefix). */
    secretsVault(prefix: string): keyvault.Vault {
        const existing = this.vaults.get(prefix);
        if (existing) return existing;
        const slug = prefix.replace(/\/+$/, "").replace(/[^a-z0-9]+/g, "-");
        const vault = new keyvault.Vault(
            `${this.name}-secrets-${slug}`,
            {
                vaultName: secretsVaultName(this.args.stack, this.cluster, this.args.subscriptionId, prefix),
                resourceGroupName: this.resourceGroup().name,
                location: this.args.location,
                properties: {
                    tenantId: this.args.tenantId,
                    sku: { family: "A", name: "standard" },
                    enableRbacAuthorization: true,
                    enableSoftDelete: true,
                    softDeleteRetentionInDays: 90,
                    enablePurgeProtection: true,
                    ...vaultNetwork(this.args.privateLinks !== undefined),
                },
                tags: { "platform.example.io/secret-prefix": slug },
            },
            this.options(),
        );
        const dns = this.args.privateLinks?.endpoint(`secrets-${slug}`, vault.id, "vault");
        if (dns) this.reachable.set(prefix, dns.id);
        this.vaults.set(prefix, vault);
        return vault;
    }
}
