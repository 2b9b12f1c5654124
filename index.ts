import * as pulumi from "@pulumi/pulumi";
import { createCluster } from "./components/clusters";
import { debugPromiseLeaks, loadConfig } from "./components/config";
import { Platform } from "./components/platform";
import { skipPromiseStacks } from "./components/promise-stacks";
import { Tenant } from "./components/tenancy/tenant";

// A stack trace per SDK promise is only read by the SDK's leak report (components/promise-stacks.ts).
if (!debugPromiseLeaks()) skipPromiseStacks();

const config = loadConfig();

const clusters = config.clusters.map((clusterConfig) => {
    const cluster = createCluster(clusterConfig, config);
    const tenants = config.tenants.filter((t) => !t.clusters || t.clusters.includes(cluster.name));
    const withCluster = { providers: { kubernetes: cluster.provider } };
    const platform = new Platform(
        `${cluster.name}-platform`,
        { cluster, clusterConfig, addons: config.addons, charts: config.charts, secrets: config.secrets, backupSource: config.backupSources.get(cluster.name) },
        withCluster,
    );
    for (const tenant of tenants) {
        new Tenant(`${cluster.name}-${tenant.name}`, { config: tenant, cluster, platformReleases: platform.releases, suspendGitOps: clusterConfig.restore !== undefined }, withCluster);
    }
    return { cluster, platform };
});

/** Per cluster, what a user reaches for: `pulumi stack output --show-secrets clusterOutputs`. */
export const clusterOutputs = Object.fromEntries(
    clusters.map(({ cluster, platform }) => [
        cluster.name,
        {
            cloud: cluster.cloud,
            kubeconfig: pulumi.secret(cluster.kubeconfig),
            apiEndpoint: cluster.apiEndpoint,
            oidcIssuer: cluster.oidcIssuer,
            backupBucket: platform.backupBucket,
            gatewayAddress: platform.gatewayAddress,
            grafanaUrl: platform.grafanaUrl,
        },
    ]),
);
