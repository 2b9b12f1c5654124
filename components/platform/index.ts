import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddonsConfig, ClusterConfig, PlatformConfig } from "../config";
import { PlatformCluster } from "../types";

export interface PlatformArgs {
    readonly cluster: PlatformCluster;
    /** The cluster's own config entry (dns, restore). */
    readonly clusterConfig: ClusterConfig;
    readonly addons: AddonsConfig;
    readonly secrets: PlatformConfig["secrets"];
    /** Namespaces of the tenants on this cluster (backed up by `tenants-daily`). */
    readonly tenantNamespaces: string[];
}

/** The platform add-ons of one cluster and the order they install in. */
export class Platform extends pulumi.ComponentResource {
    /** Releases by add-on; tenants' custom resources depend on the ones that install their CRDs. */
    readonly releases: { externalSecrets?: k8s.helm.v3.Release; flux?: k8s.helm.v3.Release };
    readonly gatewayAddress: pulumi.Output<string | undefined>;
    readonly grafanaUrl: pulumi.Output<string | undefined>;
    readonly backupBucket: pulumi.Output<string | undefined>;

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:addons:Platform", name, {}, opts);
        this.releases = {};
        this.gatewayAddress = pulumi.output(undefined);
        this.grafanaUrl = pulumi.output(undefined);
        this.backupBucket = pulumi.output(undefined);
        void args;
        this.registerOutputs({});
    }
}
