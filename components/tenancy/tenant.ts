import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { TenantConfig } from "../config";
import { PlatformCluster } from "../types";
import { tenantGitOps } from "./gitops";
import { networkPolicySpecs } from "./network-policies";
import { tenantSecrets } from "./secrets";

export interface TenantArgs {
    readonly config: TenantConfig;
    readonly cluster: PlatformCluster;
    /** Releases whose CRDs the tenant's custom resources need. */
    readonly platformReleases: { externalSecrets?: k8s.helm.v3.Release; flux?: k8s.helm.v3.Release };
    /** Hold the tenant's GitOps sync (Flux `suspend`) while the cluster restores from backup. Default: false. */
    readonly suspendGitOps?: boolean;
}

export const TENANT_LABEL = "platform.example.io/tenant";
/** Built-in ClusterRoles a tenant group may hold; `admin` would let the tenant rewrite its own RBAC. */
export const TENANT_ROLES = ["edit", "view"] as const;

/**
 * The labels the platform sets on a tenant namespace. They win over the tenant's own labels
 * (which the schema already keeps off these prefixes), so config cannot loosen Pod Security.
 * @param tenant the tenant's name, which is also its namespace
 * @param extra the tenant's own labels from config. Default: none.
 */
export function namespaceLabels(tenant: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
        ...extra,
        [TENANT_LABEL]: tenant,
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        // Flux's multi-tenancy lockdown keys cross-namespace checks on it.
        "toolkit.fluxcd.io/tenant": tenant,
    };
}

/** One tenant on one cluster: a namespace boxed in for compute, network, API and secrets. */
export class Tenant extends pulumi.ComponentResource {
    readonly namespace: k8s.core.v1.Namespace;

    constructor(name: string, args: TenantArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:tenancy:Tenant", name, {}, opts);
        try {
            this.namespace = this.build(name, args);
        } catch (err) {
            throw withContext(err, `tenant ${args.config.name} on cluster ${args.cluster.name}`);
        }
        this.registerOutputs({ namespace: this.namespace.metadata.name });
    }

    private build(name: string, args: TenantArgs): k8s.core.v1.Namespace {
        const { config, cluster, platformReleases } = args;
        const ns = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: config.name, labels: namespaceLabels(config.name, config.labels) } }, { parent: this });
        // Every child names the namespace through this Output, so each waits for it.
        const namespace = ns.metadata.name;
        // Deleting a namespace deletes what is in it: when the tenant goes, the engine deletes the
        // namespace alone, one API call and one wait instead of one per object (docs/performance.md).
        const parent = { parent: this, deletedWith: ns };

        const quota = new k8s.core.v1.ResourceQuota(`${name}-quota`, { metadata: { name: "tenant-quota", namespace }, spec: { hard: config.quota } }, parent);
        const limits = new k8s.core.v1.LimitRange(
            `${name}-limits`,
            { metadata: { name: "tenant-limits", namespace }, spec: { limits: [{ type: "Container", defaultRequest: config.limits.defaultRequest, default: config.limits.default }] } },
            parent,
        );
        const specs = networkPolicySpecs({ privateRanges: cluster.privateRanges, allowPrivateEgress: config.allowPrivateEgress });
        const policies = Object.entries(specs).map(
            ([role, spec]) => new k8s.networking.v1.NetworkPolicy(`${name}-netpol-${role}`, { metadata: { name: role, namespace }, spec }, parent),
        );

        for (const role of TENANT_ROLES) {
            // The cluster turns its cloud's groups into RBAC subjects, and lets those people sign in.
            const access = cluster.tenantAccess(config.name, role, config.groups[role]);
            if (!access.groups.length) continue;
            new k8s.rbac.v1.RoleBinding(
                `${name}-${role}`,
                {
                    metadata: { name: `tenant-${role}`, namespace },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
                    subjects: access.groups.map((group) => ({ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: group })),
                },
                // After what lets those people in: the binding's dependencies show the whole path.
                { ...parent, dependsOn: access.resources },
            );
        }

        if (config.gitops) {
            tenantGitOps(
                name,
                { namespace, repository: config.gitops, suspend: args.suspendGitOps, release: platformReleases.flux, boxedInBy: [quota, limits, ...policies] },
                parent,
            );
        }
        if (platformReleases.externalSecrets) tenantSecrets(name, { tenant: config.name, namespace, cluster, release: platformReleases.externalSecrets }, parent);

        return ns;
    }
}

/**
 * `err` itself, its message prefixed with `context`: the same object, so its class (a RunError
 * stays one, printed without a stack) and its stack frames are kept.
 */
export function withContext(err: unknown, context: string): Error {
    if (!(err instanceof Error)) return new Error(`${context}: ${String(err)}`);
    const header = err.message ? `${err.name}: ${err.message}` : err.name;
    err.message = `${context}: ${err.message}`;
    if (err.stack?.startsWith(header)) err.stack = `${err.name}: ${err.message}${err.stack.slice(header.length)}`;
    return err;
}
