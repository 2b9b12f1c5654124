/**
 * The disaster-recovery drill's stack and the tenants' own objects it backs up and expects
 * back. Expected values are written out here, not computed by the program's modules.
 */
import { addonKeys } from "../../components/platform/addons";

export const DRILL_CLUSTER = "drill";
export const BUCKET = "velero";
export const SCHEDULE = "tenants-daily";
export const TENANTS = ["team-alpha", "team-beta"];
/** The program's ClusterPolicies with Kyverno's defaults (kyverno.ts, image-provenance.ts). */
export const CLUSTER_POLICIES = ["disallow-latest-tag", "pod-security", "require-labels", "restrict-registries", "verify-image-signatures"];

const addonsOff = Object.fromEntries(addonKeys.map((addon) => [addon, { enabled: false }]));

/**
 * A local-style stack: an adopted cluster backing up to MinIO on 127.0.0.1, Velero and Kyverno
 * on from the assembled charts, releases not waiting for pods (none can start). Kyverno is set
 * to Enforce, so that the drill can see the restore turn it to Audit and back.
 * Velero keeps the chart's `upgradeCRDs: true`, as every stack does: its hook Job is done on
 * this machine (tier-hooks.ts veleroHooks).
 * `platform:backupCredentials` is set separately, as a secret (dr-drill.ts).
 */
export function drillConfig(kubeconfig: string, context: string, chartsDirectory: string, minioEndpoint: string): Record<string, unknown> {
    return {
        "pulumi:disable-default-providers": ["*"],
        "platform:environment": "local",
        "platform:clusters": [{ name: DRILL_CLUSTER, cloud: "existing", kubeconfig: { path: kubeconfig, context }, backup: { endpoint: minioEndpoint, bucket: BUCKET } }],
        "platform:charts": { directory: chartsDirectory, wait: false },
        "platform:addons": {
            ...addonsOff,
            velero: { enabled: true },
            kyverno: { enabled: true, validationFailureAction: "Enforce" },
        },
        "platform:tenants": [
            { name: "team-alpha", groups: { edit: { existing: ["team-alpha-developers"] } } },
            { name: "team-beta", groups: { edit: { existing: ["team-beta-developers"] } } },
        ],
    };
}

/** What a tenant made with kubectl, outside Pulumi: the drill's backup must carry it and the restore bring it back. */
export function tenantObjects(namespace: string): Record<string, unknown>[] {
    const labels = { app: "orders", "app.kubernetes.io/name": "orders" };
    return [
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "orders-settings", namespace, labels }, data: { "LOG_LEVEL": "info", "OWNER": namespace } },
        { apiVersion: "v1", kind: "Secret", metadata: { name: "orders-db", namespace, labels }, type: "Opaque", stringData: { password: `drill-${namespace}-s3cret` } },
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "orders", namespace, labels } },
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name: "orders-view", namespace, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
            subjects: [{ kind: "ServiceAccount", name: "orders", namespace }],
        },
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "orders", namespace, labels },
            spec: {
                replicas: 2,
                selector: { matchLabels: { app: "orders" } },
                template: {
                    metadata: { labels },
                    spec: {
                        serviceAccountName: "orders",
                        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [
                            {
                                name: "orders",
                                image: `registry.example.com/${namespace}/orders:1.4.2`,
                                envFrom: [{ configMapRef: { name: "orders-settings" } }],
                                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
                            },
                        ],
                    },
                },
            },
        },
    ];
}
