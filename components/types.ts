/**
 * The cluster contract. Every cluster component (EKS, AKS, GKE, existing) exposes this
 * shape, so the platform and the tenants never ask which cloud they run on: cloud
 * differences stay in `components/clusters/`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterGap } from "./clusters/gaps";
import { ClusterConfig, Cloud, Environment } from "./config-schema";

/**
 * What a workload identity may reach. Each grant names exactly one resource; the cluster
 * turns it into the narrowest role its cloud offers (never `*`, never project- or
 * subscription-wide).
 */
export type IdentityGrant =
    /** Read and write objects in the cluster's backup bucket, and manage volume snapshots. */
    | { readonly kind: "backupStorage"; readonly access: "readWrite" | "readOnly"; readonly storage: BackupStorage }
    /** Manage records in one DNS zone (cert-manager DNS-01). */
    | { readonly kind: "dnsZone"; readonly zone: string }
    /** Read the secrets whose names start with `prefix` (e.g. `platform/`, `tenants/team-a/`). */
    | { readonly kind: "secretsRead"; readonly prefix: string }
    /** Move this cluster's own node groups between their min and max (cluster-autoscaler), and nothing else's. */
    | { readonly kind: "nodeGroupScaling" };

/** What a workload needs to assume a cloud identity. */
export interface WorkloadIdentity {
    /** Annotations for the Kubernetes ServiceAccount. */
    readonly serviceAccountAnnotations: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Labels the pods need (Azure: `azure.workload.identity/use: "true"`). */
    readonly podLabels: Record<string, string>;
    /** Client id of the identity, where the cloud names it in solver or store config (Azure). */
    readonly clientId?: pulumi.Output<string>;
    /** The cloud resources that make the identity; dependents wait for them. */
    readonly resources: pulumi.Resource[];
}

/**
 * Another cluster's backups, for a restore (`clusters[].restore.source`): that cluster's
 * config entry in its own stack, so its store is named exactly as that stack names it.
 */
export interface BackupSource {
    readonly stack: string;
    readonly cluster: ClusterConfig;
}

/** Where Velero keeps backups, in Velero's own terms. */
export interface BackupStorage {
    /** Whose backups these are: the cluster that writes them (this one, or the source of a restore). */
    readonly cluster: string;
    /** Velero object store provider: `aws` (also any S3-compatible store), `azure` or `gcp`. */
    readonly provider: string;
    /** Bucket or container name; stable across cluster rebuilds. */
    readonly bucket: pulumi.Input<string>;
    /** Key prefix inside the bucket (BackupStorageLocation `objectStorage.prefix`). */
    readonly prefix?: string;
    /** BackupStorageLocation `config`. */
    readonly config: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** VolumeSnapshotLocation `config`; undefined where snapshots are not supported (e.g. MinIO). */
    readonly snapshotConfig?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * The cluster offers a VolumeSnapshotClass labelled for Velero, so volumes are snapshotted
     * through the CSI driver (Velero's `EnableCSI`) rather than a VolumeSnapshotLocation.
     */
    readonly csiSnapshots: boolean;
    /** The Velero plugin image for this cloud (from versions.ts). */
    readonly pluginImage: string;
    /** Static credentials file for Velero (`[default]` profile), secret; undefined with workload identity. */
    readonly credentials?: pulumi.Output<string>;
    /**
     * The copy of every backup outside the cluster's region (`clusters[].backupCopyRegion`), as a
     * BackupStorageLocation reads it after a region loss: bucket and `config`. Undefined: no copy.
     */
    readonly copy?: { readonly bucket: pulumi.Input<string>; readonly config: pulumi.Input<Record<string, pulumi.Input<string>>>; readonly encryptionKey?: pulumi.Input<string> };
    /**
     * The customer-managed key the store encrypts with, where whoever reads or writes the store
     * needs a grant on the key too (an AWS KMS key ARN). Undefined where the store's own service
     * identity uses the key (Azure, GCS) or there is no such key.
     */
    readonly encryptionKey?: pulumi.Input<string>;
    /** The cloud resources behind the storage (bucket, policies); protected and retained. */
    readonly resources: pulumi.Resource[];
}

export interface ServiceAccountRef {
    readonly name: string;
    /**
     * Set for a ClusterSecretStore, which must say where the account lives; omitted for a
     * namespaced SecretStore, which External Secrets refuses to point at another namespace.
     */
    readonly namespace?: string;
}

/** A selector for `account`: `{ name }`, with `namespace` only when the store is cluster-wide. */
export const serviceAccountSelector = (account: ServiceAccountRef) => ({ name: account.name, ...(account.namespace ? { namespace: account.namespace } : {}) });

/** A cluster's DNS (`clusters[].dns`): the domain its Gateway serves and the cloud zone it lives in. */
export interface GatewayDns {
    readonly domain: string;
    /** Route 53 hosted zone id, Azure DNS zone resource ID, or Cloud DNS managed zone name. */
    readonly zone: string;
}

/** The built-in ClusterRoles a tenant's groups hold in its namespace. */
export type TenantRole = "edit" | "view";

/** A tenant role's groups in each cloud's terms (`tenants[].groups.<role>`); a cluster reads its own cloud's. */
export interface CloudGroups {
    /** IAM role ARNs (EKS). */
    readonly aws: readonly string[];
    /** Entra ID group object IDs (AKS). */
    readonly azure: readonly string[];
    /** Google group e-mails (GKE, Google Groups for RBAC). */
    readonly gcp: readonly string[];
    /** Kubernetes group names (adopted clusters). */
    readonly existing: readonly string[];
}

/** How a tenant role's people reach its namespace on one cluster. */
export interface TenantAccess {
    /** The `Group` subjects the tenant's RoleBinding names: what the cluster's authenticator presents for those people. */
    readonly groups: string[];
    /**
     * What the cloud needs before those people can sign in (access entries, role assignments),
     * none of them granting anything beyond the namespace's RoleBinding.
     */
    readonly resources: pulumi.Resource[];
}

export interface PlatformCluster {
    readonly name: string;
    readonly cloud: Cloud;
    readonly environment: Environment;
    /** Kubeconfig with the cloud's exec plugin; always a secret. */
    readonly kubeconfig: pulumi.Output<string>;
    /** The cluster's own provider: every Kubernetes resource of the cluster uses it. */
    readonly provider: k8s.Provider;
    readonly apiEndpoint: pulumi.Output<string>;
    /** OIDC issuer URL used for workload identity federation (undefined for adopted clusters). */
    readonly oidcIssuer: pulumi.Output<string | undefined>;
    /** Private ranges of the cluster network; tenants' HTTPS egress excludes them by default. */
    readonly privateRanges: string[];
    /**
     * LoadBalancer Services always get an address (a cloud's load balancer), so `up` may wait
     * for one; false for adopted clusters, which may have no load-balancer controller.
     */
    readonly provisionsLoadBalancers: boolean;
    /** What this cluster lacks that the platform adds (clusters/gaps.ts): registry add-ons with `fills` install only here. */
    readonly gaps: readonly ClusterGap[];

    /** Creates a cloud identity for `namespace/serviceAccount`, scoped to exactly what `grant` names. */
    workloadIdentity(namespace: string, serviceAccount: string, grant: IdentityGrant, opts?: pulumi.ComponentResourceOptions): WorkloadIdentity;
    /**
     * Velero's bucket (created once, retained on delete), or with `source` another cluster's
     * store (of this cloud), attached without managing it.
     */
    backupStorage(source?: BackupSource): BackupStorage;
    /**
     * The External Secrets `provider` block for this cloud's secret manager, authenticating as
     * `serviceAccount` (whose identity holds a `secretsRead` grant for `prefix`).
     */
    secretStoreProvider(serviceAccount: ServiceAccountRef, prefix: string): pulumi.Input<Record<string, unknown>>;
    /**
     * A cert-manager DNS-01 solver for `zone`, authenticating as `identity` (made with a
     * `dnsZone` grant), or undefined where the cluster has no cloud DNS.
     */
    dns01Solver(zone: string, identity: WorkloadIdentity): pulumi.Input<Record<string, unknown>> | undefined;
    /** Annotations for the Envoy proxy's LoadBalancer Service. */
    gatewayServiceAnnotations(): Record<string, string>;
    /**
     * The records that make `dns.domain` and `*.<dns.domain>` resolve to `address` (the
     * Gateway's load balancer, hostname or IP as its status reports it) in `dns.zone`, and
     * nowhere else; none where the cluster's DNS is not this program's (an adopted cluster).
     */
    gatewayRecords(dns: GatewayDns, address: pulumi.Output<string | undefined>): pulumi.Resource[];
    /**
     * cluster-autoscaler's cloud settings (cloud provider, region, which node groups it may
     * discover, the image of the cluster's minor) on a cluster with the `nodeAutoscaler` gap;
     * throws elsewhere (the cloud scales its pools itself).
     */
    nodeAutoscalerValues(): Record<string, unknown>;
    /**
     * Lets the people in `groups` (this cloud's list) sign in to this cluster holding nothing
     * but what the tenant's RoleBinding for `role` in `namespace` grants, and returns the
     * subjects that binding names. What one identity needs cluster-wide to sign in is created
     * once, however many tenants name it. The resources are the cluster's (cloud resources under
     * its provider); the tenant's RoleBinding depends on them.
     */
    tenantAccess(namespace: string, role: TenantRole, groups: CloudGroups): TenantAccess;
}
