/**
 * The backup account's own trail and key. Every blob read, write and delete of the account is
 * sent (Azure Monitor diagnostic setting) to a Log Analytics workspace kept beside the account,
 * with the account's lifetime rather than the cluster's, retained as long as the backups
 * (backup-retention.ts). In production the account encrypts with a Key Vault key of its own
 * through a user-assigned identity that may only wrap and unwrap with that key.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as monitor from "@pulumi/azure-native/monitor";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import * as storageEnums from "@pulumi/azure-native/types/enums/storage";
import * as pulumi from "@pulumi/pulumi";
import { BACKUP_ACCESS_LOG_DAYS } from "../backup-retention";
import { KEY_ROTATION_POLICY, roleDefinitionId } from "./azure-keys";
import { shortHash } from "./shared";

/** Key Vault names are global, 3-24 characters: `kvbk-` keeps it apart from the secret vaults. */
export const backupKeyVaultName = (stack: string, cluster: string, subscriptionId: string) => `kvbk-${shortHash(19, stack, cluster, subscriptionId, "backup-key")}`;

/** The blob categories of Azure Storage's resource logs: every read, write and delete. */
export const BLOB_ACCESS_LOGS = ["StorageRead", "StorageWrite", "StorageDelete"];

interface Place {
    readonly stack: string;
    readonly cluster: string;
    readonly subscriptionId: string;
    readonly location: string;
    readonly tenantId: pulumi.Output<string>;
    readonly groupName: pulumi.Input<string>;
}

/** The account's blob service logs every access to a workspace of its own, kept `BACKUP_ACCESS_LOG_DAYS`. */
export function blobAccessLogs(name: string, accountId: pulumi.Output<string>, at: Place, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
    const workspace = new operationalinsights.Workspace(
        `${name}-access-logs`,
        { workspaceName: `log-${at.cluster}-backup-access`, resourceGroupName: at.groupName, location: at.location, sku: { name: "PerGB2018" }, retentionInDays: BACKUP_ACCESS_LOG_DAYS },
        opts,
    );
    const setting = new monitor.DiagnosticSetting(
        `${name}-access-logs`,
        {
            name: "backup-access",
            resourceUri: pulumi.interpolate`${accountId}/blobServices/default`,
            workspaceId: workspace.id,
            logs: BLOB_ACCESS_LOGS.map((category) => ({ category, enabled: true })),
        },
        opts,
    );
    return [workspace, setting];
}

/**
 * A Key Vault key of the account's own, in a vault of its own beside the account (the secret
 * vaults' purpose and lifetime differ), and the identity Azure Storage uses it as. The vault's
 * firewall denies every network but Azure's trusted services, Storage among them: Storage
 * reaches the key, no one else does from anywhere, and deployments create the key through ARM.
 * Velero needs no grant on the key: Storage unwraps the account key itself for whoever the
 * container lets in. Omitting the key version makes Storage follow each rotation.
 */
export function accountKey(name: string, at: Place, opts: pulumi.CustomResourceOptions) {
    const vault = new keyvault.Vault(
        `${name}-key`,
        {
            vaultName: backupKeyVaultName(at.stack, at.cluster, at.subscriptionId),
            resourceGroupName: at.groupName,
            location: at.location,
            properties: {
                tenantId: at.tenantId,
                sku: { family: "A", name: "standard" },
                enableRbacAuthorization: true,
                enableSoftDelete: true,
                softDeleteRetentionInDays: 90,
                // Storage refuses a customer key from a vault without purge protection.
                enablePurgeProtection: true,
                networkAcls: { defaultAction: "Deny", bypass: "AzureServices", ipRules: [], virtualNetworkRules: [] },
            },
        },
        opts,
    );
    const key = new keyvault.Key(
        `${name}-key`,
        {
            keyName: "velero-backups",
            vaultName: vault.name,
            resourceGroupName: at.groupName,
            properties: {
                kty: "RSA",
                keySize: 3072,
                rotationPolicy: KEY_ROTATION_POLICY,
            },
        },
        opts,
    );
    const identity = new managedidentity.UserAssignedIdentity(`${name}-key`, { resourceName: `id-${at.cluster}-backup-key`, resourceGroupName: at.groupName, location: at.location }, opts);
    const use = new authorization.RoleAssignment(
        `${name}-key-use`,
        { principalId: identity.principalId, principalType: "ServicePrincipal", roleDefinitionId: roleDefinitionId(at.subscriptionId, "keyVaultCryptoServiceEncryptionUser"), scope: key.id },
        opts,
    );
    const accountArgs = {
        identity: { type: storageEnums.IdentityType.UserAssigned, userAssignedIdentities: [identity.id] },
        encryption: {
            keySource: storageEnums.KeySource.Microsoft_Keyvault,
            keyVaultProperties: { keyName: key.name, keyVaultUri: vault.properties.vaultUri },
            encryptionIdentity: { encryptionUserAssignedIdentity: identity.id },
            requireInfrastructureEncryption: true,
            services: { blob: { enabled: true, keyType: storageEnums.KeyType.Account } },
        },
    };
    return { accountArgs, ready: use, resources: [vault, key, identity, use] };
}
