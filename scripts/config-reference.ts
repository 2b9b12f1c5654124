/**
 * The configuration reference in README.md, generated from the schema, and the add-on table in
 * docs/platform.md, generated from the add-on registry, so neither can drift: `npm run docs:config`
 * rewrites both; a unit test fails when a document and its source disagree.
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { environments, platformSchema } from "../components/config-schema";
import { addonKeys, addons } from "../components/platform/addons";
import { chartName } from "../components/platform/helm-addon";
import { parseCommandLine } from "./cli";

type JsonSchema = {
    type?: string | string[];
    const?: unknown;
    enum?: unknown[];
    default?: unknown;
    description?: string;
    properties?: Record<string, JsonSchema>;
    required?: string[];
    items?: JsonSchema;
    oneOf?: JsonSchema[];
    anyOf?: JsonSchema[];
    additionalProperties?: JsonSchema | boolean;
    pattern?: string;
    /** Set by the schema's `.meta({ format })`: `quantity`, `kubernetes-version`. */
    format?: string;
    examples?: unknown[];
    /** Set by `.meta({ mergedDefault })` on a map whose given keys replace these defaults one by one. */
    mergedDefault?: Record<string, unknown>;
    /** Set by the schema's `secret(...)` (config-fields.ts). */
    secret?: boolean;
    /** Set on a cluster's add-on block: it takes the keys of the stack-wide block it names. */
    overrides?: string;
};

interface Row {
    path: string;
    /** Each type the key takes, with the clouds where it takes it. */
    types: Map<string, Set<string>>;
    /** Clouds (or "all") where the key is required / present. */
    requiredIn: Set<string>;
    clouds: Set<string>;
    defaults: Map<string, string>;
}

const show = (v: unknown) => (v === undefined ? "" : `\`${JSON.stringify(v)}\``);

function typeOf(node: JsonSchema): string {
    if (node.overrides) return `object: any keys of \`${node.overrides}\`, over it`;
    if (node.format === "quantity") return "quantity";
    if (node.format === "kubernetes-version") return `"MAJOR.MINOR": ${(node.examples ?? []).join(", ")}`;
    if (node.enum) return node.enum.map((v) => String(v)).join(" \\| ");
    if (node.const !== undefined) return String(node.const);
    const variants = node.anyOf ?? node.oneOf;
    if (variants) return [...new Set(variants.map(typeOf))].join(" \\| ");
    if (node.type === "array") return `list of ${node.items ? typeOf(node.items) : "any"}`;
    if (node.type === "object" && node.additionalProperties && typeof node.additionalProperties === "object") {
        const values = typeOf(node.additionalProperties);
        return values === "any" ? "map" : `map of ${values}`;
    }
    return Array.isArray(node.type) ? node.type.join(" \\| ") : (node.type ?? "any");
}

function walk(node: JsonSchema, at: string, required: boolean, cloud: string | undefined, env: string, rows: Map<string, Row>, inSecret = false) {
    const variants = node.oneOf ?? node.anyOf;
    if (variants && variants.some((v) => v.properties?.cloud?.const)) {
        for (const v of variants) walk(v, at, required, String(v.properties?.cloud?.const), env, rows);
        return;
    }
    const secret = inSecret || node.secret === true;
    if (at) {
        const row = rows.get(at) ?? { path: at, types: new Map<string, Set<string>>(), requiredIn: new Set<string>(), clouds: new Set<string>(), defaults: new Map<string, string>() };
        const type = secret ? `${typeOf(node)}, **secret**` : typeOf(node);
        row.types.set(type, (row.types.get(type) ?? new Set<string>()).add(cloud ?? "all"));
        row.clouds.add(cloud ?? "all");
        if (required) row.requiredIn.add(cloud ?? "all");
        if (node.default !== undefined) row.defaults.set(env, show(node.default));
        else if (node.mergedDefault !== undefined) row.defaults.set(env, `${show(node.mergedDefault)}, per key`);
        rows.set(at, row);
    }
    if (node.type === "object" && node.properties) {
        for (const [key, child] of Object.entries(node.properties)) {
            walk(child, at ? `${at}.${key}` : key, (node.required ?? []).includes(key), cloud, env, rows, secret);
        }
    } else if (node.type === "array" && node.items && (node.items.properties || node.items.oneOf)) {
        walk(node.items, `${at}[]`, true, cloud, env, rows, secret);
    }
}

export function configReference(): string {
    const rows = new Map<string, Row>();
    for (const env of environments) {
        const schema = z.toJSONSchema(platformSchema(env), { io: "input", unrepresentable: "any" }) as JsonSchema;
        walk(schema, "", true, undefined, env, rows);
    }
    const lines = ["| key (under `platform:`) | type | required | clouds | default (local / staging / production) |", "|---|---|---|---|---|"];
    for (const row of rows.values()) {
        const values = environments.map((e) => row.defaults.get(e) ?? "");
        const defaults = values.every((v) => v === values[0]) ? values[0] : values.join(" / ");
        const clouds = row.clouds.size === 4 || row.clouds.has("all") ? "" : [...row.clouds].join(", ");
        const required = row.requiredIn.size === 0 ? "" : row.requiredIn.size === row.clouds.size ? "yes" : [...row.requiredIn].join(", ");
        // Which clouds take which type, unless the type names its one cloud already (`cloud`).
        const annotate = row.types.size > 1 && [...row.types].some(([type, where]) => where.size > 1 || !where.has(type));
        const types = [...row.types].map(([type, where]) => (annotate ? `${type} (${[...where].join(", ")})` : type));
        lines.push(`| \`${row.path}\` | ${types.join(" \\| ")} | ${required} | ${clouds} | ${defaults} |`);
    }
    return lines.join("\n");
}

/** The add-on table of docs/platform.md: the registry (components/platform/addons.ts), one row per add-on. */
export function addonTable(): string {
    const lines = [
        "| `platform:addons.` | file | namespace | chart | version | Helm release | Pod Security | tenants accept traffic from it | `values` it refuses, beyond pod security |",
        "|---|---|---|---|---|---|---|---|---|",
    ];
    for (const key of addonKeys) {
        const addon = addons[key];
        const guarded = [...new Set(addon.guardedValues.map((g) => `\`${g.path}\``))].join(", ");
        const cells = [`\`${key}\``, `\`${addon.file}.ts\``, `\`${addon.namespace}\``, `\`${addon.chart.chart}\``, addon.chart.version, `\`${chartName(addon.chart)}\``, addon.podSecurity, addon.tenantIngress ? "yes" : "", guarded];
        lines.push(`| ${cells.join(" | ")} |`);
    }
    return lines.join("\n");
}

const root = path.join(__dirname, "..", "..");
export const README = path.join(root, "README.md");
export const PLATFORM_DOC = path.join(root, "docs", "platform.md");
const markers = (block: string) => [`<!-- ${block}:start (generated by npm run docs:config) -->`, `<!-- ${block}:end -->`] as const;
export const MARKERS = markers("config-reference");

/** `text` with the block between `block`'s markers replaced by `content`. */
export function withBlock(text: string, block: string, content: string): string {
    const [start, end] = markers(block);
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`lacks the markers ${start} ... ${end}`);
    return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

/** README's text with the reference block replaced by the generated one. */
export const withReference = (readme: string): string => withBlock(readme, "config-reference", configReference());
/** docs/platform.md's text with the add-on table replaced by the generated one. */
export const withAddonTable = (doc: string): string => withBlock(doc, "addon-table", addonTable());

const USAGE = `usage: npm run docs:config

Regenerates the configuration reference in README.md (from the zod schema in
components/config-schema.ts) and the add-on table in docs/platform.md (from the add-on
registry, components/platform/addons.ts), between their generated-block markers.
`;

if (require.main === module) {
    parseCommandLine("config-reference", USAGE, { options: {} });
    fs.writeFileSync(README, withReference(fs.readFileSync(README, "utf8")));
    fs.writeFileSync(PLATFORM_DOC, withAddonTable(fs.readFileSync(PLATFORM_DOC, "utf8")));
    process.stderr.write("README.md: configuration reference regenerated; docs/platform.md: add-on table regenerated\n");
}
