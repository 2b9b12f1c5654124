/**
 * The add-on registry: one declaration per add-on, and everything else that lists add-ons
 * derives from it: the stack's `platform:addons` schema, the namespaces a tenant may not take,
 * the namespaces tenants accept traffic from, Kyverno's exclusions and Velero's platform
 * backups (platform/index.ts), the integration stack, the tests and the docs' table.
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
import type { ClusterConfig, PlatformConfig } from "../config";
import type { AddonsConfig, ChartsConfig } from "../config-schema";
import { addonSettings, byEnv, Environment, gitRepository, labelKey, quantityOr } from "../config-fields";
import type { PlatformCluster } from "../types";
import { ChartPin, charts } from "../versions";

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** What every add-on's `install` gets: the cluster, its config entry and the stack's settings. */
export interface AddonContext {
    readonly cluster: PlatformCluster;
    readonly clusterConfig: ClusterConfig;
    readonly addons: AddonsConfig;
    /** `platform:charts`: where every add-on's chart comes from, and whether its release waits. */
    readonly charts: ChartsConfig;
    readonly secrets: PlatformConfig["secrets"];
    /** The cluster's config has a `restore` block (platform/index.ts, rebuild mode). */
    readonly restoring: boolean;
    /** The domain the shared Gateway serves: the cluster's `dns.domain`, or `<cluster>.localhost`. */
    readonly domain: string;
}

export interface AddonDeclaration {
    /** Its file in this folder, without `.ts`; also its component's name, `<cluster>-platform-<file>` (URNs: never renamed). */
    readonly file: string;
    /** Its name for people (docs). */
    readonly title: string;
    /** The namespace it installs into: reserved, never a tenant's. */
    readonly namespace: string;
    /** Chart and exact version, from versions.ts. The Helm release is named after the chart. */
    readonly chart: ChartPin;
    /** Pod Security Admission level enforced on its namespace. */
    readonly podSecurity: PodSecurityLevel;
    /** Tenants' pods accept connections from its namespace (Prometheus scraping them, the Gateway's proxies forwarding to them). */
    readonly tenantIngress: boolean;
    /** Its block under `platform:addons`, per environment. */
    readonly settings: (env: Environment) => z.ZodType;
    /** Its component module (`install`), loaded when a Platform is built. */
    readonly load: () => unknown;
}

/* eslint-disable @typescript-eslint/no-require-imports -- lazy: this table must load without Pulumi (see above) */
export const addons = {
    certManager: {
        file: "cert-manager",
        title: "cert-manager",
        namespace: "cert-manager",
        chart: charts.certManager,
        podSecurity: "restricted",
        tenantIngress: false,
        settings: (env: Environment) =>
            addonSettings({
                /** ACME account e-mail; required when any cluster has `dns`. */
                acmeEmail: z.email().optional(),
                issuer: z.enum(["letsencrypt-staging", "letsencrypt-prod"]).default(env === "production" ? "letsencrypt-prod" : "letsencrypt-staging"),
            }),
        load: () => require("./cert-manager") as typeof import("./cert-manager"),
    },
    velero: {
        file: "velero",
        title: "Velero",
        namespace: "velero",
        chart: charts.velero,
        podSecurity: "restricted",
        tenantIngress: false,
        settings: (env: Environment) => addonSettings({ hourlyBackups: z.boolean().default(env === "production") }),
        load: () => require("./velero") as typeof import("./velero"),
    },
    envoyGateway: {
        file: "envoy-gateway",
        title: "Envoy Gateway",
        namespace: "gateway-system",
        chart: charts.envoyGateway,
        podSecurity: "restricted",
        tenantIngress: true,
        settings: () => addonSettings({ httpsRedirect: z.boolean().default(true) }),
        load: () => require("./envoy-gateway") as typeof import("./envoy-gateway"),
    },
    externalSecrets: {
        file: "external-secrets",
        title: "External Secrets Operator",
        namespace: "external-secrets",
        chart: charts.externalSecrets,
        podSecurity: "restricted",
        tenantIngress: false,
        settings: () => addonSettings({ secretPrefix: z.string().regex(/^[a-z0-9][a-z0-9-]*\/$/, "must end with '/', e.g. platform/").default("platform/") }),
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
        settings: () => addonSettings({}),
        load: () => require("./falco") as typeof import("./falco"),
    },
    flux: {
        file: "flux",
        title: "Flux",
        namespace: "flux-system",
        chart: charts.flux,
        podSecurity: "restricted",
        tenantIngress: false,
        settings: () => addonSettings({ platformRepository: gitRepository.optional() }),
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
        settings: (env: Environment) =>
            addonSettings({
                retention: z.string().regex(/^\d+[hdw]$/, "must be a Prometheus duration such as 30d").default(byEnv(env, { local: "1d", staging: "7d", production: "30d" })),
                storageSize: quantityOr(byEnv(env, { local: "5Gi", staging: "20Gi", production: "50Gi" })),
            }),
        load: () => require("./monitoring") as typeof import("./monitoring"),
    },
    kyverno: {
        file: "kyverno",
        title: "Kyverno",
        namespace: "kyverno",
        chart: charts.kyverno,
        podSecurity: "restricted",
        tenantIngress: false,
        settings: (env: Environment) =>
            addonSettings({
                validationFailureAction: z.enum(["Audit", "Enforce"]).default(env === "production" ? "Enforce" : "Audit"),
                allowedRegistries: z.array(z.string().min(1)).min(1).default(["registry.k8s.io/", "ghcr.io/", "quay.io/", "docker.io/", "public.ecr.aws/"]),
                requiredLabels: z.array(labelKey).default(["app.kubernetes.io/name"]),
            }),
        load: () => require("./kyverno") as typeof import("./kyverno"),
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
