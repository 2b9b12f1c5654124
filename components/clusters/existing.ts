import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BackupCredentials, ClusterConfig, Environment } from "../config";
import { BackupStorage, IdentityGrant, PlatformCluster, ServiceAccountRef, serviceAccountSelector, WorkloadIdentity } from "../types";
import { images } from "../versions";

type ExistingClusterConfig = Extract<ClusterConfig, { cloud: "existing" }>;

export interface ExistingClusterArgs {
    readonly config: ExistingClusterConfig;
    readonly environment: Environment;
    /** Access key for `config.backup`; required when it is set. */
    readonly backupCredentials?: pulumi.Output<BackupCredentials>;
}

/** Namespace that holds the secrets readable under `prefix` (`tenants/team-a/` -> `secrets-tenants-team-a`). */
export const secretsNamespaceFor = (prefix: string) => `secrets-${prefix.replace(/\/+$/, "").replace(/[^a-z0-9]+/g, "-")}`;

/**
 * Adopts a cluster that already exists (kind for the local stack, or any conformant
 * cluster): nothing cloud-side is created. Backups go to an S3-compatible endpoint such
 * as MinIO; secrets come from per-prefix namespaces of the same cluster through External
 * Secrets' Kubernetes provider, with RBAC standing in for cloud workload identity.
 */
export class ExistingCluster extends pulumi.ComponentResource implements PlatformCluster {
    readonly name: string;
    readonly cloud = "existing" as const;
    readonly environment: Environment;
    readonly kubeconfig: pulumi.Output<string>;
    readonly provider: k8s.Provider;
    readonly apiEndpoint: pulumi.Output<string>;
    readonly oidcIssuer: pulumi.Output<string | undefined>;
    readonly privateRanges: string[];
    readonly provisionsLoadBalancers = false;
    private readonly args: ExistingClusterArgs;

    constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:clusters:ExistingCluster", name, {}, opts);
        this.name = args.config.name;
        this.environment = args.environment;
        this.args = args;
        this.privateRanges = args.config.privateRanges;
        // The provider takes a kubeconfig path or its contents; the path is explicit in
        // config, so the ambient kubeconfig is never used by accident.
        this.kubeconfig = pulumi.secret(args.config.kubeconfig.path);
        this.provider = new k8s.Provider(
            `${name}-provider`,
            { kubeconfig: this.kubeconfig, context: args.config.kubeconfig.context },
            { parent: this },
        );
        this.apiEndpoint = pulumi.output(`kubeconfig context ${args.config.kubeconfig.context ?? "(current-context)"}`);
        this.oidcIssuer = pulumi.output(undefined);
        this.registerOutputs({ kubeconfig: this.kubeconfig, apiEndpoint: this.apiEndpoint });
    }

    workloadIdentity(namespace: string, serviceAccount: string, grant: IdentityGrant, opts?: pulumi.ComponentResourceOptions): WorkloadIdentity {
        if (grant.kind !== "secretsRead") {
            // Backups use static credentials and there is no cloud DNS: nothing to grant.
            return { serviceAccountAnnotations: {}, podLabels: {}, resources: [] };
        }
        const secretsNamespace = secretsNamespaceFor(grant.prefix);
        const resourceName = `${this.name}-${namespace}-${serviceAccount}-secrets`;
        const childOpts = { parent: this, ...opts, provider: this.provider };
        const ns = new k8s.core.v1.Namespace(
            `${resourceName}-ns`,
            { metadata: { name: secretsNamespace, labels: { "platform.example.io/secrets-prefix": secretsNamespace } } },
            childOpts,
        );
        const role = new k8s.rbac.v1.Role(
            `${resourceName}-reader`,
            {
                metadata: { name: `read-by-${namespace}-${serviceAccount}`.slice(0, 63), namespace: ns.metadata.name },
                rules: [
                    { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] },
                    { apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectrulesreviews"], verbs: ["create"] },
                ],
            },
            childOpts,
        );
        const binding = new k8s.rbac.v1.RoleBinding(
            `${resourceName}-binding`,
            {
                metadata: { name: role.metadata.name, namespace: ns.metadata.name },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace }],
            },
            childOpts,
        );
        return { serviceAccountAnnotations: {}, podLabels: {}, resources: [ns, role, binding] };
    }

    backupStorage(sourceCluster?: string): BackupStorage {
        const backup = this.args.config.backup;
        if (!backup || !this.args.backupCredentials) {
            throw new pulumi.ResourceError(`cluster ${this.name}: backups need clusters[].backup and the secret platform:backupCredentials`, this);
        }
        const credentials = this.args.backupCredentials.apply(
            (c) => `[default]\naws_access_key_id=${c.accessKeyId}\naws_secret_access_key=${c.secretAccessKey}\n`,
        );
        return {
            provider: "aws",
            bucket: backup.bucket,
            // Each cluster writes under its own prefix; a rebuild of the same name finds its backups again.
            prefix: sourceCluster ?? this.name,
            config: { region: backup.region, s3Url: backup.endpoint, s3ForcePathStyle: "true" },
            pluginImage: images.veleroPluginAws,
            // An adopted cluster may have no CSI snapshot support (kind has none): no volume snapshots.
            csiSnapshots: false,
            credentials: pulumi.secret(credentials),
            resources: [],
        };
    }

    secretStoreProvider(serviceAccount: ServiceAccountRef, prefix: string): pulumi.Input<Record<string, unknown>> {
        return {
            kubernetes: {
                remoteNamespace: secretsNamespaceFor(prefix),
                // kube-root-ca.crt is published into every namespace, so either kind of store finds it.
                server: { caProvider: { type: "ConfigMap", name: "kube-root-ca.crt", key: "ca.crt", ...(serviceAccount.namespace ? { namespace: serviceAccount.namespace } : {}) } },
                auth: { serviceAccount: serviceAccountSelector(serviceAccount) },
            },
        };
    }

    dns01Solver(): undefined {
        return undefined;
    }

    gatewayServiceAnnotations(): Record<string, string> {
        return {};
    }
}
