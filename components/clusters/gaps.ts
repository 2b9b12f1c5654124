/**
 * What a cluster of each cloud lacks that every cluster of the platform should have: the
 * registry's add-ons that `fill` a gap install only where it is open. Pure (config.ts reads it
 * for the charts-directory check).
 *
 * - `nodeAutoscaler`: something moves node pools between their min and max. AKS (the pool's
 *   `enableAutoScaling`) and GKE (node pool autoscaling) do it themselves; EKS managed node
 *   groups only set the bounds, so EKS gets cluster-autoscaler.
 * - `resourceMetrics`: the `metrics.k8s.io` API (HorizontalPodAutoscalers, `kubectl top`).
 *   AKS and GKE ship metrics-server; EKS does not.
 * An adopted cluster's owner decides what runs on it: no gaps are filled there.
 */
import type { Cloud } from "../config-fields";

export type ClusterGap = "nodeAutoscaler" | "resourceMetrics";

export const CLUSTER_GAPS: Readonly<Record<Cloud, readonly ClusterGap[]>> = {
    aws: ["nodeAutoscaler", "resourceMetrics"],
    azure: [],
    gcp: [],
    existing: [],
};
