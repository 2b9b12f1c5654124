import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BackupCredentials, ClusterConfig, Environment } from "../config";
import { BackupStorage, CloudGroups, ServiceAccountRef, serviceAccountSelector, TenantAccess } from "../types";
import { images } from "../versions";
import { BaseCluster, SourceCluster } from "./base";
import { CloudIdentity, GrantPlacement } from "./identity-book";

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
export class ExistingCluster extends BaseCluster<"existing", ExistingClusterArgs> {

    constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const c = args.config;
        super("platform:clusters:ExistingCluster", name, args, { privateRanges: c.privateRanges, provisionsLoadBalancers: false }, opts);
        // The provider takes a kubeconfig path or its contents; the path is explicit in
        // config, so the ambient kubeconfig is never used by accident.
        const kubeconfig = pulumi.secret(c.kubeconfig.path);
        const provider = new k8s.Provider(`${name}-provider`, { kubeconfig, context: c.kubeconfig.context }, { parent: this });
        this.complete({ kubeconfig, provider, apiEndpoint: pulumi.output(`kubeconfig context ${c.kubeconfig.context ?? "(current-context)"}`), oidcIssuer: pulumi.output(undefined) });
    }

    /**
     * No cloud identity: backups use static credentials and there is no cloud DNS. A secrets
     * grant is RBAC: read access to the one namespace that holds the prefix's secrets.
     */
    protected createIdentity(base: string, namespace: string, serviceAccount: string): CloudIdentity {
        // A service account used to hold one prefix, named `<base>-secrets-*`: the first grant takes those names over.
        let formerName: string | undefined = `${base}-secrets`;
        return {
            resources: [],
            workload: { serviceAccountAnnotations: {}, podLabels: {} },
            addGrant: (grant, at) => {
                if (grant.kind !== "secretsRead") return [];
                const resources = this.secretsReader(at, formerName, namespace, serviceAccount, grant.prefix);
                formerName = undefined;
                return resources;
            },
        };
    }

    private secretsReader(at: GrantPlacement, formerName: string | undefined, namespace: string, serviceAccount: string, prefix: string): pulumi.Resource[] {
        const secretsNamespace = secretsNamespaceFor(prefix);
        const opts = (role: string): pulumi.CustomResourceOptions => ({ ...at.child(role).opts, aliases: formerName ? [{ name: `${formerName}-${role}` }] : [], provider: this.provider });
        const ns = new k8s.core.v1.Namespace(
            at.child("ns").name,
            { metadata: { name: secretsNamespace, labels: { "platform.example.io/secrets-prefix": secretsNamespace } } },
            opts("ns"),
        );
        const role = new k8s.rbac.v1.Role(
            at.child("reader").name,
            {
                metadata: { name: `read-by-${namespace}-${serviceAccount}`.slice(0, 63), namespace: ns.metadata.name },
                rules: [
                    { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] },
                    { apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectrulesreviews"], verbs: ["create"] },
                ],
            },
            opts("reader"),
        );
        const binding = new k8s.rbac.v1.RoleBinding(
            at.child("binding").name,
            {
                metadata: { name: role.metadata.name, namespace: ns.metadata.name },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace }],
            },
            opts("binding"),
        );
        return [ns, role, binding];
    }

    protected createBackupStorage(source?: SourceCluster<"existing">): BackupStorage {
        const owner = source ?? this.args.config;
        const backup = owner.backup;
        if (!backup || !this.args.backupCredentials) {
            throw new pulumi.ResourceError(`cluster ${this.name}: backups need clusters[].backup and the secret platform:backupCredentials`, this);
        }
        const credentials = this.args.backupCredentials.apply(
            (c) => `[default]\naws_access_key_id=${c.accessKeyId}\naws_secret_access_key=${c.secretAccessKey}\n`,
        );
        return {
            cluster: owner.name,
            provider: "aws",
            bucket: backup.bucket,
            // Each cluster writes under its own prefix; a rebuild of the same name finds its backups again.
            prefix: owner.name,
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

    gatewayRecords(): pulumi.Resource[] {
        // An adopted cluster's names are its owner's: the program holds no credentials for its zone.
        return [];
    }

    tenantAccess(_namespace: string, _role: string, groups: CloudGroups): TenantAccess {
        // The adopted cluster's own authenticator presents these groups; nothing to create.
        return { groups: [...groups.existing], resources: [] };
    }
}
