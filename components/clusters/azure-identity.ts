/**
 * AKS workload identity: a user-assigned identity per Kubernetes service account, federated
 * with the cluster's OIDC issuer for exactly `system:serviceaccount:<ns>:<sa>`, and one role
 * assignment per grant scoped to the one resource it names (a blob container, a DNS zone, a
 * prefix's Key Vault). Never a resource group or subscription.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { Provider } from "@pulumi/azure-native/provider";
import * as pulumi from "@pulumi/pulumi";
import { IdentityGrant } from "../types";
import { AZURE_ROLES, roleDefinitionId } from "./azure-keys";
import { AzureClusterData, containerScope } from "./azure-storage";
import { CloudIdentity } from "./identity-book";

/** The token audience Entra ID expects from federated Kubernetes service accounts. */
export const AZURE_TOKEN_AUDIENCE = "api://AzureADTokenExchange";

export interface AzureIdentityArgs {
    readonly clusterName: string;
    readonly subscriptionId: string;
    readonly location: string;
    readonly resourceGroupName: pulumi.Output<string>;
    readonly issuer: pulumi.Output<string>;
    readonly tenantId: pulumi.Output<string>;
    readonly data: AzureClusterData;
    readonly provider: Provider;
}

/** A user-assigned identity for one service account, federated with the cluster's issuer; each grant adds one role assignment. */
export function azureIdentity(base: string, args: AzureIdentityArgs, namespace: string, serviceAccount: string, opts: pulumi.CustomResourceOptions): CloudIdentity {
    const childOpts = { ...opts, provider: args.provider };
    const identity = new managedidentity.UserAssignedIdentity(
        `${base}-identity`,
        { resourceName: `id-${args.clusterName}-${namespace}-${serviceAccount}`.slice(0, 128), resourceGroupName: args.resourceGroupName, location: args.location },
        childOpts,
    );
    const federation = new managedidentity.FederatedIdentityCredential(
        `${base}-federation`,
        {
            federatedIdentityCredentialResourceName: `${namespace}-${serviceAccount}`.slice(0, 120),
            resourceGroupName: args.resourceGroupName,
            resourceName: identity.name,
            issuer: args.issuer,
            subject: `system:serviceaccount:${namespace}:${serviceAccount}`,
            audiences: [AZURE_TOKEN_AUDIENCE],
        },
        childOpts,
    );
    return {
        resources: [identity, federation],
        workload: {
            serviceAccountAnnotations: { "azure.workload.identity/client-id": identity.clientId, "azure.workload.identity/tenant-id": args.tenantId },
            podLabels: { "azure.workload.identity/use": "true" },
            clientId: identity.clientId,
        },
        addGrant: (grant, at) => {
            const { role, scope } = scopeOf(grant, args);
            return [
                new authorization.RoleAssignment(
                    at.name,
                    { principalId: identity.principalId, principalType: "ServicePrincipal", roleDefinitionId: roleDefinitionId(args.subscriptionId, role), scope },
                    { ...at.opts, provider: args.provider },
                ),
            ];
        },
    };
}

/** The built-in role a grant needs and the one resource it is assigned on. */
function scopeOf(grant: IdentityGrant, args: AzureIdentityArgs): { role: keyof typeof AZURE_ROLES; scope: pulumi.Input<string> } {
    switch (grant.kind) {
        case "backupStorage": {
            const { storage } = grant;
            if (storage.provider !== "azure") throw new pulumi.RunError(`cluster ${args.clusterName}: a backup grant on AKS needs Azure blob storage, not ${storage.provider}`);
            const scope = pulumi
                .all([pulumi.output(storage.config), storage.bucket])
                .apply(([config, container]) => containerScope(config.subscriptionId, config.resourceGroup, config.storageAccount, container));
            return { role: grant.access === "readWrite" ? "storageBlobDataContributor" : "storageBlobDataReader", scope };
        }
        case "dnsZone":
            // The schema requires the zone's resource ID on Azure.
            return { role: "dnsZoneContributor", scope: grant.zone };
        case "secretsRead":
            return { role: "keyVaultSecretsUser", scope: args.data.secretsVault(grant.prefix).id };
        case "nodeGroupScaling":
            throw new pulumi.RunError(`cluster ${args.clusterName}: AKS scales its pools itself (clusters/gaps.ts); nothing asks for nodeGroupScaling here`);
    }
}
