/**
 * Every version the platform pins, in one table: Helm charts, the images the
 * charts do not pin for us, and the Kubernetes minor versions we accept per cloud.
 * Exact versions only (a unit test rejects ranges); bump them here and nowhere else.
 */

/** A Helm chart at an exact version, from its canonical repository. */
export interface ChartPin {
    readonly chart: string;
    readonly version: string;
    /** Helm repository URL, or undefined when `chart` is an `oci://` reference. */
    readonly repo?: string;
}

/**
 * The chart's own name, from a repository chart name or an `oci://` reference
 * (`oci://docker.io/envoyproxy/gateway-helm` -> `gateway-helm`): its Helm release's name, and
 * its folder under `platform:charts.directory`.
 */
export const chartName = (pin: ChartPin) => pin.chart.split("/").pop()!;

/** Add-on charts. Each add-on file states which version its values were checked against. */
export const charts = {
    kubePrometheusStack: { chart: "kube-prometheus-stack", version: "88.6.1", repo: "https://prometheus-community.github.io/helm-charts" },
    kyverno: { chart: "kyverno", version: "3.9.0", repo: "https://kyverno.github.io/kyverno/" },
    falco: { chart: "falco", version: "9.1.0", repo: "https://falcosecurity.github.io/charts" },
    flux: { chart: "flux2", version: "2.18.3", repo: "https://fluxcd-community.github.io/helm-charts" },
    envoyGateway: { chart: "oci://docker.io/envoyproxy/gateway-helm", version: "v1.9.0" },
    certManager: { chart: "cert-manager", version: "v1.21.1", repo: "https://charts.jetstack.io" },
    externalSecrets: { chart: "external-secrets", version: "2.9.0", repo: "https://charts.external-secrets.io" },
    velero: { chart: "velero", version: "12.1.0", repo: "https://vmware-tanzu.github.io/helm-charts" },
    // Chart 9.59.0 (app 1.35.0) for its templates; the image follows the cluster (`clusterAutoscalerImages`).
    clusterAutoscaler: { chart: "cluster-autoscaler", version: "9.59.0", repo: "https://kubernetes.github.io/autoscaler" },
    // App 0.8.1: Kubernetes 1.31+ (metrics-server's compatibility matrix).
    metricsServer: { chart: "metrics-server", version: "3.13.1", repo: "https://kubernetes-sigs.github.io/metrics-server/" },
} satisfies Record<string, ChartPin>;

/** OCI artifacts a chart would otherwise float (Falco's rules follow `falco-rules:5` by default). */
export const artifacts = {
    falcoRules: "falco-rules:5.1.0",
} satisfies Record<string, string>;

/**
 * Container images that are not pinned by a chart. Velero's plugins follow Velero's minor
 * version (plugin v1.14.x is built against Velero v1.18, the velero chart 12.1.0's app).
 */
export const images = {
    veleroPluginAws: "velero/velero-plugin-for-aws:v1.14.2",
    veleroPluginAzure: "velero/velero-plugin-for-microsoft-azure:v1.14.2",
    veleroPluginGcp: "velero/velero-plugin-for-gcp:v1.14.2",
} satisfies Record<string, string>;

/**
 * cluster-autoscaler's image per Kubernetes minor: upstream supports only the autoscaler minor
 * that matches the cluster's (the latest patch of each, tags cluster-autoscaler-1.3x.y of
 * kubernetes/autoscaler). A minor added to `kubernetesVersions.aws` needs its line here (a
 * unit test checks).
 */
export const clusterAutoscalerImages: Readonly<Record<string, string>> = {
    "1.31": "v1.31.5",
    "1.32": "v1.32.7",
    "1.33": "v1.33.6",
    "1.34": "v1.34.5",
};

/**
 * Kubernetes MAJOR.MINOR versions a new or upgraded cluster may run, per cloud,
 * as offered by the managed services (EKS, AKS, GKE) in standard support in 2026-11.
 * `existing` clusters are adopted as they are; the check there only guards typos.
 */
export const kubernetesVersions = {
    aws: ["1.31", "1.32", "1.33", "1.34"],
    azure: ["1.31", "1.32", "1.33", "1.34"],
    gcp: ["1.31", "1.32", "1.33", "1.34"],
    existing: ["1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35"],
} as const;
