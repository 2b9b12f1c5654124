/**
 * The skeleton every cluster component shares: the contract's fields, the outputs, the book of
 * workload identities and the backup storage cache. A cluster class builds its resources in
 * its constructor and supplies what differs by cloud: the identity of one service account
 * (`createIdentity`), the backup storage of one cluster (`createBackupStorage`) and the
 * adapters of the contract (secret store, DNS-01 solver, gateway annotations).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Cloud, ClusterConfig, Environment } from "../config";
import { BackupSource, BackupStorage, CloudGroups, GatewayDns, IdentityGrant, PlatformCluster, ServiceAccountRef, TenantAccess, TenantRole, WorkloadIdentity } from "../types";
import { CLUSTER_GAPS, ClusterGap } from "./gaps";
import { CloudIdentity, IdentityBook } from "./identity-book";

/** What every cluster component takes: its entry of `platform:clusters` and the environment. */
export interface ClusterArgs<C extends Cloud> {
    readonly config: Extract<ClusterConfig, { cloud: C }>;
    readonly environment: Environment;
}

/** Another cluster's config entry, of this cloud, and the stack it belongs to: the source of a restore. */
export type SourceCluster<C extends Cloud> = Extract<ClusterConfig, { cloud: C }> & { readonly stack: string };

/** The network facts of the contract, which only the cluster class knows. */
export interface ClusterNetwork {
    readonly privateRanges: string[];
    readonly provisionsLoadBalancers: boolean;
}

/** What a cluster knows once its control plane exists: how to reach it. */
export interface ClusterAccess {
    readonly kubeconfig: pulumi.Output<string>;
    readonly provider: k8s.Provider;
    readonly apiEndpoint: pulumi.Output<string>;
    readonly oidcIssuer: pulumi.Output<string | undefined>;
}

export abstract class BaseCluster<C extends Cloud, A extends ClusterArgs<C>> extends pulumi.ComponentResource implements PlatformCluster {
    readonly cloud: C;
    readonly name: string;
    readonly environment: Environment;
    readonly privateRanges: string[];
    readonly provisionsLoadBalancers: boolean;
    readonly gaps: readonly ClusterGap[];
    /** The component's own name: the start of every child's name. */
    protected readonly resourceName: string;
    private access?: ClusterAccess;
    private readonly identities: IdentityBook;
    private readonly backups = new Map<string, BackupStorage>();

    /** `type` is the subclass's token (`platform:clusters:<Class>`), which must never change. */
    protected constructor(type: string, name: string, protected readonly args: A, network: ClusterNetwork, opts?: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
        this.cloud = args.config.cloud;
        this.name = args.config.name;
        this.environment = args.environment;
        this.privateRanges = network.privateRanges;
        this.provisionsLoadBalancers = network.provisionsLoadBalancers;
        this.gaps = CLUSTER_GAPS[args.config.cloud];
        this.resourceName = name;
        this.identities = new IdentityBook(name, (base, namespace, serviceAccount, childOpts) => this.createIdentity(base, namespace, serviceAccount, childOpts));
    }

    /**
     * The last call of a subclass's constructor: the cluster is reachable, its outputs are
     * registered. Reading the contract's access fields before it throws rather than return nothing.
     */
    protected complete(access: ClusterAccess): void {
        this.access = access;
        this.registerOutputs({ kubeconfig: access.kubeconfig, apiEndpoint: access.apiEndpoint, oidcIssuer: access.oidcIssuer });
    }

    private reachable(): ClusterAccess {
        if (!this.access) throw new pulumi.ResourceError(`cluster ${this.name}: read before its constructor called complete()`, this);
        return this.access;
    }
    get kubeconfig(): pulumi.Output<string> {
        return this.reachable().kubeconfig;
    }
    get provider(): k8s.Provider {
        return this.reachable().provider;
    }
    get apiEndpoint(): pulumi.Output<string> {
        return this.reachable().apiEndpoint;
    }
    get oidcIssuer(): pulumi.Output<string | undefined> {
        return this.reachable().oidcIssuer;
    }

    workloadIdentity(namespace: string, serviceAccount: string, grant: IdentityGrant, opts?: pulumi.ComponentResourceOptions): WorkloadIdentity {
        // Under the caller (the add-on or tenant that asked), else the cluster. The cloud sets its
        // own provider: the caller's parent may carry only a Kubernetes one.
        return this.identities.grant(namespace, serviceAccount, grant, { parent: opts?.parent ?? this, dependsOn: opts?.dependsOn });
    }

    backupStorage(source?: BackupSource): BackupStorage {
        const key = source ? `${source.stack}/${source.cluster.name}` : "";
        let storage = this.backups.get(key);
        if (!storage) {
            storage = this.createBackupStorage(source && this.ofThisCloud(source));
            this.backups.set(key, storage);
        }
        return storage;
    }

    /** The source's config entry, narrowed to this cloud (config.ts already refuses another cloud). */
    private ofThisCloud(source: BackupSource): SourceCluster<C> {
        if (source.cluster.cloud !== this.cloud) {
            throw new pulumi.ResourceError(`cluster ${this.name}: cannot restore from ${source.cluster.cloud} cluster ${source.cluster.name} (stack ${source.stack})`, this);
        }
        return { ...(source.cluster as Extract<ClusterConfig, { cloud: C }>), stack: source.stack };
    }

    /** The identity of `namespace/serviceAccount`, its resources named from `base` and placed with `opts`. */
    protected abstract createIdentity(base: string, namespace: string, serviceAccount: string, opts: pulumi.CustomResourceOptions): CloudIdentity;
    /**
     * Velero's storage: this cluster's, created here; or (with `source`, another cluster's entry
     * and its stack) that cluster's, named as its stack names it and attached, nothing created.
     */
    protected abstract createBackupStorage(source?: SourceCluster<C>): BackupStorage;

    abstract secretStoreProvider(serviceAccount: ServiceAccountRef, prefix: string): pulumi.Input<Record<string, unknown>>;
    abstract dns01Solver(zone: string, identity: WorkloadIdentity): pulumi.Input<Record<string, unknown>> | undefined;
    abstract gatewayServiceAnnotations(): Record<string, string>;
    abstract gatewayRecords(dns: GatewayDns, address: pulumi.Output<string | undefined>): pulumi.Resource[];

    nodeAutoscalerValues(): Record<string, unknown> {
        throw new pulumi.ResourceError(`cluster ${this.name}: its node pools scale without the platform's autoscaler (clusters/gaps.ts)`, this);
    }
    abstract tenantAccess(namespace: string, role: TenantRole, groups: CloudGroups): TenantAccess;
}
