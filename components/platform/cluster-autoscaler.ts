/**
 * cluster-autoscaler, on clusters whose cloud does not scale node pools itself (the registry's
 * `fills: "nodeAutoscaler"`; clusters/gaps.ts: EKS). It moves each pool's desired size between
 * the pool's `minSize` and `maxSize` (the Auto Scaling group's bounds, which it never changes),
 * so the system pool never drops below its minimum. Its identity may change the size of, and
 * terminate instances in, only this cluster's node groups (tag conditions; clusters/aws-identity.ts).
 *
 * Values checked against the cluster-autoscaler chart 9.59.0 (kubernetes/autoscaler, tag
 * cluster-autoscaler-chart-9.59.0, cluster-autoscaler/charts/cluster-autoscaler/values.yaml).
 * The chart's default image (v1.35.0) is replaced by the cluster's minor (versions.ts), the
 * only combination upstream supports.
 */
import * as pulumi from "@pulumi/pulumi";
import { AddonContext, addons } from "./addons";
import { AddonArgs, fromRegistry, HelmAddon, requests } from "./helm-addon";

export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";

export class ClusterAutoscaler extends HelmAddon {
    constructor(name: string, args: AddonArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            name,
            {
                cluster: args.cluster,
                ...fromRegistry(addons.clusterAutoscaler, args),
                identity: { serviceAccount: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT, grant: { kind: "nodeGroupScaling" } },
                values: (identity) => ({
                    ...args.cluster.nodeAutoscalerValues(),
                    rbac: { serviceAccount: { create: true, name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT, annotations: identity?.serviceAccountAnnotations ?? {} } },
                    podLabels: identity?.podLabels ?? {},
                    extraArgs: {
                        logtostderr: true,
                        stderrthreshold: "info",
                        v: 4,
                        // One node group per pool spans the zones; similar groups (a pool split later) share load.
                        "balance-similar-node-groups": true,
                        // Adds the node that wastes the least CPU and memory for the pods waiting.
                        expander: "least-waste",
                        // kube-system's pods (CoreDNS, the CSI controllers) keep their node.
                        "skip-nodes-with-system-pods": true,
                        // Platform pods with emptyDir scratch space (Velero, Falco) must not pin a node forever.
                        "skip-nodes-with-local-storage": false,
                    },
                    // One replica (it elects a leader anyway); a restart only pauses scaling decisions.
                    replicaCount: 1,
                    resources: requests("100m", "300Mi"),
                    // Pod Security restricted (addons.ts): the chart sets no security context by default.
                    securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
                    containerSecurityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                }),
            },
            opts,
            "platform:addons:ClusterAutoscaler",
        );
        this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status });
    }
}

/** The Platform's entry (addons.ts). */
export function install(name: string, { cluster, charts, addons: settings }: AddonContext, _links: object, opts?: pulumi.ComponentResourceOptions): ClusterAutoscaler {
    return new ClusterAutoscaler(name, { cluster, charts, extraValues: settings.clusterAutoscaler.values }, opts);
}
