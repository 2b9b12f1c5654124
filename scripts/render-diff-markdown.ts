/**
 * The render diff as a pull-request comment: a summary table (one line per stack), a warning
 * for each stack whose real preview would stop on a protected resource, and per stack a
 * collapsible block that reads like `pulumi preview --diff`. Capped to fit a GitHub comment;
 * what does not fit is counted and left to the artifact.
 */
import type { FieldChange, Operation, ResourceChange, StackDiff } from "./render-diff";

/** Marks our pull-request comment so the workflow updates it instead of adding another. */
export const COMMENT_MARKER = "<!-- platform-render-diff -->";
// GitHub refuses comments over 65,536 characters; the artifact keeps the full diff.
export const COMMENT_LIMIT = 60000;
const VALUE_LIMIT = 80;
const NAMED_HITS = 10;

export const count = (d: StackDiff, op: Operation) => d.changes.filter((c) => c.op === op).length;
/** Replacements and deletions the engine refuses (protected): each stops `pulumi preview`. */
export const stopping = (d: StackDiff) => d.changes.filter((c) => c.stopsPreview).length;

const SYMBOL: Record<Operation, string> = { create: "+ ", update: "~ ", replace: "+-", delete: "- " };
// Nothing a value holds may close the code fence it is shown in.
const fenceSafe = (s: string) => s.replace(/```/g, "'''");

/** A value as JSON, long ones cut with their length said; `[secret]` stays as the render has it. */
export function showValue(value: unknown): string {
    const text = JSON.stringify(value) ?? "undefined";
    return text.length <= VALUE_LIMIT ? text : `${text.slice(0, VALUE_LIMIT - 20)}… (${text.length} characters)`;
}

/** Two long values that differ: both cut to the same window around their first difference. */
export function showPair(old: unknown, next: unknown): [string, string] {
    const [a, b] = [JSON.stringify(old) ?? "undefined", JSON.stringify(next) ?? "undefined"];
    if (a.length <= VALUE_LIMIT && b.length <= VALUE_LIMIT) return [a, b];
    let first = 0;
    while (first < a.length && a[first] === b[first]) first++;
    const from = Math.max(0, first - 20);
    const cut = (s: string) => `${from ? "…" : ""}${s.slice(from, from + VALUE_LIMIT - 20)}${s.length > from + VALUE_LIMIT - 20 ? "…" : ""} (${s.length} characters)`;
    return [cut(a), cut(b)];
}

function fieldLine(c: FieldChange): string {
    const why = c.replaces ? `  [forces replacement: ${c.replaces}]` : "";
    if (c.old === undefined) return `    + ${c.path}: ${showValue(c.new)}${why}`;
    if (c.new === undefined) return `    - ${c.path}: ${showValue(c.old)}${why}`;
    const [old, next] = showPair(c.old, c.new);
    return `    ~ ${c.path}: ${old} => ${next}${why}`;
}

function labels(c: ResourceChange): string {
    const notes: string[] = [];
    if (c.stopsPreview) notes.push("PROTECTED: the real preview will stop here");
    else if (c.protect && c.op !== "create") notes.push("protected");
    if (c.deleteBeforeReplace) notes.push("deletes before it creates the replacement");
    if (c.retainOnDelete) notes.push("retainOnDelete: the old object stays in the cloud");
    return notes.length ? `  (${notes.join("; ")})` : "";
}

/** One resource as `pulumi preview --diff` would print it. */
export function resourceBlock(c: ResourceChange): string {
    const head = `${SYMBOL[c.op]} ${c.type} ${c.name}  ${c.op}${labels(c)}`;
    const options = c.options.map((o) => `    ~ [option] ${o.path}: ${showPair(o.old, o.new).join(" => ")}`);
    return fenceSafe([head, ...c.inputs.map(fieldLine), ...options].join("\n"));
}

const countsOf = (d: StackDiff) => (["create", "update", "replace", "delete"] as Operation[]).map((op) => count(d, op));

function stackSummary(d: StackDiff): string {
    const parts = (["replace", "delete", "update", "create"] as Operation[]).filter((op) => count(d, op)).map((op) => `${count(d, op)} to ${op}`);
    const hits = stopping(d) ? `, **${stopping(d)} protected: the real preview will stop**` : "";
    return parts.length ? `${parts.join(", ")}${hits}` : "no changes";
}

function warning(d: StackDiff): string[] {
    const hits = d.changes.filter((c) => c.stopsPreview);
    if (!hits.length) return [];
    const named = hits.slice(0, NAMED_HITS).map((c) => `> - \`${c.type}\` \`${c.name}\` (${c.op})`);
    const more = hits.length > NAMED_HITS ? [`> - and ${hits.length - NAMED_HITS} more`] : [];
    return [
        "> [!CAUTION]",
        `> **${d.stack}**: ${hits.length} protected resource(s) would be replaced or deleted. \`pulumi preview\` refuses this and stops;`,
        "> unprotect in a reviewed change first, or change the plan so they stay.",
        ...named,
        ...more,
        "",
    ];
}

export function toMarkdown(diffs: StackDiff[], opts: { limit?: number } = {}): string {
    const limit = opts.limit ?? COMMENT_LIMIT;
    const header = [
        COMMENT_MARKER,
        "## Offline render: what each stack would change",
        "",
        "| stack | create | update | replace | delete | protected hits |",
        "|---|---:|---:|---:|---:|---:|",
        ...diffs.map((d) => `| ${d.stack} | ${countsOf(d).join(" | ")} | ${stopping(d) ? `**${stopping(d)}**` : 0} |`),
        "",
        ...diffs.flatMap(warning),
    ].join("\n");
    const footer = [
        "",
        "Rendered with Pulumi mocks from the base and the head of this pull request, without a cloud: secrets (`[secret]`) and values",
        "only a cloud knows are not compared, fields in a resource's `ignoreChanges` are left out, and a replacement is decided from",
        "the resource's physical name, its `replaceOnChanges` and a table of replace-forcing inputs (docs/operations.md, *Reading the render diff*).",
        "",
    ].join("\n");
    const truncated = (n: number) => `\n_${n} more resource(s) not shown here: see the \`render-diff\` artifact (diff-full.md, diff.json)._\n`;
    let budget = limit - header.length - footer.length;
    const sections: string[] = [];
    for (const d of diffs) {
        const open = [`<details><summary><b>${d.stack}</b>: ${stackSummary(d)}</summary>`, "", ...d.notes.map((n) => `> ${n}`), ...(d.notes.length ? [""] : [])].join("\n");
        const close = "</details>\n";
        const reserve = truncated(d.changes.length).length + "```text\n```\n".length;
        budget -= open.length + close.length + reserve;
        const shown: string[] = [];
        for (const c of d.changes) {
            const block = resourceBlock(c) + "\n";
            if (block.length > budget) break;
            budget -= block.length;
            shown.push(block);
        }
        const body = shown.length ? ["```text\n", ...shown, "```\n"].join("") : "";
        const omitted = d.changes.length - shown.length;
        sections.push([open, body, omitted ? truncated(omitted) : "", close].join("\n"));
    }
    return [header, ...sections, footer].join("\n");
}
