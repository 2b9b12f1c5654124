/**
 * The stack configuration as a typed schema: what `Pulumi.<stack>.yaml` may say under
 * `platform:*`, with the defaults each environment gets. Pure: no Pulumi, no I/O, so the
 * README's reference and the tests read the same schema the program does.
 */
import { z } from "zod";
import { ChartValues, guardViolations, mergeValues, podSecurityGuards } from "./chart-values";
import { AddonKey, addonKeys, addons, reservedNamespaces } from "./platform/addons";
import { unlistedSignedRegistries } from "./platform/image-provenance";
import { Cloud, cidr, clouds, dnsLabel, dnsName, Environment, environments, gitRepository, isSecret, labelKey, labels, labelValue, quantity, quantityOr, secret } from "./config-fields";
import { kubernetesVersions } from "./versions";
import { pairedRegion } from "./clusters/backup-regions";
import { PARSE, problemsOfIssue } from "./config-messages";

export * from "./config-fields";

// ---------- clusters ----------

const taint = z.strictObject({
    key: labelKey,
    value: labelValue.optional(),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"], {
        error: "must be NoSchedule, PreferNoSchedule or NoExecute",
    }),
});

const nodePool = z
    .strictObject({
        name: dnsLabel,
        /** `system` pools run the platform's controllers; `user` pools run tenants. */
        role: z.enum(["system", "user"], { error: "must be system or user" }),
        instanceType: z.string().min(1),
        minSize: z.number().int().min(0, "must be >= 0"),
        maxSize: z.number().int().min(1, "must be >= 1"),
        spot: z.boolean().default(false),
        diskSizeGb: z.number().int().min(20).max(4096).default(100),
        taints: z.array(taint).default([]),
        labels: labels.default({}),
    })
    // Checked whenever both sizes are numbers, even if the pool has other problems: they are reported together.
    .refine((pool) => pool.minSize <= pool.maxSize, {
        path: ["minSize"],
        error: (issue) => {
            const { minSize, maxSize } = issue.input as { minSize: number; maxSize: number };
            return `must be <= maxSize (${minSize} > ${maxSize})`;
        },
        when: ({ value }) => typeof (value as { minSize?: unknown })?.minSize === "number" && typeof (value as { maxSize?: unknown })?.maxSize === "number",
    })
    .superRefine((pool, ctx) => {
        if (pool.role === "system" && pool.minSize < 1) {
            ctx.addIssue({ code: "custom", path: ["minSize"], message: "a system pool needs minSize >= 1" });
        }
        if (pool.role === "system" && pool.spot) {
            ctx.addIssue({ code: "custom", path: ["spot"], message: "a system pool cannot be spot: the platform's controllers would be evicted" });
        }
    });

/**
 * Whose backups a restore reads, when not this cluster's own: another cluster of this stack, or
 * of another stack of the project (a drill stack reading production's). Its store is attached
 * read-only; config.ts finds the cluster in `Pulumi.<stack>.yaml` and names its store exactly as
 * that stack does (components/clusters/).
 */
const restoreSource = z.strictObject({
    /** The stack that wrote the backups; its `Pulumi.<stack>.yaml` must be in the project directory. Default: this stack. */
    stack: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+$/, "must be a stack name (letters, digits, _ . -)")
        .optional(),
    /** The cluster, in that stack, that wrote the backups. */
    cluster: dnsLabel,
});

const restore = z
    .strictObject({
        /** Restore this exact Velero backup. */
        backupName: dnsLabel.optional(),
        /** Or restore the latest successful backup of this schedule (e.g. tenants-daily). */
        schedule: dnsLabel.optional(),
        /** Read the backup from another cluster's store (attached read-only). Default: this cluster's own. */
        source: restoreSource.optional(),
        /**
         * Read it from the copy outside the region (`backupCopyRegion`) of that store, attached
         * read-only: the change to make when the store's region is lost. Default: false.
         */
        fromCopy: z.boolean().default(false),
    })
    .refine((r) => (r.backupName === undefined) !== (r.schedule === undefined), "set exactly one of backupName or schedule");

function kubernetesVersion(cloud: Cloud) {
    const supported: readonly string[] = kubernetesVersions[cloud];
    return z
        .string({ error: 'must be a quoted "MAJOR.MINOR" string such as "1.33" (unquoted YAML turns 1.30 into 1.3)' })
        .regex(/^\d+\.\d+$/, 'must be "MAJOR.MINOR", such as "1.33"')
        .refine((v) => supported.includes(v), `must be one of ${supported.join(", ")} on ${cloud}`)
        .meta({ format: "kubernetes-version", examples: [...supported] });
}

function clusterBase(env: Environment) {
    return {
        name: dnsLabel,
        /** Public endpoint only when false, and then only from `authorizedNetworks`. */
        privateEndpoint: z.boolean().default(env === "production"),
        /** CIDRs allowed to reach the API server's public endpoint. */
        authorizedNetworks: z.array(cidr).default([]),
        /** DNS for the shared Gateway and DNS-01 certificates: `zone` is the cloud's zone id or name. */
        dns: z.strictObject({ domain: dnsName, zone: z.string().min(1) }).optional(),
        restore: restore.optional(),
        /** This cluster's own add-on settings, over the stack-wide `addons` (see `addonsFor`). */
        addons: clusterAddonsSchema(env).optional(),
    };
}

/**
 * A cloud cluster's public API endpoint is reachable only from listed networks: without a list,
 * EKS and AKS would open it to the whole internet and GKE to every Google Cloud address.
 */
function publicEndpointNeedsAllowList(cluster: { privateEndpoint: boolean; authorizedNetworks: string[] }, ctx: z.RefinementCtx) {
    if (!cluster.privateEndpoint && cluster.authorizedNetworks.length === 0) {
        ctx.addIssue({ code: "custom", path: ["authorizedNetworks"], message: "must list at least one CIDR when privateEndpoint is false (a public API endpoint is never open to the internet)" });
    }
}

/**
 * A copy of every backup outside the cluster's region (docs/disaster-recovery.md): the copy's
 * region, or false for none. Default: the region's pair (components/clusters/backup-regions.ts)
 * in staging and production, none in local.
 */
const backupCopyRegion = (region: z.ZodString) => region.or(z.literal(false)).optional();

/** The copy region is another region; without one of the table's pairs, it must be stated (or refused with false). */
function copyRegionRule(cloud: "aws" | "azure" | "gcp", env: Environment) {
    return (cluster: { region: string; backupCopyRegion?: string | false }, ctx: z.RefinementCtx) => {
        const copy = cluster.backupCopyRegion;
        const pair = pairedRegion(cloud, cluster.region);
        const path = ["backupCopyRegion"];
        if (copy === cluster.region) {
            ctx.addIssue({ code: "custom", path, message: `must be another region than the cluster's (${cluster.region}): the copy is what survives a region loss` });
        } else if (copy === undefined && env !== "local" && pair === undefined) {
            ctx.addIssue({ code: "custom", path, message: `has no default for ${cluster.region}: set the region the backups are copied to, or false for no copy (the backups would not survive a region loss)` });
        } else if (cloud === "azure" && typeof copy === "string" && pair !== undefined && copy !== pair) {
            ctx.addIssue({ code: "custom", path, message: `geo-redundant storage copies to ${cluster.region}'s Azure pair, ${pair}: set ${pair}, or false for no copy` });
        }
    };
}

const systemPoolRequired = (pools: { role: string }[]) => pools.some((p) => p.role === "system");
const poolsOf = (poolSchema: z.ZodType<z.output<typeof nodePool>, z.input<typeof nodePool>>) =>
    z.array(poolSchema).min(1, "needs at least one node pool").refine(systemPoolRequired, "needs at least one pool with role: system");

const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region such as us-east-1");
const azureRegion = z.string().regex(/^[a-z]+[0-9]?$/, "must be an Azure region name such as westeurope or eastus2");
const gcpRegion = z.string().regex(/^[a-z]+-[a-z]+\d$/, "must be a GCP region such as europe-west4");
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;
const iamRoleArn = z.string().regex(IAM_ROLE_ARN, "must be an IAM role ARN");

const awsCluster = (env: Environment) =>
    z.strictObject({
        ...clusterBase(env),
        cloud: z.literal("aws"),
        region: awsRegion,
        backupCopyRegion: backupCopyRegion(awsRegion),
        kubernetesVersion: kubernetesVersion("aws"),
        /** IAM role the AWS provider assumes for this cluster's account. */
        assumeRoleArn: iamRoleArn.optional(),
        /** IAM roles granted cluster-admin through EKS access entries. */
        adminRoleArns: z.array(iamRoleArn).default([]),
        /** Split into three private /(n+3) and three public /(n+6) subnets, one of each per AZ. */
        vpcCidr: cidr.refine((c) => Number(c.split("/")[1]) >= 16 && Number(c.split("/")[1]) <= 20, "must be a /16 to /20 (three private and three public subnets are carved from it)").default("10.0.0.0/16"),
        nodePools: poolsOf(nodePool),
    })
        .superRefine(publicEndpointNeedsAllowList)
        .superRefine(copyRegionRule("aws", env));

// AKS agent pool names: lower-case letters and digits, at most 12 characters.
const aksPool = nodePool.refine((p) => /^[a-z][a-z0-9]{0,11}$/.test(p.name), {
    path: ["name"],
    message: "AKS pool names are lower-case letters and digits, at most 12 characters",
});
export const AZURE_DNS_ZONE_ID = /^\/subscriptions\/([0-9a-f-]{36})\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/dnszones\/([^/]+)$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuid = z.string().regex(UUID, "must be a UUID");
const azureCluster = (env: Environment) =>
    z.strictObject({
        ...clusterBase(env),
        cloud: z.literal("azure"),
        region: azureRegion,
        backupCopyRegion: backupCopyRegion(azureRegion),
        kubernetesVersion: kubernetesVersion("azure"),
        subscriptionId: uuid,
        /** Entra ID groups granted cluster-admin through Azure RBAC. */
        adminGroupObjectIds: z.array(uuid).default([]),
        vnetCidr: cidr.default("10.1.0.0/16"),
        nodePools: poolsOf(aksPool),
    })
        .superRefine(publicEndpointNeedsAllowList)
        .superRefine(copyRegionRule("azure", env))
        .superRefine((cluster, ctx) => {
            if (cluster.adminGroupObjectIds.length === 0) {
                ctx.addIssue({ code: "custom", path: ["adminGroupObjectIds"], message: "must list at least one Entra ID group: local accounts are off, so these groups (with the identity that runs pulumi up) are the only way in" });
            }
            // cert-manager's azureDNS solver and the zone-scoped role assignment need the zone's resource ID.
            if (cluster.dns && !AZURE_DNS_ZONE_ID.test(cluster.dns.zone)) {
                ctx.addIssue({ code: "custom", path: ["dns", "zone"], message: "must be an Azure DNS zone resource ID (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/dnszones/<zone>)" });
            }
            // The Gateway's records are named relative to the zone (clusters/gateway-dns.ts).
            const zoneName = cluster.dns && AZURE_DNS_ZONE_ID.exec(cluster.dns.zone)?.[3].toLowerCase();
            if (cluster.dns && zoneName && cluster.dns.domain !== zoneName && !cluster.dns.domain.endsWith(`.${zoneName}`)) {
                ctx.addIssue({ code: "custom", path: ["dns", "domain"], message: `must be ${zoneName} or a name under it (the zone dns.zone names), where the Gateway's records go` });
            }
        });

const gcpCluster = (env: Environment) =>
    z.strictObject({
        ...clusterBase(env),
        cloud: z.literal("gcp"),
        region: gcpRegion,
        backupCopyRegion: backupCopyRegion(gcpRegion),
        kubernetesVersion: kubernetesVersion("gcp"),
        project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a GCP project id"),
        /**
         * Google Groups for RBAC: the Workspace group `gke-security-groups@<domain>` whose member
         * groups GKE presents to RBAC (tenants' `groups.*.gcp`). Default: off (no tenant gcp groups).
         */
        securityGroup: z.string().regex(/^gke-security-groups@([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, "must be gke-security-groups@<your domain>, the group GKE reads members' groups from").optional(),
        subnetCidr: cidr.default("10.2.0.0/20"),
        podsCidr: cidr.default("10.20.0.0/14"),
        servicesCidr: cidr.default("10.24.0.0/20"),
        masterCidr: cidr.default("172.16.0.0/28"),
        nodePools: poolsOf(nodePool),
    })
        .superRefine(publicEndpointNeedsAllowList)
        .superRefine(copyRegionRule("gcp", env));

const existingCluster = (env: Environment) =>
    z.strictObject({
        ...clusterBase(env),
        cloud: z.literal("existing"),
        kubernetesVersion: kubernetesVersion("existing").optional(),
        /** The cluster to adopt: an explicit kubeconfig file (never the ambient one) and optional context. */
        kubeconfig: z.strictObject({ path: z.string().min(1), context: z.string().min(1).optional() }),
        /** S3-compatible backup endpoint (e.g. MinIO); credentials come from the secret `platform:backupCredentials`. */
        backup: z
            .strictObject({
                endpoint: z.string().regex(/^https?:\/\/\S+$/, "must be an http(s):// URL"),
                bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name"),
                region: z.string().min(1).default("us-east-1"),
            })
            .optional(),
        /** Private ranges of the cluster network, kept out of tenants' HTTPS egress. */
        privateRanges: z.array(cidr).default(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]),
    });

export function clusterSchema(env: Environment) {
    return z.discriminatedUnion("cloud", [awsCluster(env), azureCluster(env), gcpCluster(env), existingCluster(env)], {
        error: (issue) => {
            if (issue.code !== "invalid_union") return undefined;
            const given = (issue.input as { cloud?: unknown } | undefined)?.cloud;
            return given === undefined ? `is required: one of ${clouds.join(", ")}` : `must be one of ${clouds.join(", ")} (got ${JSON.stringify(given)})`;
        },
    });
}

/** What every cluster is checked for, whatever its cloud; config.ts applies it when `cloud` is unknown. */
export const anyCloudCluster = (env: Environment) => z.looseObject({ ...clusterBase(env), nodePools: poolsOf(nodePool).optional() });

// ---------- add-ons ----------

/**
 * An add-on's `values`: chart values deep-merged over the platform's (chart-values.ts). A key
 * the platform's promises rest on (pod security everywhere, the add-on's `guardedValues`) is
 * an error naming the key and why, never a silent override.
 */
function chartValues(key: AddonKey) {
    const guards = [...podSecurityGuards, ...addons[key].guardedValues];
    return z
        .record(z.string(), z.unknown())
        .default({})
        .superRefine((values, ctx) => {
            for (const { path, guard } of guardViolations(values, guards)) {
                ctx.addIssue({ code: "custom", path, message: `is set by the platform and cannot be overridden (${guard.path}: ${guard.why})` });
            }
        });
}

type SettingsShape<K extends AddonKey> = ReturnType<(typeof addons)[K]["settings"]> extends z.ZodObject<infer Shape> ? Shape : never;
type AddonBlock<K extends AddonKey> = z.ZodObject<SettingsShape<K> & { values: ReturnType<typeof chartValues> }, z.core.$strict>;
/** One add-on's block: the registry's settings plus `values`. */
function addonBlock<K extends AddonKey>(key: K, env: Environment): AddonBlock<K> {
    return addons[key].settings(env).extend({ values: chartValues(key) }) as unknown as AddonBlock<K>;
}

/** Each add-on's block, from the registry (platform/addons.ts); an absent block means every default. */
export function addonsSchema(env: Environment) {
    const shape = Object.fromEntries(addonKeys.map((key) => [key, addonBlock(key, env).prefault({})])) as { [K in AddonKey]: z.ZodPrefault<AddonBlock<K>> };
    return z.strictObject(shape);
}

/**
 * A cluster's override of one add-on's block: validated by the same block (so the same keys,
 * types and guards), keeping only the keys the cluster sets: the others come from `addons`.
 */
function addonOverride<K extends AddonKey>(key: K, env: Environment) {
    const block = addonBlock(key, env);
    return z
        .unknown()
        .transform((raw, ctx): Partial<z.output<AddonBlock<K>>> => {
            const parsed = block.safeParse(raw, PARSE);
            if (!parsed.success) {
                for (const problem of parsed.error.issues.flatMap(problemsOfIssue)) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
                return z.NEVER;
            }
            const given = raw && typeof raw === "object" ? Object.keys(raw) : [];
            return Object.fromEntries(Object.entries(parsed.data).filter(([k]) => given.includes(k))) as Partial<z.output<AddonBlock<K>>>;
        })
        .meta({ overrides: `addons.${key}` });
}

function clusterAddonsSchema(env: Environment) {
    const shape = Object.fromEntries(addonKeys.map((key) => [key, addonOverride(key, env).optional()])) as { [K in AddonKey]: z.ZodOptional<ReturnType<typeof addonOverride<K>>> };
    return z.strictObject(shape);
}

// ---------- charts ----------

/** Where the add-ons' charts come from, and whether their releases wait (`platform:charts`). */
const chartsSchema = z.strictObject({
    /**
     * A directory that mirrors the charts (air-gapped installs): each enabled add-on installs
     * `<directory>/<chart>` (the chart's name, as in versions.ts) at its pinned version instead
     * of its repository. config.ts checks every one before anything is created. Relative paths
     * are relative to the project directory. Default: the charts' repositories.
     */
    directory: z.string().min(1).optional(),
    /**
     * Releases wait for their workloads to become ready (and for hooks that only check that).
     * false: `up` moves on once Helm has applied the manifests (clusters whose pods cannot start
     * yet, or a first install you watch with kubectl). Default: true.
     */
    wait: z.boolean().default(true),
});

// ---------- tenants ----------

const quotaKey = z
    .string()
    .regex(
        /^((requests|limits)\.(cpu|memory|ephemeral-storage|storage)|cpu|memory|pods|services|services\.(loadbalancers|nodeports)|persistentvolumeclaims|configmaps|secrets|replicationcontrollers|resourcequotas|count\/[a-z0-9.-]+|requests\.[a-z0-9.-]+\/[a-z0-9.-]+)$/,
        "is not a ResourceQuota resource name",
    );
export const defaultQuota = { "requests.cpu": "4", "requests.memory": "8Gi", "limits.cpu": "8", "limits.memory": "16Gi" };
const cpuMemory = (cpu: string, memory: string) => z.strictObject({ cpu: quantityOr(cpu), memory: quantityOr(memory) }).prefault({});

/**
 * The people holding a tenant role, in each cloud's own terms: a tenant can live on clusters of
 * several clouds, and each cloud names a group differently. A cluster reads its own cloud's list
 * (clusters/*-tenant-access.ts); a tenant with no list for a cloud has no one in that role there.
 */
const tenantGroups = z
    .strictObject(
        {
            /** IAM role ARNs (with their path), e.g. IAM Identity Center permission sets' roles: EKS access entries. */
            aws: z.array(z.string().regex(IAM_ROLE_ARN, "must be an IAM role ARN (arn:aws:iam::<account>:role/<path>/<name>), e.g. a permission set's role")).default([]),
            /** Entra ID group object IDs (AKS tokens carry object IDs, not names). */
            azure: z.array(z.string().regex(UUID, "must be an Entra ID group object ID (a UUID; AKS tokens carry object IDs, not names)")).default([]),
            /** Google group e-mail addresses, members of the cluster's `securityGroup`. */
            gcp: z.array(z.email({ error: "must be a Google group's e-mail address (Google Groups for RBAC)" })).default([]),
            /** Kubernetes group names as the adopted cluster's authenticator presents them. */
            existing: z.array(z.string().min(1).refine((g) => !g.startsWith("system:"), "must not be a system: group (Kubernetes' own)")).default([]),
        },
        { error: (issue) => (issue.code === "invalid_type" ? "must list the groups per cloud: { aws: [IAM role ARNs], azure: [Entra ID group object IDs], gcp: [Google group e-mails], existing: [group names] }" : undefined) },
    )
    .prefault({});

const PLATFORM_LABEL_PREFIXES = ["pod-security.kubernetes.io/", "toolkit.fluxcd.io/", "platform.example.io/", "kubernetes.io/", "k8s.io/"];
const isPlatformLabel = (key: string) => PLATFORM_LABEL_PREFIXES.some((p) => key.startsWith(p) || key.includes(`.${p}`));

export const tenantSchema = z.strictObject({
    name: dnsLabel.refine((n) => !n.startsWith("kube-") && !reservedNamespaces().includes(n), "is a reserved platform namespace"),
    /** ResourceQuota `hard`; keys not given keep their defaults. */
    quota: z.record(quotaKey, quantity).default({}).transform((q) => ({ ...defaultQuota, ...q })).meta({ mergedDefault: defaultQuota }),
    limits: z.strictObject({ defaultRequest: cpuMemory("100m", "128Mi"), default: cpuMemory("500m", "512Mi") }).prefault({}),
    /** Who holds the built-in `edit` and `view` ClusterRoles in the tenant namespace, per cloud (`tenantGroups`). */
    groups: z.strictObject({ edit: tenantGroups, view: tenantGroups }).prefault({}),
    /** Clusters the tenant lives on; default: every cluster of the stack. */
    clusters: z.array(dnsLabel).min(1).optional(),
    gitops: gitRepository.optional(),
    /** Allow HTTPS egress to the cluster's private ranges (default: internet only). */
    allowPrivateEgress: z.boolean().default(false),
    /** Extra namespace labels; the platform's own (Pod Security, Flux tenant, platform.example.io) are not the tenant's to set. */
    labels: labels.default({}).refine((l) => !Object.keys(l).some(isPlatformLabel), "must not set platform-owned labels (pod-security.kubernetes.io/, toolkit.fluxcd.io/, platform.example.io/, kubernetes.io/)"),
});

// ---------- the whole stack ----------

/** `["clusters", 0, "nodePools", 1, "minSize"]` -> `clusters[0].nodePools[1].minSize` */
export function formatPath(path: readonly PropertyKey[]): string {
    return path.map((seg, i) => (typeof seg === "number" ? `[${seg}]` : i === 0 ? String(seg) : `.${String(seg)}`)).join("") || "(root)";
}

/**
 * Top-level keys that hold secrets: set with `pulumi config set --secret` (config.ts refuses
 * them in plain text), kept secret Outputs, listed as secret in the generated reference.
 */
const secretFields = {
    /** Access key for the S3-compatible backup endpoints of `existing` clusters. */
    backupCredentials: secret(z.strictObject({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) })),
    /** Alertmanager webhook receiver URL. */
    alertmanagerWebhookUrl: secret(z.string({ error: "must be an https:// URL" }).regex(/^https:\/\/\S+$/, "must be an https:// URL")),
    /** Grafana's `admin` password, the same on every cluster of the stack. Default: a random one per cluster, kept in the state. */
    grafanaAdminPassword: secret(z.string({ error: "must be a string" }).min(16, "must be at least 16 characters")),
};

/** Every top-level key under `platform:`, in one place: a key not here is an error. */
function stackShape(env: Environment) {
    return {
        environment: z.enum(environments),
        clusters: z.array(clusterSchema(env)).min(1, "declare at least one cluster"),
        addons: addonsSchema(env).prefault({}),
        charts: chartsSchema.prefault({}),
        tenants: z.array(tenantSchema).default([]),
        ...secretFields,
    };
}

export type SecretKey = keyof typeof secretFields;
const shape = stackShape("local");
/** The keys a stack file may set under `platform:`. */
export const stackKeys = Object.keys(shape) as (keyof typeof shape)[];
/** The keys marked secret (what the reference shows as secret is what config.ts keeps secret). */
export const secretKeys = stackKeys.filter((key) => isSecret(shape[key])) as SecretKey[];

export function platformSchema(env: Environment) {
    return z.strictObject(stackShape(env)).superRefine((stack, ctx) => {
        const needEmail: string[] = [];
        // Keyed by path: a stack-wide entry is reported once, not once per cluster.
        const unlisted = new Map<string, { path: PropertyKey[]; allowed: string }>();
        stack.clusters.forEach((c, i) => {
            const settings = addonsFor(stack.addons, c);
            if (c.restore && !settings.velero.enabled) {
                ctx.addIssue({ code: "custom", path: ["clusters", i, "restore"], message: "needs addons.velero.enabled: Velero performs the restore" });
            }
            if (settings.velero.enabled && c.cloud === "existing" && !c.backup) {
                ctx.addIssue({ code: "custom", path: ["clusters", i, "backup"], message: "is required while addons.velero is enabled (an S3-compatible endpoint such as MinIO)" });
            }
            if (settings.certManager.enabled && c.dns && !settings.certManager.acmeEmail) needEmail.push(c.name);
            for (const j of unlistedSignedRegistries(settings.kyverno)) {
                const at = c.addons?.kyverno?.imageSignatures ? ["clusters", i, "addons", "kyverno"] : ["addons", "kyverno"];
                const path = [...at, "imageSignatures", "tenants", j, "registry"];
                unlisted.set(JSON.stringify(path), { path, allowed: settings.kyverno.allowedRegistries.join(", ") });
            }
        });
        for (const { path, allowed } of unlisted.values()) {
            ctx.addIssue({ code: "custom", path, message: `is not one of allowedRegistries (${allowed}): restrict-registries refuses its images before their signatures count` });
        }
        if (needEmail.length) {
            ctx.addIssue({ code: "custom", path: ["addons", "certManager", "acmeEmail"], message: `is required when a cluster has dns (Let's Encrypt account; clusters with dns: ${needEmail.join(", ")})` });
        }
        stack.tenants.forEach((tenant, i) => tenantGroupIssues(stack.clusters, tenant, i).forEach((issue) => ctx.addIssue({ code: "custom", ...issue })));
    });
}

/** What a tenant's groups need from the clusters it lives on. */
function tenantGroupIssues(clusters: readonly z.output<ReturnType<typeof clusterSchema>>[], tenant: z.output<typeof tenantSchema>, at: number): Issue[] {
    const issues: Issue[] = [];
    const indexed = clusters.map((cluster, index) => ({ cluster, index })).filter(({ cluster }) => !tenant.clusters || tenant.clusters.includes(cluster.name));
    for (const role of ["edit", "view"] as const) {
        const groups = tenant.groups[role];
        for (const { cluster, index } of indexed) {
            if (cluster.cloud === "gcp" && groups.gcp.length && !cluster.securityGroup) {
                issues.push({ path: ["tenants", at, "groups", role, "gcp"], message: `needs clusters[${index}].securityGroup (${cluster.name}): GKE hands Google groups to RBAC only through gke-security-groups@<domain>` });
            }
            if (cluster.cloud === "aws") {
                groups.aws.forEach((arn, k) => {
                    if (cluster.adminRoleArns.includes(arn)) issues.push({ path: ["tenants", at, "groups", role, "aws", k], message: `is in clusters[${index}].adminRoleArns (${cluster.name}): EKS takes one access entry per role, and that one already makes it cluster-admin` });
                });
            }
        }
    }
    return issues;
}

type StackAddons = z.output<ReturnType<typeof addonsSchema>>;
type ClusterAddons = z.output<ReturnType<typeof clusterAddonsSchema>>;

/**
 * The add-on settings of one cluster: each stack-wide block with the keys the cluster's own
 * `addons.<addon>` sets in its place, and `values` deep-merged. Precedence, lowest first: the
 * platform's chart values, `addons.<addon>.values`, `clusters[].addons.<addon>.values`.
 */
export function addonsFor(stack: StackAddons, cluster: { readonly addons?: ClusterAddons }): StackAddons {
    const own = cluster.addons;
    if (!own) return stack;
    const merged = (key: AddonKey) => {
        const override = own[key];
        if (!override) return stack[key];
        const values: ChartValues = mergeValues(stack[key].values, override.values ?? {});
        return { ...stack[key], ...override, values };
    };
    return Object.fromEntries(addonKeys.map((key) => [key, merged(key)])) as StackAddons;
}

type Issue = { path: PropertyKey[]; message: string };
const named = (items: unknown): { name?: unknown }[] => (Array.isArray(items) ? items.filter((x) => x && typeof x === "object") : []);

/**
 * Checks across entries (unique names, references between them). They read the raw input,
 * so they are reported together with the schema's problems even when an entry is invalid.
 */
export function crossReferenceIssues(raw: Record<string, unknown>): Issue[] {
    const issues: Issue[] = [];
    const unique = (items: { name?: unknown }[], at: PropertyKey[]) => {
        const first = new Map<unknown, number>();
        items.forEach((item, i) => {
            const earlier = first.get(item.name);
            if (typeof item.name !== "string") return;
            if (earlier === undefined) first.set(item.name, i);
            else issues.push({ path: [...at, i, "name"], message: `"${item.name}" is already the name of ${formatPath([...at, earlier])}` });
        });
    };
    const clusters = named(raw.clusters) as { name?: unknown; nodePools?: unknown }[];
    const tenants = named(raw.tenants) as { name?: unknown; clusters?: unknown }[];
    unique(clusters, ["clusters"]);
    clusters.forEach((c, i) => unique(named(c.nodePools), ["clusters", i, "nodePools"]));
    unique(tenants, ["tenants"]);
    const clusterNames = new Set(clusters.map((c) => c.name));
    if (raw.backupCredentials === undefined && clusters.some((c) => (c as { cloud?: unknown }).cloud === "existing" && "backup" in c)) {
        issues.push({ path: ["backupCredentials"], message: "required for the backup endpoint of an existing cluster; set it with `pulumi config set --secret --path platform:backupCredentials.accessKeyId ...` (and .secretAccessKey)" });
    }
    tenants.forEach((t, i) =>
        (Array.isArray(t.clusters) ? t.clusters : []).forEach((name, j) => {
            if (!clusterNames.has(name)) issues.push({ path: ["tenants", i, "clusters", j], message: `names no cluster of this stack ("${name}")` });
        }),
    );
    return issues;
}

type StackValues = z.output<ReturnType<typeof platformSchema>>;
/** The validated settings, secrets left out: config.ts hands those on as secret Outputs only. */
export type PlatformSettings = Omit<StackValues, SecretKey>;
export type SecretValues = Pick<StackValues, SecretKey>;
export type BackupCredentials = NonNullable<SecretValues["backupCredentials"]>;
export type ClusterConfig = PlatformSettings["clusters"][number];
export type NodePoolConfig = z.output<typeof nodePool>;
export type AddonsConfig = PlatformSettings["addons"];
export type ChartsConfig = PlatformSettings["charts"];
export type TenantConfig = PlatformSettings["tenants"][number];
export type RestoreConfig = z.output<typeof restore>;
export type RestoreSourceConfig = z.output<typeof restoreSource>;
export type GitRepositoryConfig = z.output<typeof gitRepository>;
