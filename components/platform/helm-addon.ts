/**
 * The one building block of the platform: a namespace with its Pod Security level, a Helm
 * release at the exact pin from versions.ts, and optionally a cloud identity for the
 * release's service account. Each add-on file supplies only its chart, values, grant and
 * custom resources; custom resources made through `customResource` wait for the release
 * that installs their CRDs.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IdentityGrant, PlatformCluster, WorkloadIdentity } from "../types";
import { ChartPin } from "../versions";

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

export interface HelmAddonArgs {
    readonly cluster: PlatformCluster;
    /** Namespace the release installs into; created here with the Pod Security label. */
    readonly namespace: string;
    /** Pod Security Admission level enforced on the namespace. Default: `restricted`. */
    readonly podSecurity?: PodSecurityLevel;
    /** Chart and exact version (from `versions.ts`). */
    readonly chart: ChartPin;
    /** Cloud identity for the chart's service account; its annotations reach `values`. */
    readonly identity?: { readonly serviceAccount: string; readonly grant: IdentityGrant };
    /** Chart values, given the identity (when `identity` is set) so the add-on can place its annotations. */
    readonly values: (identity: WorkloadIdentity | undefined) => pulumi.Input<Record<string, unknown>>;
    /** Install after these (e.g. cert-manager before the gateway's certificates). Default: none, so add-ons install in parallel. */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export class HelmAddon extends pulumi.ComponentResource {
    readonly namespace: k8s.core.v1.Namespace;
    readonly release: k8s.helm.v3.Release;
    readonly identity?: WorkloadIdentity;
    private readonly name: string;

    constructor(name: string, args: HelmAddonArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:addons:HelmAddon", name, {}, opts);
        this.name = name;
        const level = args.podSecurity ?? "restricted";
        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: args.namespace,
                    labels: {
                        "pod-security.kubernetes.io/enforce": level,
                        "pod-security.kubernetes.io/warn": level,
                        "platform.example.io/managed-by": "platform",
                    },
                },
            },
            { parent: this },
        );
        this.identity = args.identity
            ? args.cluster.workloadIdentity(args.namespace, args.identity.serviceAccount, args.identity.grant, { parent: this })
            : undefined;
        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name,
                namespace: this.namespace.metadata.name,
                chart: args.chart.chart,
                version: args.chart.version,
                repositoryOpts: args.chart.repo ? { repo: args.chart.repo } : undefined,
                values: args.values(this.identity),
                createNamespace: false,
                // A failed upgrade leaves no half-created resources behind, and is reported, not hidden.
                cleanupOnFail: true,
                timeout: 900,
                maxHistory: 10,
            },
            { parent: this, dependsOn: [...(args.dependsOn ?? []), ...(this.identity?.resources ?? [])] },
        );
        this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status });
    }

    /** A custom resource of this add-on, after the release that installs its CRD. */
    customResource(role: string, manifest: k8s.apiextensions.CustomResourceArgs, opts?: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
        return new k8s.apiextensions.CustomResource(`${this.name}-${role}`, manifest, {
            parent: this,
            ...opts,
            dependsOn: [this.release, ...((opts?.dependsOn as pulumi.Resource[] | undefined) ?? [])],
        });
    }
}
