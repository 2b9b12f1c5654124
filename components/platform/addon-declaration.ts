/**
 * The shape of an add-on's entry in the registry (addons.ts) and what its `install` gets.
 * Types only: the registry re-exports them.
 */
import { z } from "zod";
import type { ClusterConfig, PlatformConfig } from "../config";
import type { AddonsConfig, ChartsConfig } from "../config-schema";
import type { GuardedValue } from "../chart-values";
import type { Environment } from "../config-fields";
import type { ClusterGap } from "../clusters/gaps";
import type { BackupSource, PlatformCluster } from "../types";
import type { ChartPin } from "../versions";

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** What every add-on's `install` gets: the cluster, its config entry and the stack's settings. */
export interface AddonContext {
    readonly cluster: PlatformCluster;
    readonly clusterConfig: ClusterConfig;
    /** This cluster's add-on settings: the stack's, with the cluster's own over them (`addonsFor`). */
    readonly addons: AddonsConfig;
    /** `platform:charts`: where every add-on's chart comes from, and whether its release waits. */
    readonly charts: ChartsConfig;
    readonly secrets: PlatformConfig["secrets"];
    /** The cluster's config has a `restore` block (platform/index.ts, rebuild mode). */
    readonly restoring: boolean;
    /** The other cluster's store that `restore.source` names (config.ts resolved it). Default: none. */
    readonly backupSource?: BackupSource;
    /** The domain the shared Gateway serves: the cluster's `dns.domain`, or `<cluster>.localhost`. */
    readonly domain: string;
}

/**
 * A metrics endpoint of an add-on's pods, scraped by a PodMonitor the monitoring add-on owns.
 * Not the charts' own ServiceMonitors: those are the monitoring CRDs' kinds, so Helm would
 * refuse each chart until kube-prometheus-stack had installed, and the add-ons could no longer
 * install in parallel (or without monitoring).
 */
export interface ScrapeTarget {
    /** The PodMonitor's name (its series carry `job="monitoring/<job>"`). */
    readonly job: string;
    /** Labels of the pods that serve it, in the add-on's namespace (the chart's, or the controller's for pods it creates). */
    readonly podLabels: Readonly<Record<string, string>>;
    /** The container port's name. */
    readonly port: string;
    /** Default: /metrics. */
    readonly path?: string;
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
    /** Its block under `platform:addons` (and `clusters[].addons`), per environment; the schema adds `values`. */
    readonly settings: (env: Environment) => z.ZodObject;
    /**
     * Chart values a stack's `values` may not set, beyond pod security (every add-on's, in
     * chart-values.ts): the keys its identity, exclusions, backups or pins rest on.
     */
    readonly guardedValues: readonly GuardedValue[];
    /** Its metrics endpoints that the platform scrapes (alert-rules.ts uses their series); `[]` for none. */
    readonly scrape: readonly ScrapeTarget[];
    /** Installs only on clusters with this gap (clusters/gaps.ts: what the cloud does not do itself). Default: every cluster. */
    readonly fills?: ClusterGap;
    /** Its component module (`install`), loaded when a Platform is built. */
    readonly load: () => unknown;
}
