/**
 * What each stack would do, from two offline renders (base and head of a pull request), read
 * like `pulumi preview --diff`: per resource create, update, replace or delete, the changed
 * input paths with old and new values, and whether a replacement or deletion hits a protected
 * resource (which stops the real preview). Runs without the Pulumi CLI or any cloud, so forks
 * get it too. How a replacement is decided: scripts/render-diff-rules.ts.
 *
 *   node dist/scripts/render-diff.js --base DIR --head DIR [--markdown F] [--full-markdown F] [--json F]
 *
 * DIR holds one `<stack>.json` per stack (the output of `render.js --out`). A stack missing on
 * one side counts as empty there, with a note, so new and deleted stacks show whole; a missing
 * directory is an error.
 */
import * as fs from "fs";
import * as path from "path";
import { parseCommandLine } from "./cli";
import { formatPropertyPath, leafChanges, replaceReason, withIgnoredChanges } from "./render-diff-rules";
import { count, stopping, toMarkdown } from "./render-diff-markdown";
import type { RenderDocument, RenderedResource } from "./render-program";

export type Operation = "create" | "update" | "replace" | "delete";

export interface FieldChange {
    /** Input path as Pulumi writes it (`spec.hard["limits.cpu"]`), or the option's name (`protect`). */
    path: string;
    old: unknown;
    new: unknown;
    /** Why this change replaces the resource (absent: it updates in place). */
    replaces?: string;
}

export interface ResourceChange {
    op: Operation;
    urn: string;
    type: string;
    name: string;
    /** Protected in the state the engine holds (the base; the head for a create). */
    protect: boolean;
    /** A replace or delete the engine refuses: `pulumi preview` stops with an error here. */
    stopsPreview: boolean;
    /** A replacement deletes the old object before creating the new one (downtime). */
    deleteBeforeReplace: boolean;
    /** The base has `retainOnDelete`: a delete or replace leaves the cloud object behind. */
    retainOnDelete: boolean;
    inputs: FieldChange[];
    options: FieldChange[];
}

export interface StackDiff {
    stack: string;
    /** Sorted: what stops the preview first, then replace, delete, update, create; each by URN. */
    changes: ResourceChange[];
    /** Why a side is empty (no render), so "everything created" is not mistaken for a real change. */
    notes: string[];
}

// Options the engine acts on besides the inputs; `custom` follows from the type.
const OPTIONS = ["protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges", "replaceOnChanges", "deletedWith", "provider", "dependencies"] as const;
type OptionKey = (typeof OPTIONS)[number];
const LISTS: readonly OptionKey[] = ["ignoreChanges", "replaceOnChanges", "dependencies"];
// Renders made before an option was recorded lack it: read as the engine's default.
const optionOf = (r: RenderedResource, key: OptionKey): unknown => r[key] ?? (LISTS.includes(key) ? [] : key === "provider" || key === "deletedWith" ? "" : false);

const ORDER: Operation[] = ["replace", "delete", "update", "create"];
const byUrn = (a: { urn: string }, b: { urn: string }) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0);
const ranked = (a: ResourceChange, b: ResourceChange) =>
    Number(b.stopsPreview) - Number(a.stopsPreview) || ORDER.indexOf(a.op) - ORDER.indexOf(b.op) || byUrn(a, b);

function whole(op: "create" | "delete", r: RenderedResource): ResourceChange {
    return {
        op,
        urn: r.urn,
        type: r.type,
        name: r.name,
        protect: r.protect,
        // The engine refuses to delete what its state marks protected.
        stopsPreview: op === "delete" && r.protect,
        deleteBeforeReplace: false,
        retainOnDelete: op === "delete" && r.retainOnDelete,
        inputs: [],
        options: [],
    };
}

/** One resource present on both sides; undefined when the engine would find nothing to do. */
export function compareResource(old: RenderedResource, next: RenderedResource): ResourceChange | undefined {
    const ignore = optionOf(next, "ignoreChanges") as string[];
    const replaceOnChanges = optionOf(next, "replaceOnChanges") as string[];
    const seen = withIgnoredChanges(old.inputs, next.inputs, ignore);
    const names = { ...old.inputs, ...next.inputs };
    const inputs: FieldChange[] = leafChanges(old.inputs, seen).map((c) => {
        const replaces = replaceReason(next.type, names, c.path, replaceOnChanges);
        return { path: formatPropertyPath(c.path), old: c.old, new: c.new, ...(replaces ? { replaces } : {}) };
    });
    const options: FieldChange[] = OPTIONS.filter((k) => JSON.stringify(optionOf(old, k)) !== JSON.stringify(optionOf(next, k))).map((k) => ({
        path: k,
        old: optionOf(old, k),
        new: optionOf(next, k),
    }));
    if (!inputs.length && !options.length) return undefined;
    const replace = inputs.some((c) => c.replaces);
    return {
        op: replace ? "replace" : "update",
        urn: next.urn,
        type: next.type,
        name: next.name,
        protect: old.protect,
        // The engine refuses a replacement only while protected in its state and in the program:
        // unprotecting in the same change lets it through.
        stopsPreview: replace && old.protect && next.protect,
        deleteBeforeReplace: replace && Boolean(next.deleteBeforeReplace),
        retainOnDelete: replace && old.retainOnDelete,
        inputs,
        options,
    };
}

export function diffStack(stack: string, base: RenderDocument | undefined, head: RenderDocument | undefined): StackDiff {
    const notes: string[] = [];
    if (!base) notes.push("no base render (new stack, or the base does not render): every resource counts as created");
    if (!head) notes.push("no head render (stack file removed): every resource counts as deleted");
    const before = new Map((base?.resources ?? []).map((r) => [r.urn, r]));
    const after = new Map((head?.resources ?? []).map((r) => [r.urn, r]));
    // A resource whose alias names a base URN the head no longer has is that resource, renamed:
    // the engine moves it, as `pulumi preview` shows, and references to it follow.
    const renamed = new Map<string, string>();
    for (const [urn, r] of after) for (const alias of r.aliases ?? []) if (before.has(alias) && !after.has(alias)) renamed.set(alias, urn);
    const follow = (urn: string) => renamed.get(urn) ?? urn;
    const moved = (r: RenderedResource): RenderedResource => ({ ...r, urn: follow(r.urn), parent: follow(r.parent), dependencies: r.dependencies.map(follow).sort() });
    const oldOf = new Map([...before.values()].map((r) => [follow(r.urn), moved(r)]));
    const changes: ResourceChange[] = [];
    for (const [urn, r] of after) {
        const old = oldOf.get(urn);
        const change = old ? compareResource(old, r) : whole("create", r);
        if (change) changes.push(change);
    }
    for (const [urn, r] of before) if (!after.has(follow(urn))) changes.push(whole("delete", r));
    return { stack, changes: changes.sort(ranked), notes };
}

/** Thrown for what a user gave wrongly (a missing directory, a file that is not a render): one line, no stack trace. */
export class UsageError extends Error {}

function readRenders(dir: string, side: string): Map<string, RenderDocument> {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
        throw new UsageError(`render-diff: the ${side} directory ${dir} does not exist (render every stack into it first: docs/operations.md)`);
    }
    const docs = new Map<string, RenderDocument>();
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
        const full = path.join(dir, file);
        let doc: RenderDocument;
        try {
            doc = JSON.parse(fs.readFileSync(full, "utf8")) as RenderDocument;
        } catch (err) {
            throw new UsageError(`render-diff: ${full} is not JSON (${(err as Error).message})`);
        }
        if (!doc || !Array.isArray(doc.resources)) throw new UsageError(`render-diff: ${full} is not a render (no "resources" list)`);
        docs.set(path.basename(file, ".json"), doc);
    }
    return docs;
}

/** Renders of both sides, by stack name (file `<stack>.json`), diffed; stacks sorted. */
export function diffDirectories(baseDir: string, headDir: string): StackDiff[] {
    const base = readRenders(baseDir, "base");
    const head = readRenders(headDir, "head");
    if (!head.size) throw new UsageError(`render-diff: the head directory ${headDir} holds no <stack>.json render`);
    const stacks = [...new Set([...base.keys(), ...head.keys()])].sort();
    return stacks.map((s) => diffStack(s, base.get(s), head.get(s)));
}

const USAGE = `usage: node dist/scripts/render-diff.js --base DIR --head DIR [--markdown F] [--full-markdown F] [--json F]

Compares two directories of offline renders (<stack>.json from render.js --out) and prints,
per stack, what would be created, updated, replaced and deleted, with old and new values and
the protected resources a replacement or deletion would hit.

  --markdown F       the pull-request comment (capped to fit one) to F instead of stdout
  --full-markdown F  the same without the cap
  --json F           the same as data
  -h, --help         this text

docs/operations.md has the local recipe.
`;

function main(): number {
    const { values } = parseCommandLine("render-diff", USAGE, {
        options: { base: { type: "string" }, head: { type: "string" }, markdown: { type: "string" }, "full-markdown": { type: "string" }, json: { type: "string" } },
    });
    if (!values.base || !values.head) {
        process.stderr.write(`render-diff: --base and --head are required (--help for usage)\n`);
        return 2;
    }
    let diffs: StackDiff[];
    try {
        diffs = diffDirectories(values.base, values.head);
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        process.stderr.write(`${err.message}\n`);
        return 2;
    }
    const markdown = toMarkdown(diffs);
    if (values.markdown) fs.writeFileSync(values.markdown, markdown);
    else process.stdout.write(markdown);
    if (values["full-markdown"]) fs.writeFileSync(values["full-markdown"], toMarkdown(diffs, { limit: Infinity }));
    if (values.json) fs.writeFileSync(values.json, JSON.stringify(diffs, null, 2) + "\n");
    for (const d of diffs) {
        const counts = ORDER.map((op) => `${count(d, op)} to ${op}`).join(", ");
        process.stderr.write(`render-diff: ${d.stack}: ${counts}${stopping(d) ? `; ${stopping(d)} protected (the real preview will stop)` : ""}\n`);
    }
    return 0;
}

if (require.main === module) process.exit(main());
