/**
 * Tenants' sign-in on AKS (Entra ID, Azure RBAC for Kubernetes): per Entra group, the Cluster
 * User role on the cluster (it lists the user kubeconfig, `az aks get-credentials`, and grants
 * no Kubernetes permission), once however many tenants name the group; and per tenant role the
 * AKS RBAC Writer or Reader role scoped to the tenant's namespace, next to the RoleBinding that
 * names the group's object ID. Both, because Microsoft's documents disagree on whether a
 * cluster with Azure RBAC honours Kubernetes bindings for Entra groups (docs/clusters.md).
 */
import * as authorization from "@pulumi/azure-native/authorization";
import { Provider } from "@pulumi/azure-native/provider";
import * as pulumi from "@pulumi/pulumi";
import { TenantAccess, TenantRole } from "../types";
import { shortHash } from "./shared";

/** Built-in roles a tenant group gets (ids are the same in every tenant); never RBAC Admin or Cluster Admin. */
export const TENANT_AZURE_ROLES = {
    /** Azure Kubernetes Service Cluster User Role: `listClusterUserCredential` only. */
    clusterUser: "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    /** Azure Kubernetes Service RBAC Writer, at namespace scope. */
    edit: "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
    /** Azure Kubernetes Service RBAC Reader, at namespace scope. */
    view: "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
} as const;

export interface AksTenantAccessArgs {
    readonly subscriptionId: string;
    /** The managed cluster's resource ID: the Cluster User role's scope, and the prefix of namespace scopes. */
    readonly clusterId: pulumi.Output<string>;
    readonly provider: Provider;
    readonly parent: pulumi.Resource;
}

const roleDefinition = (subscriptionId: string, id: string) => `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${id}`;

export class AksTenantAccess {
    private readonly clusterUsers = new Map<string, authorization.RoleAssignment>();

    /** `name` starts every assignment's name (the cluster component's name). */
    constructor(
        private readonly name: string,
        private readonly args: AksTenantAccessArgs,
    ) {}

    grant(namespace: string, role: TenantRole, groupIds: readonly string[]): TenantAccess {
        const resources = groupIds.flatMap((principalId) => [
            this.clusterUser(principalId),
            this.assign(`${this.name}-${namespace}-${role}-${shortHash(6, principalId)}`, principalId, TENANT_AZURE_ROLES[role], pulumi.interpolate`${this.args.clusterId}/namespaces/${namespace}`),
        ]);
        return { groups: [...groupIds], resources };
    }

    /** Once per group and cluster: a second assignment of the same role and scope would be refused by Azure. */
    private clusterUser(principalId: string): authorization.RoleAssignment {
        let assignment = this.clusterUsers.get(principalId);
        if (!assignment) {
            assignment = this.assign(`${this.name}-cluster-user-${shortHash(6, principalId)}`, principalId, TENANT_AZURE_ROLES.clusterUser, this.args.clusterId);
            this.clusterUsers.set(principalId, assignment);
        }
        return assignment;
    }

    private assign(name: string, principalId: string, role: string, scope: pulumi.Input<string>): authorization.RoleAssignment {
        return new authorization.RoleAssignment(
            name,
            { principalId, principalType: "Group", roleDefinitionId: roleDefinition(this.args.subscriptionId, role), scope },
            { parent: this.args.parent, provider: this.args.provider },
        );
    }
}
