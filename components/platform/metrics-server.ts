/**
 * metrics-server: the `metrics.k8s.io` API that tenants' HorizontalPodAutoscalers and
 * `kubectl top` read, on clusters whose cloud does not ship it (the registry's
 * `fills: "resourceMetrics"`; clusters/gaps.ts: EKS).
 *
 * Values checked against the metrics-server chart 3.13.1 (kubernetes-sigs/metrics-server, tag
 * metrics-server-helm-chart-3.13.1, charts/metrics-server/values.yaml; app 0.8.1). The chart's
 * container security context already meets Pod Security restricted.
 */
import * as pulumi from "@pulumi/pulumi";
import { AddonContext, addons } from "./addons";
import { AddonArgs, fromRegistry, HelmAddon, requests } from "./helm-addon";

export class MetricsServer extends HelmAddon {
    constructor(name: string, args: AddonArgs, opts?: pulumi.ComponentResourceOptions) {
        const highlyAvailable = args.cluster.environment === "production";
        super(
            name,
            {
                cluster: args.cluster,
                ...fromRegistry(addons.metricsServer, args),
                values: () => ({
                    // Two replicas in production: while the only one restarts, every HPA stops deciding.
                    replicas: highlyAvailable ? 2 : 1,
                    podDisruptionBudget: highlyAvailable ? { enabled: true, minAvailable: 1 } : { enabled: false },
                    resources: requests("100m", "200Mi"),
                    podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } },
                }),
            },
            opts,
            "platform:addons:MetricsServer",
        );
        this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status });
    }
}

/** The Platform's entry (addons.ts). */
export function install(name: string, { cluster, charts, addons: settings }: AddonContext, _links: object, opts?: pulumi.ComponentResourceOptions): MetricsServer {
    return new MetricsServer(name, { cluster, charts, extraValues: settings.metricsServer.values }, opts);
}
