/**
 * The one building block of the platform: a namespace with its Pod Security level, a Helm
 * release at the exact pin from versions.ts, and optionally a cloud identity for the
 * release's service account. Each add-on file supplies only its chart, values, grant and
 * custom resources; custom resources made through `customResource` wait for the release
 * that installs their CRDs.
 *
 * An add-on either uses `new HelmAddon(...)` directly or extends it with its own type token
 * (`class CertManager extends HelmAddon { constructor(...) { super(name, args, opts, "platform:addons:CertManager") } }`),
 * so its custom resources sit next to its release in the resource tree.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { ChartValues, isPlainObject } from "../chart-values";
import type { ChartsConfig } from "../config-schema";
import { IdentityGrant, PlatformCluster, WorkloadIdentity } from "../types";
import { ChartPin, chartName } from "../versions";
import type { AddonDeclaration, PodSecurityLevel } from "./addons";

export type { PodSecurityLevel };

/** The label every platform namespace carries; the ClusterSecretStore and policies select on it. */
export const MANAGED_BY_LABEL = "platform.example.io/managed-by";
export const MANAGED_BY_VALUE = "platform";

/** What every add-on's component takes: its cluster, where its chart comes from, and the stack's extra values. */
export interface AddonArgs {
    readonly cluster: PlatformCluster;
    /** `platform:charts`: a local chart directory, and whether the release waits for its workloads. Default: the repository, waiting. */
    readonly charts?: ChartsConfig;
    /**
     * `addons.<addon>.values` merged with the cluster's own (config-schema.ts `addonsFor`):
     * deep-merged over the add-on's values. The schema has refused guarded keys. Default: none.
     */
    readonly extraValues?: ChartValues;
}

export interface HelmAddonArgs {
    readonly cluster: PlatformCluster;
    /** Namespace the release installs into; created here with the Pod Security label. */
    readonly namespace: string;
    /** Pod Security Admission level enforced on the namespace. Default: `restricted`. */
    readonly podSecurity?: PodSecurityLevel;
    /** Chart and exact version (from `versions.ts`). */
    readonly chart: ChartPin;
    /**
     * Helm release name. Default: the chart's name (`oci://.../gateway-helm` -> `gateway-helm`).
     * Charts derive their object names from it, so it must not grow with the cluster name
     * (Helm caps release names at 53 characters).
     */
    readonly releaseName?: string;
    /**
     * Cloud identity for the chart's service account; its annotations reach `values`. Several
     * grants are for one service account that needs more than one resource (Velero reading a
     * second cluster's bucket): the cluster adds each to the same identity.
     */
    readonly identity?: { readonly serviceAccount: string; readonly grant: IdentityGrant | readonly IdentityGrant[] };
    /** Chart values, given the identity (when `identity` is set) so the add-on can place its annotations. */
    readonly values: (identity: WorkloadIdentity | undefined) => pulumi.Input<Record<string, unknown>>;
    /** Install after these. Default: none, so add-ons install in parallel. */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
    /** `platform:charts`: a local chart directory, and whether the release waits for its workloads. Default: the repository, waiting. */
    readonly charts?: ChartsConfig;
    /** Chart values from the stack, deep-merged over `values` (theirs win). Default: none. */
    readonly extraValues?: ChartValues;
    /**
     * The chart's hooks only check that its workloads came up (Flux's `flux check --pre`): they
     * are skipped with the workloads' readiness when `charts.wait` is false. Default: false
     * (hooks that do work, such as creating certificates or CRDs, always run).
     */
    readonly hooksOnlyCheck?: boolean;
}

export { chartName };

/**
 * What HelmAddon takes from an add-on's registry entry (its namespace, chart pin and Pod
 * Security level) and from the add-on's arguments (where the chart comes from, extra values).
 */
export const fromRegistry = (addon: AddonDeclaration, args: Pick<AddonArgs, "charts" | "extraValues">) => ({
    namespace: addon.namespace,
    chart: addon.chart,
    podSecurity: addon.podSecurity,
    charts: args.charts,
    extraValues: args.extraValues,
});

/**
 * `extra` merged over `ours` (chart-values.ts rules). `ours` may hold Outputs (identity
 * annotations): they are merged inside their own `apply`, so a secret stays where it was.
 */
export function withExtraValues(ours: pulumi.Input<Record<string, unknown>>, extra: ChartValues | undefined): pulumi.Input<Record<string, unknown>> {
    if (!extra || Object.keys(extra).length === 0) return ours;
    const merge = (base: unknown, over: unknown): unknown => {
        if (!isPlainObject(over)) return over;
        if (pulumi.Output.isInstance(base) || base instanceof Promise) return pulumi.output(base).apply((resolved) => merge(resolved, over));
        if (!isPlainObject(base)) return over;
        const merged: Record<string, unknown> = { ...base };
        for (const [key, value] of Object.entries(over)) merged[key] = merge(base[key], value);
        return merged;
    };
    return merge(ours, extra) as pulumi.Input<Record<string, unknown>>;
}

/**
 * A container's `resources`: what the scheduler reserves for it. Helm merges it into the
 * chart's default, so a chart's own limits stay.
 */
export const requests = (cpu: string, memory: string) => ({ requests: { cpu, memory } });

/**
 * The Release's `chart` and `repositoryOpts`: the chart's repository, or `<directory>/<chart>`
 * when the stack mirrors charts (config.ts has checked that each is there at its pin). A
 * relative directory stays relative (to the project directory, where Pulumi runs the program
 * and its providers), so the Release's inputs do not change with the checkout's location.
 */
export function chartSource(pin: ChartPin, directory: string | undefined): { chart: string; repositoryOpts?: { repo: string } } {
    if (directory === undefined) return { chart: pin.chart, repositoryOpts: pin.repo ? { repo: pin.repo } : undefined };
    const local = path.posix.join(directory, chartName(pin));
    // A path must start with `/` or `.`, or a chart missing from disk is looked up as `repo/chart`.
    return { chart: path.posix.isAbsolute(local) || local.startsWith(".") ? local : `./${local}` };
}

export class HelmAddon extends pulumi.ComponentResource {
    readonly namespace: k8s.core.v1.Namespace;
    /** The namespace's name, known before anything is created (backup schedules list it). */
    readonly namespaceName: string;
    readonly release: k8s.helm.v3.Release;
    readonly identity?: WorkloadIdentity;
    protected readonly addonName: string;

    /**
     * @param type component type token; subclasses pass their own (`platform:addons:<Class>`).
     *             Default: `platform:addons:HelmAddon`.
     */
    constructor(name: string, args: HelmAddonArgs, opts?: pulumi.ComponentResourceOptions, type = "platform:addons:HelmAddon") {
        super(type, name, {}, opts);
        this.addonName = name;
        this.namespaceName = args.namespace;
        const level = args.podSecurity ?? "restricted";
        const wait = args.charts?.wait ?? true;
        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: args.namespace,
                    labels: {
                        "pod-security.kubernetes.io/enforce": level,
                        "pod-security.kubernetes.io/warn": level,
                        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
                    },
                },
            },
            { parent: this },
        );
        this.identity = args.identity ? identityFor(args.cluster, args.namespace, args.identity.serviceAccount, args.identity.grant, this) : undefined;
        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: args.releaseName ?? chartName(args.chart),
                namespace: this.namespace.metadata.name,
                ...chartSource(args.chart, args.charts?.directory),
                version: args.chart.version,
                values: withExtraValues(args.values(this.identity), args.extraValues),
                createNamespace: false,
                // Helm returns once the manifests are applied, hooks included, instead of waiting for the workloads.
                ...(wait ? {} : { skipAwait: true, ...(args.hooksOnlyCheck ? { disableWebhooks: true } : {}) }),
                // A failed upgrade leaves no half-created resources behind, and is reported, not hidden.
                cleanupOnFail: true,
                timeout: 900,
                maxHistory: 10,
            },
            { parent: this, dependsOn: [...(args.dependsOn ?? []), ...(this.identity?.resources ?? [])] },
        );
        this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status });
    }

    /** A custom resource of this add-on, after the release that installs its CRD (and `opts.dependsOn`: a resource or a list). */
    customResource(role: string, manifest: k8s.apiextensions.CustomResourceArgs, opts?: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
        const extra = opts?.dependsOn;
        const more = extra === undefined ? [] : Array.isArray(extra) ? extra : [extra as pulumi.Input<pulumi.Resource>];
        return new k8s.apiextensions.CustomResource(`${this.addonName}-${role}`, manifest, { parent: this, ...opts, dependsOn: [this.release, ...more] });
    }
}

/** One identity for the service account holding every grant (annotations agree across grants). */
function identityFor(cluster: PlatformCluster, namespace: string, serviceAccount: string, grant: IdentityGrant | readonly IdentityGrant[], parent: pulumi.Resource): WorkloadIdentity {
    const identities = (Array.isArray(grant) ? grant : [grant]).map((g: IdentityGrant) => cluster.workloadIdentity(namespace, serviceAccount, g, { parent }));
    if (identities.length === 1) return identities[0];
    return {
        serviceAccountAnnotations: pulumi.all(identities.map((i) => pulumi.output(i.serviceAccountAnnotations))).apply((all) => Object.assign({}, ...all)),
        podLabels: Object.assign({}, ...identities.map((i) => i.podLabels)),
        clientId: identities.find((i) => i.clientId)?.clientId,
        resources: [...new Set(identities.flatMap((i) => i.resources))],
    };
}
