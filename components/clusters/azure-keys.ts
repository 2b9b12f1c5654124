/**
 * What the Azure modules share about access and keys: the built-in roles they assign (the
 * same ids in every tenant), and the rotation every Key Vault key of ours follows.
 */
import * as keyvaultEnums from "@pulumi/azure-native/types/enums/keyvault";

/** Built-in role definition ids (the same in every tenant). */
export const AZURE_ROLES = {
    storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    storageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    dnsZoneContributor: "befefa01-2a29-4197-83a8-272ff33ce314",
    keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
    keyVaultCryptoUser: "12338af0-0e69-4776-bea7-57ae8d297424",
    /** Wrap and unwrap only: what Azure Storage needs of a customer-managed key. */
    keyVaultCryptoServiceEncryptionUser: "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    keyVaultContributor: "f25e0fa2-a7c8-4377-a976-54943a77a395",
    networkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
} as const;

export const roleDefinitionId = (subscriptionId: string, role: keyof typeof AZURE_ROLES) =>
    `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${AZURE_ROLES[role]}`;

/** Rotate every 90 days; each version expires after a year, with a notice 30 days before. */
export const KEY_ROTATION_POLICY = {
    attributes: { expiryTime: "P1Y" },
    lifetimeActions: [
        { action: { type: keyvaultEnums.KeyRotationPolicyActionType.Rotate }, trigger: { timeAfterCreate: "P90D" } },
        { action: { type: keyvaultEnums.KeyRotationPolicyActionType.Notify }, trigger: { timeBeforeExpiry: "P30D" } },
    ],
};
