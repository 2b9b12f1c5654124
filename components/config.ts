/**
 * The only reader of stack configuration and of the environment. Everything else gets
 * typed arguments. A wrong stack file fails here, before any resource is registered,
 * with every problem and its path at once and no stack trace.
 */
import * as pulumi from "@pulumi/pulumi";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { crossReferenceIssues, Environment, environments, formatPath, platformSchema, PlatformSettings } from "./config-schema";

export * from "./config-schema";

export const PROJECT = "platform";
/** Keys that hold secrets: set with `pulumi config set --secret`, never in plain text. */
const secretKeys = ["backupCredentials", "alertmanagerWebhookUrl"] as const;
export const knownKeys = ["environment", "clusters", "addons", "tenants", ...secretKeys] as const;

const backupCredentials = z.strictObject({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) });
export type BackupCredentials = z.output<typeof backupCredentials>;

export interface PlatformConfig extends PlatformSettings {
    readonly stack: string;
    readonly secrets: {
        /** Access key for S3-compatible backup endpoints of `existing` clusters. */
        readonly backupCredentials?: pulumi.Output<BackupCredentials>;
        /** Alertmanager webhook receiver URL. */
        readonly alertmanagerWebhookUrl?: pulumi.Output<string>;
    };
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
    problems: string[];
}

/**
 * Validates already-decoded `platform:*` values (keys without the `platform:` prefix).
 * Pure, so tests and tools can check a stack file without a Pulumi runtime.
 */
export function validateSettings(raw: Record<string, unknown>): ValidationResult {
    const problems = Object.keys(raw)
        .filter((key) => !(knownKeys as readonly string[]).includes(key))
        .map((key) => `${key}: unknown key platform:${key} (known: ${knownKeys.join(", ")})`);
    const settingsKeys = ["environment", "clusters", "addons", "tenants"];
    const input = Object.fromEntries(Object.entries(raw).filter(([key]) => settingsKeys.includes(key)));
    // With a bad environment, still check everything else (with staging defaults).
    const env: Environment = environments.includes(raw.environment as Environment) ? (raw.environment as Environment) : "staging";
    const parsed = platformSchema(env).safeParse(input);
    const issues = [...(parsed.success ? [] : parsed.error.issues), ...crossReferenceIssues(input)];
    problems.push(...issues.map((issue) => `${formatPath(issue.path)}: ${messageOf(issue)}`));
    problems.push(...secretProblems(raw));
    const settings = parsed.success && !issues.length ? parsed.data : undefined;
    return problems.length ? { problems } : { settings, problems };
}

/** Zod nests the reason a record key is invalid; surface it. */
function messageOf(issue: { message: string; code?: string; issues?: { message: string }[] }): string {
    return issue.code === "invalid_key" && issue.issues?.length ? issue.issues.map((i) => i.message).join("; ") : issue.message;
}

function secretProblems(raw: Record<string, unknown>): string[] {
    const problems: string[] = [];
    if (raw.alertmanagerWebhookUrl !== undefined && !(typeof raw.alertmanagerWebhookUrl === "string" && /^https:\/\/\S+$/.test(raw.alertmanagerWebhookUrl))) {
        problems.push("alertmanagerWebhookUrl: must be an https:// URL");
    }
    const clusters: unknown[] = Array.isArray(raw.clusters) ? raw.clusters : [];
    const needsBackupCredentials = clusters.some((c) => c && typeof c === "object" && "backup" in c && (c as { cloud?: unknown }).cloud === "existing");
    if (raw.backupCredentials === undefined) {
        return needsBackupCredentials
            ? [...problems, "backupCredentials: required for the backup endpoint of an existing cluster; set it with `pulumi config set --secret --path platform:backupCredentials.accessKeyId ...` (and .secretAccessKey)"]
            : problems;
    }
    const parsed = backupCredentials.safeParse(raw.backupCredentials);
    return parsed.success ? problems : [...problems, ...parsed.error.issues.map((issue) => `${formatPath(["backupCredentials", ...issue.path])}: ${issue.message}`)];
}

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
    const { settings, problems } = validateSettings(raw);
    for (const key of secretKeys) {
        if (raw[key] !== undefined && !runtimeConfig.isConfigSecret(prefix + key)) {
            problems.push(`${key}: must be a secret; set it with \`pulumi config set --secret\``);
        }
    }
    if (!settings || problems.length) throw new ConfigError(problems);

    const clusters = settings.clusters.map((c) => (c.cloud === "existing" ? { ...c, kubeconfig: { ...c.kubeconfig, path: expandHome(c.kubeconfig.path) } } : c));
    return {
        ...settings,
        clusters,
        stack: pulumi.getStack(),
        secrets: {
            backupCredentials: raw.backupCredentials === undefined ? undefined : pulumi.secret(raw.backupCredentials as BackupCredentials),
            alertmanagerWebhookUrl: typeof raw.alertmanagerWebhookUrl === "string" ? pulumi.secret(raw.alertmanagerWebhookUrl) : undefined,
        },
    };
}
