/**
 * A tenant's own Flux sync. The Kustomization impersonates a ServiceAccount that holds only
 * `edit` in the tenant namespace and applies into that namespace, so whatever the tenant's
 * repository says, Flux cannot write outside it (nor create RBAC: `edit` cannot bind roles).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GitRepositoryConfig } from "../config";

/** Options of a tenant's namespaced objects: the Tenant as parent, deleted with the tenant's namespace. */
export type InNamespace = Required<Pick<pulumi.CustomResourceOptions, "parent" | "deletedWith">>;

export const GITOPS_SERVICE_ACCOUNT = "gitops-reconciler";
export const GITOPS_SOURCE = "tenant";

export interface TenantGitOpsArgs {
    /** The tenant namespace (an Output of the Namespace, so everything waits for it). */
    readonly namespace: pulumi.Input<string>;
    readonly repository: GitRepositoryConfig;
    /** Hold the sync (`suspend: true`), e.g. while a restore puts the namespace back. Default: false. */
    readonly suspend?: boolean;
    /** The Flux release, whose CRDs the sources need; undefined until the platform installs it. */
    readonly release?: pulumi.Resource;
    /** What must exist before the first sync (the namespace's quota, limits and network policies). Default: none. */
    readonly boxedInBy?: pulumi.Resource[];
}

/**
 * Creates the reconciler ServiceAccount, its binding, the GitRepository and the Kustomization.
 * @param name the Tenant's resource name, which prefixes its children's
 * @param opts the Tenant as parent (its children inherit its Kubernetes provider) and the namespace they are deleted with
 */
export function tenantGitOps(name: string, args: TenantGitOpsArgs, opts: InNamespace) {
    const { namespace, repository, suspend = false, boxedInBy = [] } = args;
    const flux = args.release ? [args.release] : [];
    const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-gitops-sa`, { metadata: { name: GITOPS_SERVICE_ACCOUNT, namespace } }, opts);
    const binding = new k8s.rbac.v1.RoleBinding(
        `${name}-gitops-binding`,
        {
            metadata: { name: `${GITOPS_SERVICE_ACCOUNT}-edit`, namespace },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
            subjects: [{ kind: "ServiceAccount", name: GITOPS_SERVICE_ACCOUNT, namespace }],
        },
        opts,
    );
    const source = new k8s.apiextensions.CustomResource(
        `${name}-gitops-source`,
        {
            apiVersion: "source.toolkit.fluxcd.io/v1",
            kind: "GitRepository",
            metadata: { name: GITOPS_SOURCE, namespace },
            spec: { interval: "5m", url: repository.url, ref: { branch: repository.branch }, suspend },
        },
        { ...opts, dependsOn: flux },
    );
    const sync = new k8s.apiextensions.CustomResource(
        `${name}-gitops-sync`,
        {
            apiVersion: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            metadata: { name: GITOPS_SOURCE, namespace },
            spec: {
                interval: "10m",
                path: repository.path,
                prune: true,
                sourceRef: { kind: "GitRepository", name: GITOPS_SOURCE },
                serviceAccountName: GITOPS_SERVICE_ACCOUNT,
                targetNamespace: namespace,
                suspend,
            },
        },
        // The first sync waits for the box: no tenant pod runs before the deny and the quota exist.
        { ...opts, dependsOn: [...flux, source, binding, ...boxedInBy] },
    );
    return { serviceAccount, binding, source, sync };
}
