/**
 * A tenant's way to its secrets: its own ServiceAccount, a cloud identity that may read only
 * `tenants/<name>/`, and a namespaced SecretStore that authenticates as it. The platform's
 * ClusterSecretStore is not offered to tenant namespaces (its owner restricts it).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformCluster } from "../types";
import { InNamespace } from "./gitops";

export const SECRETS_SERVICE_ACCOUNT = "tenant-secrets";
export const SECRET_STORE = "tenant-secrets";
export const secretPrefixFor = (tenant: string) => `tenants/${tenant}/`;

export interface TenantSecretsArgs {
    readonly tenant: string;
    /** The tenant namespace (an Output of the Namespace, so everything waits for it). */
    readonly namespace: pulumi.Input<string>;
    readonly cluster: PlatformCluster;
    /** The External Secrets release, whose CRDs the SecretStore needs; undefined until the platform installs it. */
    readonly release?: pulumi.Resource;
}

/**
 * Creates the tenant's secrets ServiceAccount and SecretStore.
 * @param name the Tenant's resource name, which prefixes its children's
 * @param opts the Tenant as parent (its children inherit its Kubernetes provider) and the namespace they are deleted with
 */
export function tenantSecrets(name: string, args: TenantSecretsArgs, opts: InNamespace) {
    const { tenant, cluster } = args;
    const prefix = secretPrefixFor(tenant);
    // Owned by the cluster, like every cloud identity: it knows which cloud provider makes it.
    const identity = cluster.workloadIdentity(tenant, SECRETS_SERVICE_ACCOUNT, { kind: "secretsRead", prefix });
    const serviceAccount = new k8s.core.v1.ServiceAccount(
        `${name}-secrets-sa`,
        { metadata: { name: SECRETS_SERVICE_ACCOUNT, namespace: args.namespace, annotations: identity.serviceAccountAnnotations } },
        { ...opts, dependsOn: identity.resources },
    );
    // No namespace: a namespaced SecretStore finds the account in its own.
    const provider = cluster.secretStoreProvider({ name: SECRETS_SERVICE_ACCOUNT }, prefix);
    const store = new k8s.apiextensions.CustomResource(
        `${name}-secret-store`,
        {
            apiVersion: "external-secrets.io/v1",
            kind: "SecretStore",
            metadata: { name: SECRET_STORE, namespace: args.namespace },
            spec: { provider },
        },
        { ...opts, dependsOn: [serviceAccount, ...identity.resources, ...(args.release ? [args.release] : [])] },
    );
    return { serviceAccount, store };
}
