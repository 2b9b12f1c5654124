/**
 * What render-diff knows beyond "these values differ": Pulumi property paths (the syntax of
 * `ignoreChanges` and `replaceOnChanges`), how `ignoreChanges` hides a change, and which input
 * changes make a provider replace a resource instead of updating it.
 *
 * Replacement is decided from what the render holds, in this order:
 *   1. the resource's own `replaceOnChanges` option;
 *   2. its physical name (the cloud or the API server identifies it by that, so a new name
 *      is a new object): `metadata.name`/`metadata.namespace` of a Kubernetes object, a Helm
 *      release's `name`/`namespace`, the `name` of an AWS or GCP resource, the ARM path of an
 *      Azure resource (inputs ending in `Name`, `scope`, `resourceUri`) and its `location`,
 *      the `location` of a GCP resource. Node pools carry a hash of their replace-forcing
 *      settings in their name (components/clusters/shared.ts `poolPhysicalName`), so an
 *      instance type, disk or spot change shows here as a new name;
 *   3. REPLACE_ON below: other inputs the program sets that the provider cannot change in place.
 * A provider's own diff can still replace on something this table lacks; the `pulumi-preview`
 * job is the authority, this is the early warning for reviewers without credentials.
 */

export type Segment = string | number;

/**
 * Replace-forcing inputs besides physical names, for types this program creates. Sources: the
 * Terraform providers' `ForceNew` schema flags, which the bridged `aws` and `gcp` providers
 * inherit (terraform-provider-aws internal/service/eks/node_group.go, cluster.go, access_entry.go,
 * ec2 vpc and subnet; terraform-provider-google container cluster
 * `private_cluster_config.master_ipv4_cidr_block`), and the random provider, whose every input
 * forces a new value (`*`).
 */
export const REPLACE_ON: Readonly<Record<string, readonly string[]>> = {
    "aws:eks/nodeGroup:NodeGroup": [
        "clusterName",
        "instanceTypes",
        "capacityType",
        "amiType",
        "diskSize",
        "subnetIds",
        "nodeRoleArn",
        "launchTemplate.id",
        "launchTemplate.name",
        "remoteAccess",
    ],
    "aws:eks/cluster:Cluster": [
        "roleArn",
        "bootstrapSelfManagedAddons",
        "accessConfig.bootstrapClusterCreatorAdminPermissions",
        "kubernetesNetworkConfig.ipFamily",
        "kubernetesNetworkConfig.serviceIpv4Cidr",
    ],
    "aws:eks/addon:Addon": ["clusterName"],
    "aws:eks/accessEntry:AccessEntry": ["clusterName", "principalArn"],
    "aws:ec2/vpc:Vpc": ["cidrBlock"],
    "aws:ec2/subnet:Subnet": ["vpcId", "cidrBlock", "availabilityZone"],
    "gcp:container/cluster:Cluster": ["privateClusterConfig.masterIpv4CidrBlock"],
    "gcp:container/nodePool:NodePool": ["cluster"],
    "random:index/randomPassword:RandomPassword": ["*"],
};

/** Physical names that are not called `name`, by type. */
const NAMED_BY: Readonly<Record<string, string>> = {
    "aws:eks/nodeGroup:NodeGroup": "nodeGroupName",
    "aws:eks/addon:Addon": "addonName",
    "aws:s3/bucket:Bucket": "bucket",
    "gcp:serviceaccount/account:Account": "accountId",
};

/** The inputs that name the object itself, by provider (see the header). */
export function physicalNamePaths(type: string, inputs: Record<string, unknown>): string[] {
    const own = NAMED_BY[type] ? [NAMED_BY[type]] : [];
    if (type === "kubernetes:helm.sh/v3:Release") return ["name", "namespace"];
    if (type.startsWith("kubernetes:")) return ["metadata.name", "metadata.namespace"];
    if (type.startsWith("aws:")) return ["name", ...own];
    if (type.startsWith("gcp:")) return ["name", "location", ...own];
    if (type.startsWith("azure-native:")) {
        const armPath = Object.keys(inputs).filter((k) => /[a-z]Name$/.test(k) || k === "name" || k === "scope" || k === "resourceUri");
        return [...armPath, "location"];
    }
    return [];
}

// ---------- property paths ----------

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `a.b[0]["c.d"]` -> ["a", "b", 0, "c.d"]; `*` stays "*" (any key or element). */
export function parsePropertyPath(path: string): Segment[] {
    const segments: Segment[] = [];
    const re = /\[(\d+|\*)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.[\]]+)/gy;
    let m: RegExpExecArray | null;
    while (re.lastIndex < path.length && (m = re.exec(path))) {
        if (m[1] !== undefined) segments.push(m[1] === "*" ? "*" : Number(m[1]));
        else if (m[2] !== undefined) segments.push(JSON.parse(`"${m[2]}"`) as string);
        else segments.push(m[3]);
    }
    if (re.lastIndex !== path.length) throw new Error(`not a property path: ${path}`);
    return segments;
}

/** The inverse, as `pulumi preview --diff` writes paths: `spec.hard["limits.cpu"]`. */
export function formatPropertyPath(segments: Segment[]): string {
    return segments
        .map((s, i) => (typeof s === "number" ? `[${s}]` : IDENTIFIER.test(s) ? (i ? `.${s}` : s) : `[${JSON.stringify(s)}]`))
        .join("");
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => typeof v === "object" && v !== null;
const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/** `next` with the value at `path` taken from `old` (absent in `old`: removed), like the engine does. */
function carryOld(old: unknown, next: unknown, path: Segment[]): unknown {
    if (!path.length) return clone(old);
    const [head, ...rest] = path;
    const base: Record<string, unknown> | unknown[] = isContainer(next) ? clone(next) : typeof head === "number" ? [] : {};
    const at = base as Record<string, unknown>;
    const keys = head === "*" ? [...new Set([...Object.keys(isContainer(old) ? old : {}), ...Object.keys(base)])] : [String(head)];
    for (const key of keys) {
        const from = isContainer(old) ? (old as Record<string, unknown>)[key] : undefined;
        const value = carryOld(from, at[key], rest);
        if (value === undefined && !Array.isArray(base)) delete at[key];
        else at[key] = value;
    }
    return base;
}

/** The head's inputs as the engine diffs them: every `ignoreChanges` path keeps the base's value. */
export function withIgnoredChanges(old: Record<string, unknown>, next: Record<string, unknown>, ignore: readonly string[]): Record<string, unknown> {
    return ignore.reduce<Record<string, unknown>>((acc, path) => carryOld(old, acc, parsePropertyPath(path)) as Record<string, unknown>, next);
}

/**
 * Leaf changes between two input trees. Arrays compare element by element, by index, as
 * `pulumi preview --diff` shows them; an element only one side has is added or removed.
 */
export function leafChanges(old: unknown, next: unknown, at: Segment[] = []): { path: Segment[]; old: unknown; new: unknown }[] {
    if (isRecord(old) && isRecord(next)) {
        const keys = [...new Set([...Object.keys(old), ...Object.keys(next)])].sort();
        return keys.flatMap((k) => leafChanges(old[k], next[k], [...at, k]));
    }
    if (Array.isArray(old) && Array.isArray(next)) {
        return Array.from({ length: Math.max(old.length, next.length) }, (_, i) => leafChanges(old[i], next[i], [...at, i])).flat();
    }
    return JSON.stringify(old) === JSON.stringify(next) ? [] : [{ path: at, old, new: next }];
}

/** Does a change at `changed` touch `rule` (the same path, inside it, or a parent that carries it)? */
function touches(changed: Segment[], rule: Segment[]): boolean {
    const n = Math.min(changed.length, rule.length);
    for (let i = 0; i < n; i++) if (rule[i] !== "*" && String(rule[i]) !== String(changed[i])) return false;
    return true;
}

/** Why a change at `path` replaces the resource, or undefined when it updates in place. */
export function replaceReason(type: string, inputs: Record<string, unknown>, path: Segment[], replaceOnChanges: readonly string[] = []): string | undefined {
    if (replaceOnChanges.some((rule) => touches(path, parsePropertyPath(rule)))) return "replaceOnChanges";
    if (physicalNamePaths(type, inputs).some((rule) => touches(path, parsePropertyPath(rule)))) return "physical name";
    if ((REPLACE_ON[type] ?? []).some((rule) => touches(path, parsePropertyPath(rule)))) return "provider replaces on change";
    return undefined;
}
