/**
 * What the three cloud clusters have in common and must agree on: physical names that stay
 * stable across rebuilds, node-pool names that change exactly when a pool must be replaced,
 * the role taint and label of system pools, the kubeconfig shape, and subnet arithmetic.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { ClusterConfig, Environment, NodePoolConfig } from "../config";

/** Arguments every cloud cluster takes: its config entry, the environment and the stack. */
export interface CloudClusterArgs<Cloud extends ClusterConfig["cloud"]> {
    readonly config: Extract<ClusterConfig, { cloud: Cloud }>;
    /** Picks the defaults (NAT per AZ, deletion protection, `protect`) for production. */
    readonly environment: Environment;
    /** The Pulumi stack: part of every account-wide physical name. */
    readonly stack: string;
}

/** Hex digest of `parts`: deterministic, so renders and physical names never drift. */
export function shortHash(length: number, ...parts: (string | number | boolean)[]): string {
    return createHash("sha256").update(parts.map(String).join("\u0000")).digest("hex").slice(0, length);
}

/**
 * The physical name of a node pool: its configured name plus a suffix derived from the fields
 * that force a new pool (instance type, disk, spot). Such a change therefore yields a new name,
 * so Pulumi creates the new pool before it deletes the old one (create-before-delete needs two
 * names to coexist), while scaling, labels and taints keep the name and update in place.
 */
export function poolPhysicalName(pool: NodePoolConfig, maxLength: number, separator: "-" | "" = "-"): string {
    const suffix = shortHash(4, pool.name, pool.instanceType, pool.diskSizeGb, pool.spot);
    return `${pool.name.slice(0, maxLength - suffix.length - separator.length)}${separator}${suffix}`;
}

/**
 * Velero's bucket name: from the stack, the cluster name and the account scope (AWS account
 * or region, Azure subscription, GCP project), never from the cluster resource. A rebuilt
 * cluster of the same name finds its backups again; two stacks or accounts never collide.
 */
export function backupBucketName(stack: string, cluster: string, scope: string): string {
    return `velero-${cluster}-${shortHash(8, stack, cluster, scope)}`;
}

/** S3's and GCS's limit on a bucket name (without dots). */
const BUCKET_NAME_MAX = 63;

/**
 * A bucket named after the backup bucket (its copy in another region, its access log):
 * `<bucket>-<suffix>` where that fits in 63 characters, the name every stack that can exist
 * already has. A longer one (a 40-character cluster name and a copy region such as
 * `ap-southeast-2`), which S3 and GCS would refuse at `up`, keeps as much of that name as fits
 * and ends in a hash of the whole, so it stays unique and is the same every time.
 */
export function relatedBucketName(bucketName: string, suffix: string): string {
    const name = `${bucketName}-${suffix}`;
    if (name.length <= BUCKET_NAME_MAX) return name;
    const hash = shortHash(8, name);
    return `${name.slice(0, BUCKET_NAME_MAX - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

/** Every system pool gets this label; the platform's controllers select it. */
export const POOL_ROLE_LABEL = "platform.example.io/pool-role";
/** System pools keep tenant pods off with the taint AKS and the managed add-ons already tolerate. */
export const SYSTEM_TAINT = { key: "CriticalAddonsOnly", value: "true", effect: "NoSchedule" } as const;

export function poolLabels(pool: NodePoolConfig): Record<string, string> {
    return { ...pool.labels, [POOL_ROLE_LABEL]: pool.role };
}

export function poolTaints(pool: NodePoolConfig): { key: string; value: string; effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" }[] {
    const configured = pool.taints.map((t) => ({ key: t.key, value: t.value ?? "", effect: t.effect }));
    return pool.role === "system" ? [SYSTEM_TAINT, ...configured] : configured;
}

/** `NoSchedule` -> `NO_SCHEDULE` (EKS and GKE spell taint effects this way). */
export const upperSnake = (effect: string) => effect.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();

/**
 * The system pools first, then the user pools, each user pool waiting for the system pools:
 * on a version bump the engine then upgrades the control plane, the system pools, and only
 * then the user pools, which is the order that keeps the platform's controllers available.
 */
export function systemPoolsFirst(pools: NodePoolConfig[]): NodePoolConfig[] {
    return [...pools.filter((p) => p.role === "system"), ...pools.filter((p) => p.role !== "system")];
}

export interface ExecKubeconfigArgs {
    readonly name: string;
    readonly server: pulumi.Input<string>;
    readonly caData: pulumi.Input<string>;
    readonly command: string;
    readonly args: pulumi.Input<string>[];
    readonly installHint: string;
    readonly provideClusterInfo?: boolean;
}

/**
 * A kubeconfig that authenticates with the cloud's exec plugin (short-lived tokens, no
 * static credentials), as a secret: the endpoint and CA are not secret, but the document
 * is what a user copies into `~/.kube/config`, and stays marked as one end to end.
 */
export function execKubeconfig(args: ExecKubeconfigArgs): pulumi.Output<string> {
    const doc = pulumi.all([args.server, args.caData, pulumi.all(args.args)]).apply(([server, caData, execArgs]) =>
        JSON.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: args.name, cluster: { server, "certificate-authority-data": caData } }],
            contexts: [{ name: args.name, context: { cluster: args.name, user: args.name } }],
            "current-context": args.name,
            users: [
                {
                    name: args.name,
                    user: {
                        exec: {
                            apiVersion: "client.authentication.k8s.io/v1beta1",
                            command: args.command,
                            args: execArgs,
                            interactiveMode: "Never",
                            installHint: args.installHint,
                            provideClusterInfo: args.provideClusterInfo ?? false,
                        },
                    },
                },
            ],
        }),
    );
    return pulumi.secret(doc);
}

const ipToInt = (ip: string) => ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/** The `index`-th /`prefix` block inside `cidr` (10.0.0.0/16, 19, 1 -> 10.0.32.0/19). */
export function subnetCidr(cidr: string, prefix: number, index: number): string {
    const [base, bits] = cidr.split("/");
    const baseBits = Number(bits);
    if (prefix < baseBits || index >= 2 ** (prefix - baseBits)) {
        throw new pulumi.RunError(`${cidr} has no block ${index} of size /${prefix}`);
    }
    const start = Math.floor(ipToInt(base) / 2 ** (32 - baseBits)) * 2 ** (32 - baseBits);
    return `${intToIp(start + index * 2 ** (32 - prefix))}/${prefix}`;
}

