/**
 * The add-on registry: one declaration per add-on, and everything else that lists add-ons
 * derives from it: the stack's `platform:addons` schema, the namespaces a tenant may not take,
 * the namespaces tenants accept traffic from, Kyverno's exclusions and Velero's platform
 * backups (platform/index.ts), the PodMonitors that scrape the add-ons (monitoring.ts), the
 * integration stack, the tests and the docs' table.
 *
 * Adding an add-on: one entry here and its file `<file>.ts` in this folder, which exports
 * `install(name, context, links, opts)` (its component from the stack's settings). A test
 * fails when a file extending HelmAddon has no entry, or an entry no file. Only an add-on that
 * takes something from another one (an edge) is also named in platform/index.ts.
 *
 * The order of the entries is the order of the namespace lists rendered into Kyverno's and
 * Velero's objects: append, so existing stacks see no reordering in their diff.
 *
 * Pure when loaded (zod and the pins only): the config schema reads this table without Pulumi.
 * Each `load` requires its add-on's component only when a Platform is built.
 */
import { z } from "zod";
import type { GuardedValue } from "../chart-values";
import { addonSettings, byEnv, Environment, gitRepository, labelKey, quantityOr } from "../config-fields";
import { chartName, charts } from "../versions";
import type { AddonDeclaration } from "./addon-declaration";
import { imageSignatureSettings } from "./image-provenance";

export type { AddonContext, AddonDeclaration, PodSecurityLevel, ScrapeTarget } from "./addon-declaration";

/** Reasons several guarded keys share, named once so they cannot drift apart. */
const WHY = {
    podLabel: "Azure workload identity needs the platform's pod label",
    webhookExclusions: "the webhook's namespace exclusions are the platform's",
    backupLocations: "backup locations are the platform's",
    snapshotLocations: "snapshot locations are the platform's",
    clusterWideOperator: "the ClusterSecretStore and every tenant's SecretStore need a cluster-wide operator",
    rulesArtifact: "the rules artifact is pinned in versions.ts and never followed",
    alertRules: "Prometheus must load the platform's alert rules",
    grafanaAdmin: "Grafana's admin credentials come from platform:grafanaAdminPassword, through a Secret",
    ownNodeGroups: "it scales exactly the node groups tagged as this cluster's",
};
/** One guarded key per path, all for the same reason. */
const guard = (why: string, ...paths: string[]): GuardedValue[] => paths.map((path) => ({ path, why }));

/* eslint-disable @typescript-eslint/no-require-imports -- lazy: this table must load without Pulumi (see above) */
export const addons = {
    certManager: {
        file: "cert-manager",
        title: "cert-manager",
        namespace: "cert-manager",
        chart: charts.certManager,
        podSecurity: "restricted",
        tenantIngress: false,
        // Controller, webhook and cainjector each serve `http-metrics`; certificate expiry comes from the controller.
        scrape: [{ job: "cert-manager", podLabels: { "app.kubernetes.io/instance": chartName(charts.certManager) }, port: "http-metrics" }],
        settings: (env: Environment) =>
            addonSettings({
                /** ACME account e-mail; required when any cluster has `dns`. */
                acmeEmail: z.email().optional(),
                issuer: z.enum(["letsencrypt-staging", "letsencrypt-prod"]).default(env === "production" ? "letsencrypt-prod" : "letsencrypt-staging"),
            }),
        guardedValues: [
            { path: "serviceAccount", why: "its workload identity (DNS-01 in the cluster's zone) is bound to this service account and its annotations" },
            { path: "podLabels", why: WHY.podLabel },
            { path: "crds", why: "the CRDs stay when the release goes (crds.keep), or every Certificate would go with them" },
            ...guard(WHY.webhookExclusions, "webhook.validatingWebhookConfiguration.namespaceSelector", "webhook.mutatingWebhookConfiguration.namespaceSelector"),
        ],
        load: () => require("./cert-manager") as typeof import("./cert-manager"),
    },
    velero: {
        file: "velero",
        title: "Velero",
        namespace: "velero",
        chart: charts.velero,
        podSecurity: "restricted",
        tenantIngress: false,
        // The server's backup metrics (`metrics.enabled` in velero.ts).
        scrape: [{ job: "velero", podLabels: { "app.kubernetes.io/name": "velero", "app.kubernetes.io/instance": chartName(charts.velero) }, port: "http-monitoring" }],
        settings: (env: Environment) => addonSettings({ hourlyBackups: z.boolean().default(env === "production") }),
        guardedValues: [
            { path: "serviceAccount.server", why: "its workload identity (read-write on this cluster's bucket only) is bound to this service account and its annotations" },
            { path: "podLabels", why: WHY.podLabel },
            { path: "credentials", why: "backups authenticate with workload identity or the per-location secret, never a chart-wide key" },
            { path: "configuration.backupStorageLocation", why: `${WHY.backupLocations} (BackupStorageLocation resources, docs/disaster-recovery.md)` },
            { path: "configuration.volumeSnapshotLocation", why: WHY.snapshotLocations },
            ...guard(WHY.backupLocations, "configuration.defaultBackupStorageLocation", "backupsEnabled"),
            { path: "snapshotsEnabled", why: WHY.snapshotLocations },
            { path: "initContainers", why: "the cloud plugin images are pinned in versions.ts" },
        ],
        load: () => require("./velero") as typeof import("./velero"),
    },
    envoyGateway: {
        file: "envoy-gateway",
        title: "Envoy Gateway",
        namespace: "gateway-system",
        chart: charts.envoyGateway,
        podSecurity: "restricted",
        tenantIngress: true,
        scrape: [
            { job: "envoy-gateway", podLabels: { "control-plane": "envoy-gateway" }, port: "metrics" },
            // The proxies the controller creates for the Gateway (labels and port from Envoy Gateway v1.9.0's
            // internal/infrastructure/kubernetes/proxy/resource.go): the gateway's request metrics.
            {
                job: "envoy-proxy",
                podLabels: { "app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy", "app.kubernetes.io/managed-by": "envoy-gateway" },
                port: "metrics",
                path: "/stats/prometheus",
            },
        ],
        settings: () => addonSettings({ httpsRedirect: z.boolean().default(true) }),
        guardedValues: [
            { path: "config.envoyGateway.gateway", why: "the GatewayClass names this controller" },
            { path: "config.envoyGateway.extensionApis", why: "the request-header limit is an EnvoyPatchPolicy, which needs the extension API on" },
        ],
        load: () => require("./envoy-gateway") as typeof import("./envoy-gateway"),
    },
    externalSecrets: {
        file: "external-secrets",
        title: "External Secrets Operator",
        namespace: "external-secrets",
        chart: charts.externalSecrets,
        podSecurity: "restricted",
        tenantIngress: false,
        scrape: [],
        settings: () => addonSettings({ secretPrefix: z.string().regex(/^[a-z0-9][a-z0-9-]*\/$/, "must end with '/', e.g. platform/").default("platform/") }),
        guardedValues: [
            { path: "serviceAccount", why: "its workload identity (the secret prefix only) is bound to this service account and its annotations" },
            { path: "podLabels", why: WHY.podLabel },
            ...guard(WHY.clusterWideOperator, "scopedNamespace", "scopedRBAC"),
            { path: "leaderElect", why: "two replicas without leader election would both reconcile every secret" },
        ],
        load: () => require("./external-secrets") as typeof import("./external-secrets"),
    },
    falco: {
        file: "falco",
        title: "Falco",
        namespace: "falco",
        chart: charts.falco,
        // Falco reads every process on the node through eBPF: it needs host PID, /proc and /sys.
        podSecurity: "privileged",
        tenantIngress: false,
        scrape: [],
        settings: () => addonSettings({}),
        guardedValues: [
            { path: "driver", why: "modern eBPF: no kernel module built or downloaded on the nodes" },
            { path: "customRules", why: "the platform's rules (falco-rules.ts)" },
            ...guard(WHY.rulesArtifact, "falcoctl.artifact", "falcoctl.config.artifact"),
        ],
        load: () => require("./falco") as typeof import("./falco"),
    },
    flux: {
        file: "flux",
        title: "Flux",
        namespace: "flux-system",
        chart: charts.flux,
        podSecurity: "restricted",
        tenantIngress: false,
        scrape: [],
        settings: () => addonSettings({ platformRepository: gitRepository.optional() }),
        guardedValues: [{ path: "multitenancy", why: "tenants' Kustomizations run as their own service account, never as Flux's (multi-tenancy lockdown)" }],
        load: () => require("./flux") as typeof import("./flux"),
    },
    monitoring: {
        file: "monitoring",
        title: "kube-prometheus-stack",
        namespace: "monitoring",
        chart: charts.kubePrometheusStack,
        // node-exporter needs the host's network, PID namespace and root filesystem.
        podSecurity: "privileged",
        tenantIngress: true,
        scrape: [],
        settings: (env: Environment) =>
            addonSettings({
                retention: z.string().regex(/^\d+[hdw]$/, "must be a Prometheus duration such as 30d").default(byEnv(env, { local: "1d", staging: "7d", production: "30d" })),
                storageSize: quantityOr(byEnv(env, { local: "5Gi", staging: "20Gi", production: "50Gi" })),
            }),
        guardedValues: [
            { path: "prometheus.prometheusSpec.retention", why: "set addons.monitoring.retention (or clusters[].addons.monitoring.retention) instead" },
            { path: "prometheus.prometheusSpec.storageSpec", why: "set addons.monitoring.storageSize (or clusters[].addons.monitoring.storageSize) instead" },
            ...guard(WHY.alertRules, "prometheus.prometheusSpec.ruleSelector", "prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues"),
            { path: "fullnameOverride", why: "the platform's objects name the chart's services" },
            { path: "grafana.fullnameOverride", why: "Grafana's route names its service" },
            ...guard(WHY.grafanaAdmin, "grafana.admin", "grafana.adminUser"),
            { path: "grafana.adminPassword", why: "a password in chart values would sit in the release in plain text; set the secret platform:grafanaAdminPassword" },
        ],
        load: () => require("./monitoring") as typeof import("./monitoring"),
    },
    kyverno: {
        file: "kyverno",
        title: "Kyverno",
        namespace: "kyverno",
        chart: charts.kyverno,
        podSecurity: "restricted",
        tenantIngress: false,
        scrape: [],
        settings: (env: Environment) =>
            addonSettings({
                validationFailureAction: z.enum(["Audit", "Enforce"]).default(env === "production" ? "Enforce" : "Audit"),
                allowedRegistries: z.array(z.string().min(1)).min(1).default(["registry.k8s.io/", "ghcr.io/", "quay.io/", "docker.io/", "public.ecr.aws/"]),
                requiredLabels: z.array(labelKey).default(["app.kubernetes.io/name"]),
                imageSignatures: imageSignatureSettings,
            }),
        guardedValues: [
            { path: "config.webhooks", why: "Kyverno's and Kubernetes' namespaces never reach the webhooks, so Kyverno can always restart; the other add-ons' reach them only for their image signatures" },
            { path: "config.matchConditions", why: "which requests reach the webhooks is the platform's" },
            ...["resourceFilters", "resourceFiltersExclude", "resourceFiltersExcludeNamespaces", "resourceFiltersInclude", "resourceFiltersIncludeNamespaces", "excludeKyvernoNamespace"].map((key) => ({
                path: `config.${key}`,
                why: "what Kyverno skips is the platform's: a tenant namespace filtered out would escape every policy",
            })),
            { path: "features.policyExceptions", why: "a PolicyException lets its namespace escape a policy; exceptions stay off" },
        ],
        load: () => require("./kyverno") as typeof import("./kyverno"),
    },
    clusterAutoscaler: {
        file: "cluster-autoscaler",
        title: "cluster-autoscaler",
        namespace: "cluster-autoscaler",
        chart: charts.clusterAutoscaler,
        podSecurity: "restricted",
        tenantIngress: false,
        fills: "nodeAutoscaler",
        scrape: [],
        settings: () => addonSettings({}),
        guardedValues: [
            { path: "rbac.serviceAccount", why: "its workload identity (this cluster's node groups only) is bound to this service account and its annotations" },
            ...guard(WHY.ownNodeGroups, "autoDiscovery", "autoscalingGroups", "cloudProvider"),
            { path: "image", why: "the autoscaler's minor follows the cluster's Kubernetes minor (versions.ts)" },
        ],
        load: () => require("./cluster-autoscaler") as typeof import("./cluster-autoscaler"),
    },
    metricsServer: {
        file: "metrics-server",
        title: "metrics-server",
        namespace: "metrics-server",
        chart: charts.metricsServer,
        podSecurity: "restricted",
        tenantIngress: false,
        fills: "resourceMetrics",
        scrape: [],
        settings: () => addonSettings({}),
        guardedValues: [{ path: "apiService", why: "the metrics.k8s.io APIService is the platform's: HorizontalPodAutoscalers read it" }],
        load: () => require("./metrics-server") as typeof import("./metrics-server"),
    },
} as const satisfies Record<string, AddonDeclaration>;
/* eslint-enable @typescript-eslint/no-require-imports */

export type AddonKey = keyof typeof addons;
/** The add-ons in registry order. */
export const addonKeys = Object.keys(addons) as AddonKey[];
export const declarationOf = (key: AddonKey): AddonDeclaration => addons[key];

/** Kubernetes' own namespaces: never a tenant's, never governed by Kyverno, backed up by no schedule of ours. */
export const systemNamespaces = ["kube-system", "kube-public", "kube-node-lease"];

/** Names a tenant (whose name is its namespace) cannot take: `default`, every add-on's namespace; `kube-*` is refused by prefix. */
export const reservedNamespaces = (): string[] => ["default", ...addonKeys.map((key) => addons[key].namespace)];

/** Namespaces tenants accept ingress from, in registry order. */
export const tenantIngressNamespaces = (): string[] => addonKeys.filter((key) => addons[key].tenantIngress).map((key) => addons[key].namespace);
