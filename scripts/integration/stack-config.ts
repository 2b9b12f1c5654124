/**
 * The integration stack's configuration, and what the API server must hold after
 * `pulumi up`. Expected values are written out here (not computed by the program's
 * own modules) so that the check is independent of the code under test.
 */
import * as fs from "fs";
import * as YAML from "yaml";
import { addonKeys } from "../../components/platform/addons";

export interface ExpectedTenant {
    name: string;
    quota: Record<string, string>;
    limits: { defaultRequest: { cpu: string; memory: string }; default: { cpu: string; memory: string } };
    groups: { edit: string[]; view: string[] };
    /** CIDRs that the HTTPS egress rule keeps out of 0.0.0.0/0. */
    httpsEgressExcept: string[];
}

export const CLUSTER = "integration";

/** Every add-on (the registry's) installs a Helm chart from a repository this machine cannot reach: all off, by config. */
const addonsOff = Object.fromEntries(addonKeys.map((addon) => [addon, { enabled: false }]));

export function integrationConfig(kubeconfig: string, context: string): Record<string, unknown> {
    return {
        "pulumi:disable-default-providers": ["*"],
        "platform:environment": "local",
        "platform:clusters": [{ name: CLUSTER, cloud: "existing", kubeconfig: { path: kubeconfig, context } }],
        "platform:addons": addonsOff,
        "platform:tenants": [
            // Defaults for quota and limits.
            { name: "team-alpha", groups: { edit: { existing: ["team-alpha-developers"] }, view: { existing: ["team-alpha-viewers"] } } },
            {
                name: "team-beta",
                quota: { "requests.cpu": "2", "requests.memory": "4Gi", "limits.cpu": "4", "limits.memory": "8Gi", pods: "20" },
                limits: { defaultRequest: { cpu: "50m", memory: "64Mi" }, default: { cpu: "250m", memory: "256Mi" } },
                groups: { edit: { existing: ["team-beta-developers"] } },
                allowPrivateEgress: true,
            },
        ],
    };
}

/**
 * The platform tier's stack: local defaults, the add-ons whose charts install without a
 * kubelet on, from the assembled charts, releases not waiting for pods (none can start).
 * Kyverno enforces (a user setting; local's default is Audit) so that the tier sees a refusal.
 * Envoy Gateway's pre-install certgen hook is done on this machine (tier-hooks.ts).
 */
export function platformTierConfig(kubeconfig: string, context: string, chartsDirectory: string): Record<string, unknown> {
    return {
        "pulumi:disable-default-providers": ["*"],
        "platform:environment": "local",
        "platform:clusters": [{ name: CLUSTER, cloud: "existing", kubeconfig: { path: kubeconfig, context } }],
        "platform:charts": { directory: chartsDirectory, wait: false },
        "platform:addons": { ...addonsOff, certManager: { enabled: true }, envoyGateway: { enabled: true }, kyverno: { enabled: true, validationFailureAction: "Enforce" }, monitoring: { enabled: true } },
        "platform:tenants": [{ name: "team-alpha", groups: { edit: { existing: ["team-alpha-developers"] } } }],
    };
}

/**
 * The same stack while it rebuilds from backup: the cluster entry's `restore` block, which
 * needs Velero and a backup store. Rendered offline only (the tier takes its ClusterPolicies;
 * a real restore is the DR drill's), so the store and its credentials are placeholders.
 */
export function platformTierRestoreConfig(kubeconfig: string, context: string, chartsDirectory: string): Record<string, unknown> {
    const config = platformTierConfig(kubeconfig, context, chartsDirectory);
    const [cluster] = config["platform:clusters"] as Record<string, unknown>[];
    return {
        ...config,
        "platform:clusters": [{ ...cluster, backup: { endpoint: "http://127.0.0.1:9000", bucket: "velero" }, restore: { schedule: "tenants-daily" } }],
        "platform:addons": { ...(config["platform:addons"] as object), velero: { enabled: true } },
        // `secure:` as in a stack file, so that the render reads them as secrets (their values never matter).
        "platform:backupCredentials": { accessKeyId: { secure: "v1:placeholder" }, secretAccessKey: { secure: "v1:placeholder" } },
    };
}

/**
 * The same stack with External Secrets on, rendered offline only: the pinned chart cannot be
 * assembled here (docs/integration.md), so no charts directory (the render installs nothing).
 */
export function platformTierSecretsConfig(kubeconfig: string, context: string, chartsDirectory: string): Record<string, unknown> {
    const { ["platform:charts"]: _charts, ...config } = platformTierConfig(kubeconfig, context, chartsDirectory);
    return { ...config, "platform:addons": { ...(config["platform:addons"] as object), externalSecrets: { enabled: true } } };
}

export const METADATA_CIDR = "169.254.169.254/32";
const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

export const expectedTenants: ExpectedTenant[] = [
    {
        name: "team-alpha",
        quota: { "requests.cpu": "4", "requests.memory": "8Gi", "limits.cpu": "8", "limits.memory": "16Gi" },
        limits: { defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" } },
        groups: { edit: ["team-alpha-developers"], view: ["team-alpha-viewers"] },
        httpsEgressExcept: [METADATA_CIDR, ...PRIVATE_RANGES],
    },
    {
        name: "team-beta",
        quota: { "requests.cpu": "2", "requests.memory": "4Gi", "limits.cpu": "4", "limits.memory": "8Gi", pods: "20" },
        limits: { defaultRequest: { cpu: "50m", memory: "64Mi" }, default: { cpu: "250m", memory: "256Mi" } },
        groups: { edit: ["team-beta-developers"], view: [] },
        httpsEgressExcept: [METADATA_CIDR],
    },
];

export const NETWORK_POLICIES = ["default-deny", "tenant-allow"];

/** Sets `config:` of a stack file written by `pulumi stack init` (keeps its encryptionsalt). */
export function writeStackConfig(file: string, config: Record<string, unknown>) {
    const doc = fs.existsSync(file) ? (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) : {};
    doc.config = config;
    fs.writeFileSync(file, YAML.stringify(doc));
}

/** Edits one key of the stack file's config in place. */
export function editStackConfig(file: string, edit: (config: Record<string, any>) => void) {
    const doc = YAML.parse(fs.readFileSync(file, "utf8"));
    edit(doc.config);
    fs.writeFileSync(file, YAML.stringify(doc));
}
