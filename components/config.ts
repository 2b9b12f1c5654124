/**
 * The only reader of stack configuration and of the environment. Everything else gets
 * typed arguments. A wrong stack file fails here, before any resource is registered,
 * with every problem and its path at once and no stack trace.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { z } from "zod";
import { CLUSTER_GAPS } from "./clusters/gaps";
import { clouds } from "./config-fields";
import type { Cloud } from "./config-fields";
import { PARSE, problemsOfIssue } from "./config-messages";
import { AddonDeclaration, AddonKey, addonKeys, addons } from "./platform/addons";
import { chartName } from "./versions";
import { anyCloudCluster, ClusterConfig, clusterSchema, crossReferenceIssues, Environment, environments, formatPath, platformSchema, PlatformSettings, secretKeys, SecretKey, SecretValues, stackKeys } from "./config-schema";
import type { BackupSource } from "./types";

export * from "./config-schema";

export const PROJECT = "platform";
/** The keys a stack file may set under `platform:` (the schema's; secrets among them). */
export const knownKeys: readonly string[] = stackKeys;

export interface PlatformConfig extends PlatformSettings {
    readonly stack: string;
    /** The schema's secret keys (config-schema.ts), each a secret Output when set. */
    readonly secrets: { readonly [K in SecretKey]?: pulumi.Output<NonNullable<SecretValues[K]>> };
    /** Per cluster name, the store its `restore.source` names, found in the source stack's file. */
    readonly backupSources: ReadonlyMap<string, BackupSource>;
}

/** A stack configuration a user can fix: printed by Pulumi without a stack trace. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(`Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

export interface ValidationResult {
    settings?: PlatformSettings;
    /** The secret keys' values, validated; plain here, so only loadConfig reads them. */
    secretValues?: SecretValues;
    problems: string[];
}

/**
 * Validates already-decoded `platform:*` values (keys without the `platform:` prefix).
 * Needs no Pulumi runtime, so tests and tools can check a stack file; reads only the charts
 * under `charts.directory`, when one is set.
 */
export function validateSettings(raw: Record<string, unknown>): ValidationResult {
    const problems = Object.keys(raw)
        .filter((key) => !knownKeys.includes(key))
        .map((key) => `${key}: unknown key platform:${key} (known: ${knownKeys.join(", ")})`);
    const input = Object.fromEntries(Object.entries(raw).filter(([key]) => knownKeys.includes(key)));
    // With a bad environment, still check everything else (with staging defaults).
    const env: Environment = environments.includes(raw.environment as Environment) ? (raw.environment as Environment) : "staging";
    const parsed = platformSchema(env).safeParse(input, PARSE);
    // An unknown cloud's other problems follow its `cloud` problem, so each cluster reads as one group.
    const schemaIssues = (parsed.success ? [] : parsed.error.issues).flatMap((issue) =>
        issue.code === "invalid_union" && issue.path.length === 3 && issue.path[0] === "clusters" && issue.path[2] === "cloud" ? [issue, ...unknownCloudIssues(input, env, Number(issue.path[1]))] : [issue],
    );
    const issues = [...schemaIssues, ...crossReferenceIssues(input)];
    problems.push(...problemLines(issues), ...chartDirectoryProblems(input));
    if (problems.length || !parsed.success) return { problems };
    const secretValues = Object.fromEntries(secretKeys.map((key) => [key, parsed.data[key]])) as SecretValues;
    const settings = Object.fromEntries(Object.entries(parsed.data).filter(([key]) => !(secretKeys as string[]).includes(key))) as PlatformSettings;
    return { settings, secretValues, problems };
}

/** Schema issues as the lines a person reads: `path: message`, one per unknown key. */
const problemLines = (issues: Parameters<typeof problemsOfIssue>[0][]): string[] => issues.flatMap(problemsOfIssue).map((p) => `${formatPath(p.path)}: ${p.message}`);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * With `charts.directory` set, each enabled add-on's chart must be there at its pin: a missing
 * or other-version chart would otherwise surface halfway through `up`, after other releases.
 * Reads the raw input, so these are reported with the schema's problems.
 */
function chartDirectoryProblems(raw: Record<string, unknown>): string[] {
    const directory = isRecord(raw.charts) ? raw.charts.directory : undefined;
    if (typeof directory !== "string" || directory === "") return [];
    const root = path.resolve(expandHome(directory));
    if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) return [`charts.directory: ${root} is not a directory`];
    const enabled = addonKeys.filter((key) => enabledSomewhere(raw, key));
    return enabled.flatMap((key) => {
        const pin = addons[key].chart;
        const file = path.join(root, chartName(pin), "Chart.yaml");
        const expected = `expected chart ${chartName(pin)} version ${pin.version} for addons.${key}`;
        if (!fs.existsSync(file)) return [`charts.directory: ${file} does not exist; ${expected}`];
        let version: unknown;
        try {
            version = (YAML.parse(fs.readFileSync(file, "utf8")) as { version?: unknown } | null)?.version;
        } catch (error) {
            return [`charts.directory: ${file} is not valid YAML (${(error as Error).message.split("\n")[0]}); ${expected}`];
        }
        return String(version) === pin.version ? [] : [`charts.directory: ${file} has version ${String(version)}; ${expected}`];
    });
}

/**
 * A cluster whose `cloud` is unknown stops the schema at the discriminator; what every cloud
 * checks alike (name, endpoint, DNS, restore, node pools) is checked here, so those problems
 * come in the same report instead of after the cloud is fixed.
 */
function unknownCloudIssues(raw: Record<string, unknown>, env: Environment, i: number): z.core.$ZodIssue[] {
    const cluster = Array.isArray(raw.clusters) ? raw.clusters[i] : undefined;
    if (!isRecord(cluster) || (clouds as readonly unknown[]).includes(cluster.cloud)) return [];
    const parsed = anyCloudCluster(env).safeParse(cluster, PARSE);
    return parsed.success ? [] : parsed.error.issues.map((issue) => ({ ...issue, path: ["clusters", i, ...issue.path] }));
}

/** Whether the raw settings install `key` on at least one cluster (its own `addons.<key>.enabled` first, then the stack's). */
function enabledSomewhere(raw: Record<string, unknown>, key: AddonKey): boolean {
    const enabledIn = (addons: unknown): unknown => (isRecord(addons) && isRecord(addons[key]) ? addons[key].enabled : undefined);
    const stackWide = enabledIn(raw.addons) !== false;
    const clusters = Array.isArray(raw.clusters) ? raw.clusters.filter(isRecord) : [];
    const fills = (addons[key] as AddonDeclaration).fills;
    const open = (c: Record<string, unknown>) => !fills || (CLUSTER_GAPS[c.cloud as Cloud] ?? []).includes(fills);
    return clusters.length === 0 ? stackWide && !fills : clusters.some((c) => open(c) && (enabledIn(c.addons) ?? stackWide) !== false);
}

/**
 * `PULUMI_DEBUG_PROMISE_LEAKS`, the SDK's own switch for its promise-leak report. While it is
 * set, index.ts keeps the SDK's per-promise creation stacks that the report prints
 * (components/promise-stacks.ts); otherwise it skips taking them.
 */
export const debugPromiseLeaks = (): boolean => Boolean(process.env.PULUMI_DEBUG_PROMISE_LEAKS);

// `isConfigSecret` is exported by the SDK's runtime but not declared in its typings.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeConfig: { isConfigSecret(key: string): boolean } = require("@pulumi/pulumi/runtime/config");

function decode(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

const expandHome = (p: string) => (p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p);

/** Reads and validates `platform:*` from the stack; throws ConfigError listing every problem. */
export function loadConfig(): PlatformConfig {
    const prefix = `${PROJECT}:`;
    const entries = Object.entries(pulumi.runtime.allConfig()).filter(([key]) => key.startsWith(prefix));
    const raw = Object.fromEntries(entries.map(([key, value]) => [key.slice(prefix.length), decode(value)]));
    const { settings, secretValues, problems } = validateSettings(raw);
    for (const key of secretKeys) {
        if (raw[key] !== undefined && !runtimeConfig.isConfigSecret(prefix + key)) {
            problems.push(`${key}: must be a secret; set it with \`pulumi config set --secret\``);
        }
    }
    if (!settings || !secretValues || problems.length) throw new ConfigError(problems);

    const stack = pulumi.getStack();
    const sources = resolveBackupSources(settings.clusters, stack, process.cwd());
    if (sources.problems.length) throw new ConfigError(sources.problems);

    const clusters = settings.clusters.map((c) => (c.cloud === "existing" ? { ...c, kubeconfig: { ...c.kubeconfig, path: expandHome(c.kubeconfig.path) } } : c));
    const { directory } = settings.charts;
    return {
        ...settings,
        clusters,
        charts: { ...settings.charts, directory: directory === undefined ? undefined : expandHome(directory) },
        stack,
        backupSources: sources.sources,
        secrets: Object.fromEntries(secretKeys.map((key) => [key, secretValues[key] === undefined ? undefined : pulumi.secret(secretValues[key])])),
    };
}

export interface BackupSources {
    readonly sources: Map<string, BackupSource>;
    readonly problems: string[];
}

/**
 * The cluster each `restore.source` names, read from `Pulumi.<source.stack>.yaml` in
 * `projectDir` (this stack's own settings when `stack` is left out or is this stack), and
 * validated by the same schema as that stack's: the clusters then name its store exactly as the
 * source stack does. Errors name the restoring cluster's path.
 */
export function resolveBackupSources(clusters: readonly ClusterConfig[], stack: string, projectDir: string): BackupSources {
    const sources = new Map<string, BackupSource>();
    const problems: string[] = [];
    clusters.forEach((c, i) => {
        const owner = c.restore?.source ? undefined : c;
        if (c.restore?.fromCopy && owner && !hasCopy(owner)) problems.push(`clusters[${i}].restore.fromCopy: this cluster's store has no copy (backupCopyRegion is false, or an existing cluster)`);
        const wanted = c.restore?.source;
        if (!wanted) return;
        const at = `clusters[${i}].restore.source`;
        const sourceStack = wanted.stack ?? stack;
        if (sourceStack === stack && wanted.cluster === c.name) {
            problems.push(`${at}: names this cluster's own store; leave source out to restore from it`);
            return;
        }
        const found = sourceStack === stack ? { candidates: clusters as unknown[], env: undefined } : readStackClusters(sourceStack, projectDir);
        if ("problem" in found) {
            problems.push(`${at}.stack: ${found.problem}`);
            return;
        }
        const raw = found.candidates.find((x) => isRecord(x) && x.name === wanted.cluster);
        if (raw === undefined) {
            const names = found.candidates.flatMap((x) => (isRecord(x) && typeof x.name === "string" ? [x.name] : []));
            problems.push(`${at}.cluster: stack ${sourceStack} has no cluster "${wanted.cluster}" (its clusters: ${names.join(", ") || "none"})`);
            return;
        }
        const parsed = found.env === undefined ? { success: true as const, data: raw as ClusterConfig } : clusterSchema(found.env).safeParse(raw, PARSE);
        if (!parsed.success) {
            const first = problemLines(parsed.error.issues).join("; ");
            problems.push(`${at}.cluster: "${wanted.cluster}" in Pulumi.${sourceStack}.yaml is not a valid cluster (${first})`);
            return;
        }
        if (parsed.data.cloud !== c.cloud) {
            problems.push(`${at}.cluster: "${wanted.cluster}" in stack ${sourceStack} is a ${parsed.data.cloud} cluster and this one is ${c.cloud}; Velero restores from a store of its own cloud`);
            return;
        }
        if (parsed.data.cloud === "existing" && !parsed.data.backup) {
            problems.push(`${at}.cluster: "${wanted.cluster}" in stack ${sourceStack} has no backup endpoint (clusters[].backup), so it has no backups to restore`);
            return;
        }
        if (c.restore?.fromCopy && !hasCopy(parsed.data)) {
            problems.push(`${at}.cluster: "${wanted.cluster}" in stack ${sourceStack} keeps no copy of its backups (backupCopyRegion is false, or an existing cluster), so restore.fromCopy has nothing to read`);
            return;
        }
        sources.set(c.name, { stack: sourceStack, cluster: parsed.data });
    });
    return { sources, problems };
}

/** The raw `platform:clusters` of another stack's file, and its environment (for the schema's defaults). */
function readStackClusters(stack: string, projectDir: string): { candidates: unknown[]; env: Environment } | { problem: string } {
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) return { problem: `no stack file ${file}: the source stack's file must be in the project directory` };
    let doc: unknown;
    try {
        doc = YAML.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
        return { problem: `${file} is not valid YAML (${(error as Error).message.split("\n")[0]})` };
    }
    const config = isRecord(doc) && isRecord(doc.config) ? doc.config : {};
    const clusters = config[`${PROJECT}:clusters`];
    const env = config[`${PROJECT}:environment`];
    return { candidates: Array.isArray(clusters) ? clusters : [], env: environments.includes(env as Environment) ? (env as Environment) : "staging" };
}

/** Whether a cluster's store keeps a copy outside its region (components/clusters/backup-regions.ts gives the default). */
const hasCopy = (c: ClusterConfig) => c.cloud !== "existing" && c.backupCopyRegion !== false;
