import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, PlatformConfig } from "../config";
import { PlatformCluster } from "../types";
import { ExistingCluster } from "./existing";

/** The one place that picks a cloud: everything past it sees only the cluster contract. */
export function createCluster(config: ClusterConfig, platform: PlatformConfig, opts?: pulumi.ComponentResourceOptions): PlatformCluster {
    switch (config.cloud) {
        case "existing":
            return new ExistingCluster(config.name, { config, environment: platform.environment, backupCredentials: platform.secrets.backupCredentials }, opts);
        default:
            throw new pulumi.RunError(`clusters: cloud "${config.cloud}" (cluster ${config.name}) is not implemented yet`);
    }
}
