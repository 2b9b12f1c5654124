/**
 * The platform of one cluster: the dependency graph of the add-ons, in one place. Which
 * add-ons exist is the registry's (addons.ts); this file says what connects them.
 *
 * Add-ons install in parallel: an edge exists only where one needs another's output, and
 * `edges` below lists every one. Each add-on's custom resources wait for its own release
 * (HelmAddon.customResource). Two add-ons come after all the others, by construction:
 * Kyverno, whose policies exclude every other add-on's namespace and wait for its release,
 * and Velero's schedules and restore, which cover every add-on namespace.
 *
 * Rebuild mode: `restoring` is true while the cluster's config has a `restore` block. Then
 * Velero's schedules pause, a Velero Restore is created after everything else, Kyverno only
 * audits (`kyvernoFailureAction`), Flux holds the platform's sync, and index.ts holds tenant
 * GitOps (`suspendGitOps`).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddonsConfig, addonsFor, ChartsConfig, ClusterConfig, PlatformConfig } from "../config";
import { BackupSource, PlatformCluster } from "../types";
import { AddonContext, AddonDeclaration, AddonKey, addonKeys, addons } from "./addons";
import { HelmAddon } from "./helm-addon";
import { restoreFromBackup } from "./restore";

export { kyvernoFailureAction } from "./kyverno";
export type { AddonKey as AddonName } from "./addons";

export interface PlatformArgs {
    readonly cluster: PlatformCluster;
    /** The cluster's own config entry (dns, restore, and its own add-on settings over `addons`). */
    readonly clusterConfig: ClusterConfig;
    /** The stack-wide `platform:addons`. */
    readonly addons: AddonsConfig;
    /** `platform:charts`. Default: every chart from its repository, releases waiting for their workloads. */
    readonly charts?: ChartsConfig;
    readonly secrets: PlatformConfig["secrets"];
    /** The other cluster's store `clusterConfig.restore.source` names, as config.ts found it. Default: none. */
    readonly backupSource?: BackupSource;
}

/** Where the gateway serves without cloud DNS: `*.localhost` resolves to the machine itself. */
export const localDomain = (cluster: string) => `${cluster}.localhost`;

type Module<K extends AddonKey> = ReturnType<(typeof addons)[K]["load"]>;
/** The component an add-on's `install` returns (CertManager, Velero, ...). */
export type Addon<K extends AddonKey> = ReturnType<Module<K>["install"]>;
type Links<K extends AddonKey> = Parameters<Module<K>["install"]>[2];
/** The add-ons built so far, by key (an add-on that is off stays absent). */
type Built = { -readonly [K in AddonKey]?: Addon<K> };

/** The policy engine: built after every other add-on, whose namespaces it must never govern. */
const POLICY_ENGINE = "kyverno" satisfies AddonKey;

/**
 * Every edge of the graph: what an add-on takes from others, which are built before it.
 * An add-on not named here takes nothing from another and installs in parallel.
 */
const edges: { [K in AddonKey]?: { readonly after: readonly AddonKey[]; readonly links: (built: Built, context: AddonContext) => Links<K> } } = {
    // The gateway's wildcard Certificate waits for cert-manager's release (its CRD) and issuer.
    envoyGateway: {
        after: ["certManager"],
        links: ({ certManager }) => ({ tls: certManager && { issuerName: certManager.issuer.name, after: [certManager.release, certManager.issuer.resource] } }),
    },
    // Grafana's HTTPRoute waits for the Gateway (and the Gateway API CRDs of its release).
    monitoring: {
        after: ["envoyGateway", "certManager"],
        links: ({ envoyGateway, certManager }, { domain }) => ({
            grafanaRoute: envoyGateway && { domain, tls: certManager !== undefined, after: [envoyGateway.release, envoyGateway.gateway] },
        }),
    },
};

/** The platform add-ons of one cluster and the order they install in. */
export class Platform extends pulumi.ComponentResource {
    /** Releases by add-on; tenants' custom resources depend on the ones that install their CRDs. */
    readonly releases: Partial<Record<AddonKey, k8s.helm.v3.Release>>;
    /** A `restore` block is set: see the file comment. */
    readonly restoring: boolean;
    readonly gatewayAddress: pulumi.Output<string | undefined>;
    readonly grafanaUrl: pulumi.Output<string | undefined>;
    readonly backupBucket: pulumi.Output<string | undefined>;

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:addons:Platform", name, {}, opts);
        const { cluster, clusterConfig } = args;
        const restore = clusterConfig.restore;
        this.restoring = restore !== undefined;
        const settings = addonsFor(args.addons, clusterConfig);
        const context: AddonContext = {
            cluster,
            clusterConfig,
            addons: settings,
            charts: args.charts ?? { wait: true },
            secrets: args.secrets,
            restoring: this.restoring,
            backupSource: args.backupSource,
            domain: clusterConfig.dns?.domain ?? localDomain(cluster.name),
        };

        const built: Built = {};
        const done = new Set<AddonKey>();
        const install = <K extends AddonKey>(key: K, links: Links<K>) => {
            done.add(key);
            const { file, load, fills } = addons[key] as AddonDeclaration;
            // The cluster says what it lacks: an add-on that fills a gap installs only where it is open.
            if (!settings[key].enabled || (fills && !cluster.gaps.includes(fills))) return;
            const module = load() as unknown as { install(name: string, context: AddonContext, links: Links<K>, opts: pulumi.ComponentResourceOptions): Addon<K> };
            Object.assign(built, { [key]: module.install(`${name}-${file}`, context, links, { parent: this }) });
        };
        const build = (key: AddonKey, path: AddonKey[] = []) => {
            if (done.has(key)) return;
            if (path.includes(key)) throw new Error(`add-on edges form a cycle: ${[...path, key].join(" -> ")}`);
            const edge = edges[key];
            for (const before of edge?.after ?? []) build(before, [...path, key]);
            install(key, edge ? (edge.links as (built: Built, context: AddonContext) => Links<typeof key>)(built, context) : {});
        };
        for (const key of addonKeys) if (key !== POLICY_ENGINE) build(key);
        // In registry order, whatever order the edges built them in: the order of every namespace list below.
        const others = (): HelmAddon[] => addonKeys.flatMap((key) => built[key] ?? []);
        install(POLICY_ENGINE, { platform: others() });

        const installed = others();
        this.releases = Object.fromEntries(addonKeys.flatMap((key) => (built[key] ? [[key, built[key].release]] : [])));
        const velero = built.velero;
        velero?.scheduleBackups({ platformNamespaces: installed.map((addon) => addon.namespaceName), hourly: settings.velero.hourlyBackups });
        if (restore && velero) restoreFromBackup(velero, { restore, after: installed.filter((addon) => addon !== velero) });

        this.gatewayAddress = built.envoyGateway?.address ?? pulumi.output(undefined);
        // The names the Gateway serves resolve to it: records in the cluster's own zone.
        if (clusterConfig.dns && built.envoyGateway) cluster.gatewayRecords(clusterConfig.dns, built.envoyGateway.address);
        this.grafanaUrl = built.monitoring?.grafanaUrl ?? pulumi.output(undefined);
        this.backupBucket = velero ? pulumi.output(velero.storage.bucket) : pulumi.output(undefined);
        this.registerOutputs({ gatewayAddress: this.gatewayAddress, backupBucket: this.backupBucket });
    }
}
