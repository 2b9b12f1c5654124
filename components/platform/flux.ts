/**
 * Flux: the GitOps controllers the tenants' repositories sync through, and, when
 * `addons.flux.platformRepository` is set, the platform's own repository split the way
 * Flux's examples do: `infrastructure/controllers` first, then `infrastructure/configs`
 * (the custom resources of those controllers), ordered with `dependsOn`.
 *
 * Multi-tenancy lockdown (the chart's `multitenancy`, Flux's documented lockdown): the
 * controllers hold no cluster-admin of their own; every Kustomization and HelmRelease applies
 * as a ServiceAccount of its own namespace (`spec.serviceAccountName`, else that namespace's
 * `default`, which nothing binds), may not reference objects in other namespaces, and may not
 * pull kustomize bases from remote URLs. A tenant's repository can create Kustomizations in its
 * namespace (`edit` includes Flux's kinds), and they get no more than the tenant has. The
 * platform's own Kustomizations apply as `platform-reconciler` in flux-system, bound to
 * cluster-admin: its repository installs controllers, CRDs and cluster roles.
 *
 * Values checked against the flux2 chart 2.18.3 (fluxcd-community/helm-charts, tag flux2-2.18.3,
 * charts/flux2/values.yaml; Flux 2.8.5). GitRepository source.toolkit.fluxcd.io/v1 and
 * Kustomization kustomize.toolkit.fluxcd.io/v1 are the stable APIs of that Flux release.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { GitRepositoryConfig } from "../config";
import { AddonContext, addons } from "./addons";
import { AddonArgs, fromRegistry, HelmAddon, requests } from "./helm-addon";

export const FLUX_NAMESPACE = addons.flux.namespace;
export const PLATFORM_SOURCE = "platform";
export const CONTROLLERS_KUSTOMIZATION = "platform-controllers";
export const CONFIGS_KUSTOMIZATION = "platform-configs";
/** The account the platform's own Kustomizations apply as (cluster-admin; only flux-system's objects can name it). */
export const PLATFORM_RECONCILER = "platform-reconciler";
/** The controllers besides kustomize-controller, whose values also carry its lockdown flag. */
const FLUX_CONTROLLERS = ["sourceController", "helmController", "notificationController"];
/** What a Kustomization or HelmRelease without `serviceAccountName` applies as: its namespace's `default` account, bound to nothing. */
export const DEFAULT_RECONCILER = "default";

export interface FluxArgs extends AddonArgs {
    /** `addons.flux.platformRepository`; its `path` holds `infrastructure/controllers` and `infrastructure/configs`. Default: controllers only. */
    readonly platformRepository?: GitRepositoryConfig;
    /** Hold the platform's sync (Flux `suspend`), e.g. while the cluster restores from backup. Default: false. */
    readonly suspend?: boolean;
    /** Install after these. Default: none (installs in parallel with the other add-ons). */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** `./clusters/prod` + `infrastructure/configs` -> `./clusters/prod/infrastructure/configs` (Flux paths are relative to the repository root). */
export const repositoryPath = (base: string, ...parts: string[]) => `./${path.posix.join(base, ...parts).replace(/^(\.\/)+|^\/+/, "")}`;

export class Flux extends HelmAddon {
    readonly source?: k8s.apiextensions.CustomResource;
    readonly controllers?: k8s.apiextensions.CustomResource;
    readonly configs?: k8s.apiextensions.CustomResource;
    /** The binding of `platform-reconciler` to cluster-admin, when the platform has a repository. */
    readonly reconciler?: k8s.rbac.v1.ClusterRoleBinding;

    constructor(name: string, args: FluxArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            name,
            {
                cluster: args.cluster,
                ...fromRegistry(addons.flux, args),
                values: () => ({
                    installCRDs: true,
                    // `privileged: false` drops the chart's cluster-admin binding of kustomize- and
                    // helm-controller; they may only impersonate service accounts.
                    multitenancy: { enabled: true, defaultServiceAccount: DEFAULT_RECONCILER, privileged: false },
                    // One replica each, though they elect leaders: source-controller serves artifacts from
                    // its own pod's storage behind a Service, so a standby replica would answer 404s; Flux
                    // scales by sharding, and a restarting controller only delays a sync.
                    ...Object.fromEntries(FLUX_CONTROLLERS.map((controller) => [controller, { resources: requests("100m", "64Mi") }])),
                    // No remote bases: they would fetch manifests from anywhere, outside the sources Flux verifies.
                    kustomizeController: { resources: requests("100m", "64Mi"), container: { additionalArgs: ["--no-remote-bases=true"] } },
                    // The pre-install `flux check` hook.
                    cli: { resources: requests("10m", "32Mi") },
                    // The components `flux install` deploys by default; image automation would need
                    // write access to the repositories, which nothing here grants.
                    imageAutomationController: { create: false },
                    imageReflectionController: { create: false },
                }),
                dependsOn: args.dependsOn,
                // Its one hook, the pre-install `flux check --pre`, only checks the cluster.
                hooksOnlyCheck: true,
            },
            opts,
            "platform:addons:Flux",
        );

        const repo = args.platformRepository;
        if (repo) {
            const suspend = args.suspend ?? false;
            this.reconciler = this.platformReconciler();
            this.source = this.customResource("source", {
                apiVersion: "source.toolkit.fluxcd.io/v1",
                kind: "GitRepository",
                metadata: { name: PLATFORM_SOURCE, namespace: FLUX_NAMESPACE },
                spec: { url: repo.url, ref: { branch: repo.branch }, interval: "5m" },
            });
            const kustomization = (layer: string, kustomizationName: string, extra: Record<string, unknown>, after: pulumi.Resource[]) =>
                this.customResource(
                    layer,
                    {
                        apiVersion: "kustomize.toolkit.fluxcd.io/v1",
                        kind: "Kustomization",
                        metadata: { name: kustomizationName, namespace: FLUX_NAMESPACE },
                        spec: {
                            sourceRef: { kind: "GitRepository", name: PLATFORM_SOURCE },
                            path: repositoryPath(repo.path, "infrastructure", layer),
                            interval: "1h",
                            retryInterval: "1m",
                            timeout: "5m",
                            prune: true,
                            suspend,
                            serviceAccountName: PLATFORM_RECONCILER,
                            ...extra,
                        },
                    },
                    // The first reconcile must find its account bound, or it fails and waits a retry interval.
                    { dependsOn: [...after, this.reconciler!] },
                );
            // `wait` makes the controllers' readiness the signal the configs wait for.
            this.controllers = kustomization("controllers", CONTROLLERS_KUSTOMIZATION, { wait: true }, [this.source]);
            this.configs = kustomization("configs", CONFIGS_KUSTOMIZATION, { dependsOn: [{ name: CONTROLLERS_KUSTOMIZATION }] }, [this.source, this.controllers]);
        }
        this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status });
    }

    /** `platform-reconciler` in flux-system, bound to cluster-admin: what the platform's Kustomizations apply as. */
    private platformReconciler(): k8s.rbac.v1.ClusterRoleBinding {
        const account = new k8s.core.v1.ServiceAccount(`${this.addonName}-platform-reconciler`, { metadata: { name: PLATFORM_RECONCILER, namespace: this.namespace.metadata.name } }, { parent: this });
        return new k8s.rbac.v1.ClusterRoleBinding(
            `${this.addonName}-platform-reconciler`,
            {
                metadata: { name: `flux-${PLATFORM_RECONCILER}` },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
                subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: FLUX_NAMESPACE }],
            },
            { parent: this },
        );
    }
}

/** The Platform's entry (addons.ts): the platform's own repository held while the cluster restores. */
export function install(name: string, { cluster, charts, addons: settings, restoring }: AddonContext, _links: object, opts?: pulumi.ComponentResourceOptions): Flux {
    return new Flux(name, { cluster, charts, extraValues: settings.flux.values, platformRepository: settings.flux.platformRepository, suspend: restoring }, opts);
}
