/**
 * Resource-level difference between two offline renders (base and head of a pull request):
 * per stack, what would be added, changed (same URN, different inputs or options) and
 * removed. Runs without the Pulumi CLI or any cloud, so forks get it too.
 *
 *   node dist/scripts/render-diff.js --base DIR --head DIR [--markdown F] [--json F]
 *
 * DIR holds one `<stack>.json` per stack (the output of `render.js --out`). A stack missing
 * on one side counts as empty there, with a note, so new and deleted stacks show whole.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import type { RenderDocument, RenderedResource } from "./render-program";

export interface ResourceRef {
    urn: string;
    type: string;
    name: string;
}
export interface ChangedResource extends ResourceRef {
    /** Dotted paths that differ, e.g. `inputs.spec.hard.limits.cpu`, `protect`. */
    fields: string[];
}
export interface StackDiff {
    stack: string;
    added: ResourceRef[];
    changed: ChangedResource[];
    removed: ResourceRef[];
    /** Why a side is empty (no render), so "everything added" is not mistaken for a real change. */
    notes: string[];
}

// Everything the engine would act on besides the URN. `custom` is implied by the type.
const COMPARED: (keyof RenderedResource)[] = [
    "inputs",
    "protect",
    "retainOnDelete",
    "deleteBeforeReplace",
    "ignoreChanges",
    "provider",
    "parent",
    "dependencies",
];

const ref = (r: RenderedResource): ResourceRef => ({ urn: r.urn, type: r.type, name: r.name });
const byUrn = (a: { urn: string }, b: { urn: string }) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Leaf paths where `a` and `b` differ. Arrays compare whole: an element's index is not identity. */
export function differingPaths(a: unknown, b: unknown, at: string): string[] {
    if (isObject(a) && isObject(b)) {
        const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
        return keys.flatMap((k) => differingPaths(a[k], b[k], at ? `${at}.${k}` : k));
    }
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [at];
}

export function diffStack(stack: string, base: RenderDocument | undefined, head: RenderDocument | undefined): StackDiff {
    const notes: string[] = [];
    if (!base) notes.push("no base render (new stack, or the base does not render): every resource counts as added");
    if (!head) notes.push("no head render (stack file removed): every resource counts as removed");
    const before = new Map((base?.resources ?? []).map((r) => [r.urn, r]));
    const after = new Map((head?.resources ?? []).map((r) => [r.urn, r]));
    const added: ResourceRef[] = [];
    const changed: ChangedResource[] = [];
    const removed: ResourceRef[] = [];
    for (const [urn, r] of after) {
        const old = before.get(urn);
        if (!old) {
            added.push(ref(r));
            continue;
        }
        const fields = COMPARED.flatMap((key) => differingPaths(old[key], r[key], key));
        if (fields.length) changed.push({ ...ref(r), fields });
    }
    for (const [urn, r] of before) if (!after.has(urn)) removed.push(ref(r));
    return { stack, added: added.sort(byUrn), changed: changed.sort(byUrn), removed: removed.sort(byUrn), notes };
}

/** Renders of both sides, by stack name (file `<stack>.json`), diffed; stacks sorted. */
export function diffDirectories(baseDir: string, headDir: string): StackDiff[] {
    const read = (dir: string): Map<string, RenderDocument> => {
        const docs = new Map<string, RenderDocument>();
        if (!fs.existsSync(dir)) return docs;
        for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
            docs.set(path.basename(file, ".json"), JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as RenderDocument);
        }
        return docs;
    };
    const base = read(baseDir);
    const head = read(headDir);
    const stacks = [...new Set([...base.keys(), ...head.keys()])].sort();
    return stacks.map((s) => diffStack(s, base.get(s), head.get(s)));
}

// ---------- markdown ----------

/** Marks our pull-request comment so the workflow updates it instead of adding another. */
export const COMMENT_MARKER = "<!-- platform-render-diff -->";
// GitHub refuses comments over 65,536 characters; the artifact keeps the full list.
const COMMENT_LIMIT = 60000;
const MAX_FIELDS = 4;

const code = (s: string) => "`" + s.replace(/`/g, "'") + "`";
const total = (d: StackDiff) => d.added.length + d.changed.length + d.removed.length;

function table(title: string, rows: (ResourceRef & { fields?: string[] })[], withFields: boolean): string[] {
    if (!rows.length) return [];
    const head = withFields ? ["| type | name | what differs |", "|---|---|---|"] : ["| type | name |", "|---|---|"];
    const line = (r: ResourceRef & { fields?: string[] }) => {
        if (!withFields) return `| ${code(r.type)} | ${code(r.name)} |`;
        const fields = r.fields ?? [];
        const shown = fields.slice(0, MAX_FIELDS).map(code).join(", ");
        return `| ${code(r.type)} | ${code(r.name)} | ${shown}${fields.length > MAX_FIELDS ? ` and ${fields.length - MAX_FIELDS} more` : ""} |`;
    };
    return [`**${title} (${rows.length})**`, "", ...head, ...rows.map(line), ""];
}

export function toMarkdown(diffs: StackDiff[], opts: { limit?: number } = {}): string {
    const limit = opts.limit ?? COMMENT_LIMIT;
    const summary = [
        COMMENT_MARKER,
        "## Offline render: what each stack would change",
        "",
        "Rendered with Pulumi mocks from the base and the head of this pull request (no cloud; secrets and cloud-computed values are not compared).",
        "",
        "| stack | added | changed | removed |",
        "|---|---:|---:|---:|",
        ...diffs.map((d) => `| ${d.stack} | ${d.added.length} | ${d.changed.length} | ${d.removed.length} |`),
        "",
    ];
    const details = diffs.flatMap((d) => {
        const notes = d.notes.map((n) => `> ${n}`);
        if (!total(d)) return [`### ${d.stack}`, "", ...notes, ...(notes.length ? [""] : []), "No resource changes.", ""];
        return [
            `### ${d.stack}`,
            "",
            ...notes,
            ...(notes.length ? [""] : []),
            ...table("Added", d.added, false),
            ...table("Changed", d.changed, true),
            ...table("Removed", d.removed, false),
        ];
    });
    const full = [...summary, ...details].join("\n");
    if (full.length <= limit) return full;
    return [...summary, "_The per-resource lists are too long for a comment: see the `render-diff` artifact (diff.md, diff.json)._", ""].join("\n");
}

function main(): number {
    const { values } = parseArgs({ options: { base: { type: "string" }, head: { type: "string" }, markdown: { type: "string" }, json: { type: "string" } } });
    if (!values.base || !values.head) {
        process.stderr.write("usage: render-diff --base DIR --head DIR [--markdown F] [--json F]\n");
        return 2;
    }
    const diffs = diffDirectories(values.base, values.head);
    const markdown = toMarkdown(diffs);
    if (values.markdown) fs.writeFileSync(values.markdown, markdown);
    else process.stdout.write(markdown);
    if (values.json) fs.writeFileSync(values.json, JSON.stringify(diffs, null, 2) + "\n");
    for (const d of diffs) process.stderr.write(`render-diff: ${d.stack}: +${d.added.length} ~${d.changed.length} -${d.removed.length}\n`);
    return 0;
}

if (require.main === module) process.exit(main());
