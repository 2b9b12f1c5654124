import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, PlatformConfig } from "../config";
import { PlatformCluster } from "../types";
import { EksCluster } from "./aws";
import { AksCluster } from "./azure";
import { ExistingCluster } from "./existing";
import { GkeCluster } from "./gcp";

/** The one place that picks a cloud: everything past it sees only the cluster contract. */
export function createCluster(config: ClusterConfig, platform: PlatformConfig, opts?: pulumi.ComponentResourceOptions): PlatformCluster {
    const common = { environment: platform.environment, stack: platform.stack };
    switch (config.cloud) {
        case "aws":
            return new EksCluster(config.name, { config, ...common }, opts);
        case "azure":
            return new AksCluster(config.name, { config, ...common }, opts);
        case "gcp":
            return new GkeCluster(config.name, { config, ...common }, opts);
        case "existing":
            return new ExistingCluster(config.name, { config, environment: platform.environment, backupCredentials: platform.secrets.backupCredentials }, opts);
    }
}
