/**
 * Kyverno and the platform's ClusterPolicies: pod-security (the restricted Pod Security
 * Standard), restrict-registries, require-labels and disallow-latest-tag. They govern the
 * tenants' workloads; the platform's own namespaces are excluded so the platform can never
 * lock itself out (their pods come from pinned charts, and each namespace already carries
 * its own Pod Security Admission level). verify-image-signatures (image-provenance.ts) also
 * checks the other add-ons' pods: their images must carry their upstream's signature.
 *
 * Values checked against kyverno 3.9.0 (charts/kyverno/values.yaml at tag kyverno-chart-3.9.0
 * of kyverno/kyverno; app v1.19.0); ClusterPolicy fields against the kyverno.io/v1 CRD of
 * that chart (per-rule `validate.failureAction`, which replaces the deprecated
 * `spec.validationFailureAction`).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddonsConfig } from "../config";
import { AddonContext, addons, systemNamespaces } from "./addons";
import { AddonArgs, fromRegistry, HelmAddon, requests } from "./helm-addon";
import { asPrefix, imageSignatureRules } from "./image-provenance";

export const KYVERNO_NAMESPACE = addons.kyverno.namespace;
/** The ClusterPolicy of image-provenance.ts (platform images signed upstream, tenant registries signed by their signers). */
export const IMAGE_SIGNATURE_POLICY = "verify-image-signatures";
export type FailureAction = AddonsConfig["kyverno"]["validationFailureAction"];

export interface KyvernoArgs extends AddonArgs {
    /** `addons.kyverno`: allowed registries, required labels, and the configured failure action. */
    readonly settings: AddonsConfig["kyverno"];
    /**
     * What a violation does. Default: `settings.validationFailureAction` (Audit in local and
     * staging, Enforce in production). The Platform passes "Audit" while the cluster restores
     * from backup, so restored workloads are reported, not rejected.
     */
    readonly validationFailureAction?: FailureAction;
    /** The add-ons' namespaces (Kyverno's own included): excluded from every policy and from the webhooks. */
    readonly platformNamespaces: string[];
    /** Releases of the other add-ons: the policies apply only once the platform is up. Default: none. */
    readonly platformReleases?: pulumi.Input<pulumi.Resource>[];
    /** Install after these. Default: none. */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export class Kyverno extends HelmAddon {
    readonly policies: k8s.apiextensions.CustomResource[];

    constructor(name: string, args: KyvernoArgs, opts?: pulumi.ComponentResourceOptions) {
        const excluded = [...new Set([...systemNamespaces, KYVERNO_NAMESPACE, ...args.platformNamespaces])];
        // Kyverno cannot vouch for itself: its own namespace and Kubernetes' never reach the webhook.
        const unchecked = [...systemNamespaces, KYVERNO_NAMESPACE];
        // The other add-ons' pods reach it only to have their signatures checked (no other rule governs them).
        const webhookSkips = args.settings.imageSignatures.platform ? unchecked : excluded;
        const production = args.cluster.environment === "production";
        super(
            name,
            {
                cluster: args.cluster,
                ...fromRegistry(addons.kyverno, args),
                values: () => ({
                    // Three replicas keep admission available through a node drain; one is enough to try things.
                    admissionController: {
                        replicas: production ? 3 : 1,
                        container: { resources: requests("100m", "128Mi") },
                        initContainer: { resources: requests("10m", "64Mi") },
                    },
                    // Each elects a leader: a second replica takes over within a lease, and the PDB keeps one through a drain.
                    ...Object.fromEntries(
                        ["backgroundController", "cleanupController", "reportsController"].map((controller) => [
                            controller,
                            { replicas: production ? 2 : 1, podDisruptionBudget: { enabled: production }, resources: requests("100m", "64Mi") },
                        ]),
                    ),
                    // Hooks: the CRD migration after an upgrade, the webhook cleanup before a delete.
                    crds: { migration: { podResources: requests("10m", "64Mi") } },
                    webhooksCleanup: { resources: requests("10m", "64Mi") },
                    // The `helm test` pods.
                    test: { resources: requests("10m", "64Mi") },
                    config: {
                        // Not even sent to Kyverno: if Kyverno is down, Kyverno and Kubernetes still heal themselves.
                        webhooks: { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: webhookSkips }] } },
                    },
                }),
                dependsOn: args.dependsOn,
            },
            opts,
            "platform:addons:Kyverno",
        );

        const action = args.validationFailureAction ?? args.settings.validationFailureAction;
        const afterPlatform = { dependsOn: args.platformReleases as pulumi.Resource[] | undefined };
        const validating = policySpecs(args.settings, excluded, action).map((policy) =>
            this.customResource(
                policy.name,
                {
                    apiVersion: "kyverno.io/v1",
                    kind: "ClusterPolicy",
                    metadata: { name: policy.name, annotations: { "policies.kyverno.io/title": policy.title, "policies.kyverno.io/category": "Platform" } },
                    spec: {
                        background: true,
                        // An audit-only policy must not block admission just because Kyverno is unreachable.
                        failurePolicy: action === "Enforce" ? "Fail" : "Ignore",
                        rules: policy.rules,
                    },
                },
                afterPlatform,
            ),
        );
        const signatureRules = imageSignatureRules(args.settings.imageSignatures, unchecked, action);
        const signatures = signatureRules.length
            ? [
                  this.customResource(
                      IMAGE_SIGNATURE_POLICY,
                      {
                          apiVersion: "kyverno.io/v1",
                          kind: "ClusterPolicy",
                          metadata: { name: IMAGE_SIGNATURE_POLICY, annotations: { "policies.kyverno.io/title": "Verify image signatures", "policies.kyverno.io/category": "Platform" } },
                          spec: {
                              // A check that calls registries runs at admission only, not in periodic background scans.
                              background: false,
                              // Registries and Rekor answer within seconds, not the default 10.
                              webhookConfiguration: { failurePolicy: action === "Enforce" ? "Fail" : "Ignore", timeoutSeconds: 30 },
                              rules: signatureRules,
                          },
                      },
                      afterPlatform,
                  ),
              ]
            : [];
        this.policies = [...validating, ...signatures];
        this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status });
    }
}

/** What Kyverno takes from the other add-ons (platform/index.ts builds it last): every one of them. */
export interface KyvernoLinks {
    readonly platform: readonly HelmAddon[];
}

/**
 * Kyverno's validationFailureAction: the configured one, except Audit while restoring, since
 * a restore puts back objects admitted under older policies and must not be half-refused.
 */
export function kyvernoFailureAction(settings: AddonsConfig, restoring: boolean): FailureAction {
    return restoring ? "Audit" : settings.kyverno.validationFailureAction;
}

/** The Platform's entry (addons.ts): the policies exclude every other add-on's namespace and wait for its release. */
export function install(name: string, { cluster, charts, addons: settings, restoring }: AddonContext, links: KyvernoLinks, opts?: pulumi.ComponentResourceOptions): Kyverno {
    return new Kyverno(
        name,
        {
            cluster,
            charts,
            extraValues: settings.kyverno.values,
            settings: settings.kyverno,
            validationFailureAction: kyvernoFailureAction(settings, restoring),
            platformNamespaces: links.platform.map((addon) => addon.namespaceName),
            platformReleases: links.platform.map((addon) => addon.release),
        },
        opts,
    );
}

interface PolicySpec {
    readonly name: string;
    readonly title: string;
    readonly rules: Record<string, unknown>[];
}

/** A pattern every container image (init and ephemeral ones too) must match. */
const imagePattern = (image: string) => ({
    spec: {
        containers: [{ image }],
        "=(initContainers)": [{ image }],
        "=(ephemeralContainers)": [{ image }],
    },
});

export function policySpecs(settings: AddonsConfig["kyverno"], excluded: string[], failureAction: FailureAction): PolicySpec[] {
    const rule = (name: string, validate: Record<string, unknown>) => ({
        name,
        match: { any: [{ resources: { kinds: ["Pod"] } }] },
        exclude: { any: [{ resources: { namespaces: excluded } }] },
        validate: { failureAction, ...validate },
    });
    const policies: PolicySpec[] = [
        {
            name: "pod-security",
            title: "Restricted Pod Security Standard",
            rules: [
                rule("restricted", {
                    message: "Pods must meet the restricted Pod Security Standard: run as non-root, no privilege escalation, drop ALL capabilities, seccomp RuntimeDefault, no host namespaces, host paths or privileged containers.",
                    podSecurity: { level: "restricted", version: "latest" },
                }),
            ],
        },
        {
            name: "restrict-registries",
            title: "Restrict image registries",
            rules: [
                rule("allowed-registries", {
                    message: `Images must be fully qualified and come from one of: ${settings.allowedRegistries.map(asPrefix).join(", ")}`,
                    pattern: imagePattern(settings.allowedRegistries.map((r) => `${asPrefix(r)}*`).join(" | ")),
                }),
            ],
        },
        {
            name: "disallow-latest-tag",
            title: "Disallow the latest tag",
            rules: [
                rule("require-image-tag", { message: "Images must name a tag.", pattern: imagePattern("*:*") }),
                rule("disallow-latest", { message: "The :latest tag is mutable: pin a version.", pattern: imagePattern("!*:latest") }),
            ],
        },
    ];
    if (settings.requiredLabels.length) {
        policies.push({
            name: "require-labels",
            title: "Require labels",
            rules: [
                rule("required-labels", {
                    message: `Pods must carry the labels ${settings.requiredLabels.join(", ")}.`,
                    pattern: { metadata: { labels: Object.fromEntries(settings.requiredLabels.map((label) => [label, "?*"])) } },
                }),
            ],
        });
    }
    return policies;
}
