import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { TenantConfig } from "../config";
import { PlatformCluster } from "../types";

export interface TenantArgs {
    readonly config: TenantConfig;
    readonly cluster: PlatformCluster;
    /** Releases whose CRDs the tenant's custom resources need. */
    readonly platformReleases: { externalSecrets?: k8s.helm.v3.Release; flux?: k8s.helm.v3.Release };
    /** Hold the tenant's GitOps sync (Flux `suspend`) while the cluster restores from backup. Default: false. */
    readonly suspendGitOps?: boolean;
}

/** One tenant on one cluster: a namespace boxed in for compute, network, API and secrets. */
export class Tenant extends pulumi.ComponentResource {
    readonly namespace: k8s.core.v1.Namespace;

    constructor(name: string, args: TenantArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:tenancy:Tenant", name, {}, opts);
        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: { name: args.config.name, labels: { "platform.example.io/tenant": args.config.name } } },
            { parent: this },
        );
        this.registerOutputs({ namespace: this.namespace.metadata.name });
    }
}
