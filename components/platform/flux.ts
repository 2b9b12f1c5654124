/**
 * Flux: the GitOps controllers the tenants' repositories sync through, and, when
 * `addons.flux.platformRepository` is set, the platform's own repository split the way
 * Flux's examples do: `infrastructure/controllers` first, then `infrastructure/configs`
 * (the custom resources of those controllers), ordered with `dependsOn`.
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
import { AddonArgs, fromRegistry, HelmAddon } from "./helm-addon";

export const FLUX_NAMESPACE = addons.flux.namespace;
export const PLATFORM_SOURCE = "platform";
export const CONTROLLERS_KUSTOMIZATION = "platform-controllers";
export const CONFIGS_KUSTOMIZATION = "platform-configs";

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

    constructor(name: string, args: FluxArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            name,
            {
                cluster: args.cluster,
                ...fromRegistry(addons.flux, args),
                values: () => ({
                    installCRDs: true,
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
                            ...extra,
                        },
                    },
                    { dependsOn: after },
                );
            // `wait` makes the controllers' readiness the signal the configs wait for.
            this.controllers = kustomization("controllers", CONTROLLERS_KUSTOMIZATION, { wait: true }, [this.source]);
            this.configs = kustomization("configs", CONFIGS_KUSTOMIZATION, { dependsOn: [{ name: CONTROLLERS_KUSTOMIZATION }] }, [this.source, this.controllers]);
        }
        this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status });
    }
}

/** The Platform's entry (addons.ts): the platform's own repository held while the cluster restores. */
export function install(name: string, { cluster, charts, addons: settings, restoring }: AddonContext, _links: object, opts?: pulumi.ComponentResourceOptions): Flux {
    return new Flux(name, { cluster, charts, extraValues: settings.flux.values, platformRepository: settings.flux.platformRepository, suspend: restoring }, opts);
}
