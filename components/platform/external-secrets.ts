/**
 * External Secrets Operator and the platform's ClusterSecretStore on the cluster's cloud
 * secret manager. Values checked against the external-secrets chart 2.9.0
 * (external-secrets/external-secrets, tag helm-chart-2.9.0, deploy/charts/external-secrets/values.yaml;
 * ClusterSecretStore conditions in apis/externalsecrets/v1/secretstore_types.go).
 *
 * The operator's identity reads only the platform's prefix, and the store serves only
 * namespaces labelled as platform namespaces: a tenant (whose namespace cannot carry that
 * label) reaches its own prefix through its own SecretStore instead (components/tenancy/secrets.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddonContext, addons } from "./addons";
import { AddonArgs, fromRegistry, HelmAddon, MANAGED_BY_LABEL, MANAGED_BY_VALUE, requests } from "./helm-addon";

export const EXTERNAL_SECRETS_NAMESPACE = addons.externalSecrets.namespace;
export const SERVICE_ACCOUNT = "external-secrets";
export const CLUSTER_SECRET_STORE = "platform-secrets";

export interface ExternalSecretsArgs extends AddonArgs {
    /** Secret-name prefix the platform may read (`addons.externalSecrets.secretPrefix`, e.g. `platform/`). */
    readonly secretPrefix: string;
}

export class ExternalSecrets extends HelmAddon {
    readonly store: k8s.apiextensions.CustomResource;

    constructor(name: string, args: ExternalSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        const highlyAvailable = args.cluster.environment === "production";
        const replicas = highlyAvailable ? 2 : 1;
        super(
            name,
            {
                cluster: args.cluster,
                ...fromRegistry(addons.externalSecrets, args),
                identity: { serviceAccount: SERVICE_ACCOUNT, grant: { kind: "secretsRead", prefix: args.secretPrefix } },
                values: (identity) => ({
                    installCRDs: true,
                    // Two replicas need leader election, or both would reconcile every secret; the
                    // cert-controller elects its leader with the same flag.
                    replicaCount: replicas,
                    leaderElect: highlyAvailable,
                    podDisruptionBudget: { enabled: highlyAvailable },
                    resources: requests("50m", "128Mi"),
                    serviceAccount: { name: SERVICE_ACCOUNT, annotations: identity?.serviceAccountAnnotations ?? {} },
                    podLabels: identity?.podLabels ?? {},
                    webhook: { replicaCount: replicas, podDisruptionBudget: { enabled: highlyAvailable }, resources: requests("20m", "64Mi") },
                    certController: { replicaCount: replicas, podDisruptionBudget: { enabled: highlyAvailable }, resources: requests("20m", "128Mi") },
                }),
            },
            opts,
            "platform:addons:ExternalSecrets",
        );
        this.store = this.customResource("store", {
            apiVersion: "external-secrets.io/v1",
            kind: "ClusterSecretStore",
            metadata: { name: CLUSTER_SECRET_STORE },
            spec: {
                provider: args.cluster.secretStoreProvider({ name: SERVICE_ACCOUNT, namespace: EXTERNAL_SECRETS_NAMESPACE }, args.secretPrefix),
                conditions: [{ namespaceSelector: { matchLabels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } } }],
            },
        });
        this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status, store: CLUSTER_SECRET_STORE });
    }
}

/** The Platform's entry (addons.ts): the operator reading the configured prefix. */
export function install(name: string, { cluster, charts, addons: settings }: AddonContext, _links: object, opts?: pulumi.ComponentResourceOptions): ExternalSecrets {
    return new ExternalSecrets(name, { cluster, charts, extraValues: settings.externalSecrets.values, secretPrefix: settings.externalSecrets.secretPrefix }, opts);
}
