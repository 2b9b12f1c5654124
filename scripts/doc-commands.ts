/**
 * Every command in README.md and docs/*.md, classified by what it needs, and the ones that
 * need nothing but this repository run as written on a fresh clone.
 *
 *   node dist/scripts/doc-commands.js [--list] [--run] [--repo DIR]
 *
 * A command is a logical line of a ```bash block (continuations joined), split into its
 * parts at `&&`, `||`, `;`, `|`, `&`, brackets, and `$(...)`. Each part's class comes from
 * RULES (first match); the line's class is the most demanding of its parts; a part no rule
 * knows is an error, so a new command in the docs must be classified here. Only `offline`
 * lines run: per block, in order, in a clean checkout of HEAD (git clean -fdx), so every
 * block must stand on its own, as a reader who jumps to it would run it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseCommandLine } from "./cli";

/** From least to most demanding. */
export const CLASSES = ["offline", "benchmark", "tools", "host", "network", "kind", "cluster", "cloud"] as const;
export type Needs = (typeof CLASSES)[number];

export const WHY: Record<Needs, string> = {
    offline: "runs here: Node, npm and git in the repository",
    benchmark: "runs here, but takes minutes of every core: measured by hand (docs/performance.md)",
    tools: "needs the integration tools (scripts/bootstrap-tools.sh, minutes to build; .ci/run runs that tier)",
    host: "changes the machine outside the repository and /tmp",
    network: "needs chart repositories or registries on the internet",
    kind: "needs a kind cluster and the Pulumi CLI",
    cluster: "needs a running cluster with the platform on it",
    cloud: "needs a stack's backend and cloud credentials",
};

/** First match wins; patterns see one part, leading `VAR=value` assignments removed. */
export const RULES: readonly { needs: Needs; pattern: RegExp }[] = [
    { needs: "benchmark", pattern: /^(npm run bench(?!:)|node dist\/scripts\/bench\.js)\b/ },
    { needs: "tools", pattern: /^((bash )?scripts\/bootstrap-tools\.sh|npm run (test:integration|test:recovery|bench:engine)|bash \.ci\/run)\b/ },
    { needs: "host", pattern: /^(mkdir|cd)\s+(-p\s+)?\/(?!tmp\/)/ },
    { needs: "network", pattern: /^helm (pull|repo add|show)\b/ },
    { needs: "offline", pattern: /^(npm (ci|test|run (build|render|docs:config))|npm run -s render|npx tsc)\b/ },
    { needs: "offline", pattern: /^node dist\/(scripts\/(render|render-diff|rebuild-model|rebuild-doc|config-reference|doc-commands)|policy\/offline)\.js\b/ },
    { needs: "offline", pattern: /^git worktree (add|remove|prune)\b/ },
    // Shell syntax and local utilities; what they act on is classified with the rest of the line.
    { needs: "offline", pattern: /^(cd|mkdir|mktemp|echo|cat|for|done|if|fi|true|base64|jq|grep|xargs|head|tail|cut|sort|date)(\s|$)/ },
    { needs: "kind", pattern: /^(kind create cluster|pulumi login --local|pulumi stack init local|kubectl --context kind-platform)\b/ },
    { needs: "kind", pattern: /^pulumi\b.*\s-s local(\s|$)/ },
    { needs: "kind", pattern: /^curl (\S+ )*https?:\/\/[a-z0-9.-]+\.localhost[:/]/ },
    { needs: "cluster", pattern: /^(kubectl|velero)\b/ },
    { needs: "cloud", pattern: /^(pulumi|aws|az|gcloud)\b/ },
];

export interface Command {
    /** The logical line as written (continuations kept). */
    text: string;
    needs: Needs;
    /** Parts no rule knows; non-empty means unclassified. */
    unknown: string[];
}
export interface Block {
    file: string;
    line: number;
    commands: Command[];
}

const ASSIGNMENT = /^(export\s+)?[A-Za-z_][A-Za-z0-9_]*=("[^"]*"|'[^']*'|\$\([^)]*\)|\S)*\s*/;
const KEYWORD = /^(do|then|else|elif|!)\s+/;
/** `nice` only lowers a command's priority: the command after it is what is classified. */
const NICE = /^nice\s+(-n\s*-?\d+\s+)?/;

/** Splits a line into simple commands, and pulls `$(...)` contents out as commands of their own. */
export function parts(line: string): string[] {
    const out: string[] = [];
    let current = "";
    let quote: string | null = null;
    const flush = () => {
        if (current.trim()) out.push(current.trim());
        current = "";
    };
    for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (quote) {
            if (c === quote) quote = null;
            else if (quote === '"' && c === "$" && line[i + 1] === "(") {
                const end = closing(line, i + 1);
                out.push(...parts(line.slice(i + 2, end)));
            }
            current += c;
            continue;
        }
        if (c === "'" || c === '"') {
            quote = c;
            current += c;
        } else if (c === "#" && /\s/.test(line[i - 1] ?? " ")) {
            break;
        } else if (c === "$" && line[i + 1] === "(") {
            const end = closing(line, i + 1);
            out.push(...parts(line.slice(i + 2, end)));
            current += line.slice(i, end + 1);
            i = end;
        } else if (c === "$" && line[i + 1] === "{") {
            const end = line.indexOf("}", i);
            current += line.slice(i, end + 1);
            i = end;
        } else if (c === "&" && (line[i - 1] === ">" || line[i - 1] === "<" || line[i + 1] === ">")) {
            current += c; // a redirection (2>&1, &>), not a separator
        } else if ("&|;(){}".includes(c)) {
            flush();
        } else current += c;
    }
    flush();
    return out;
}

function closing(line: string, open: number): number {
    let depth = 0;
    for (let i = open; i < line.length; i++) {
        if (line[i] === "(") depth++;
        else if (line[i] === ")" && --depth === 0) return i;
    }
    return line.length;
}

/** The class of one part, or undefined when no rule knows it. */
export function classifyPart(part: string, functions: ReadonlySet<string>): Needs | undefined {
    let rest = part.replace(KEYWORD, "");
    while (ASSIGNMENT.test(rest)) rest = rest.replace(ASSIGNMENT, "");
    rest = rest.replace(NICE, "");
    if (!rest) return "offline";
    const word = rest.split(/\s/)[0];
    if (functions.has(word) || /^[A-Za-z_][A-Za-z0-9_]*$/.test(rest) && functions.has(rest)) return "offline";
    return RULES.find((r) => r.pattern.test(rest))?.needs;
}

export function classify(text: string, functions: ReadonlySet<string> = new Set()): Command {
    const all = parts(text.replace(/\\\n/g, " "));
    const known = all.map((p) => [p, classifyPart(p, functions)] as const);
    const unknown = known.filter(([, n]) => n === undefined).map(([p]) => p);
    const needs = known.reduce<Needs>((worst, [, n]) => (n && CLASSES.indexOf(n) > CLASSES.indexOf(worst) ? n : worst), "offline");
    return { text, needs, unknown };
}

/** Fenced blocks of a Markdown text: language, first line number, body (fence indentation removed). */
export function fences(markdown: string): { lang: string; line: number; body: string }[] {
    const lines = markdown.split("\n");
    const found: { lang: string; line: number; body: string }[] = [];
    for (let i = 0; i < lines.length; i++) {
        const open = /^( *)```(\S*)\s*$/.exec(lines[i]);
        if (!open) continue;
        const [, indent, lang] = open;
        let j = i + 1;
        while (j < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[j])) j++;
        found.push({ lang, line: i + 1, body: lines.slice(i + 1, j).map((l) => l.slice(indent.length)).join("\n") });
        i = j;
    }
    return found;
}

const SHELL = new Set(["bash", "sh", "shell"]);

/** The shell blocks of one document, each command classified. */
export function blocksOf(file: string, markdown: string): Block[] {
    return fences(markdown)
        .filter((f) => SHELL.has(f.lang))
        .map((f) => {
            const logical = f.body.split(/(?<!\\)\n/).filter((l) => l.trim() && !l.trim().startsWith("#"));
            const functions = new Set(logical.flatMap((l) => [...l.matchAll(/(?:^|[;\s])([A-Za-z_][A-Za-z0-9_]*)\(\)\s*\{/g)].map((m) => m[1])));
            return { file, line: f.line, commands: logical.map((l) => classify(l, functions)) };
        });
}

export const DOCUMENTS = (root: string) => ["README.md", ...fs.readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];

export function documentBlocks(root: string): Block[] {
    return DOCUMENTS(root).flatMap((file) => blocksOf(file, fs.readFileSync(path.join(root, file), "utf8")));
}

/** Fences without a language: nobody can tell whether they hold commands. */
export function unlabelledFences(root: string): string[] {
    return DOCUMENTS(root).flatMap((file) =>
        fences(fs.readFileSync(path.join(root, file), "utf8"))
            .filter((f) => !f.lang)
            .map((f) => `${file}:${f.line}`),
    );
}

export interface RunResult {
    block: Block;
    script: string;
    ok: boolean;
    seconds: number;
    log: string;
}

const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync("git", args, { cwd, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.trim()}`);
    return r.stdout.trim();
};

/**
 * Clones `repo` (its HEAD) once and runs each block's offline commands in it, each block from
 * a clean checkout. `origin/main` in the clone is what `main` (or `origin/main`) is in `repo`.
 */
/** A command's text without its trailing comment: what `--ran` is compared with. */
const commandOf = (c: Command) => c.text.split(/\s+#/)[0].trim();

/**
 * `--ran` lines: commands the caller has already run as written on a fresh clone (.ci/run's
 * own first steps are README's test command), so they are not run a second time. A line
 * that no block has any more is an error: the skip must not outlive the command it names.
 */
export function withoutRan(blocks: Block[], ran: readonly string[]): Block[] {
    const missing = ran.filter((line) => !blocks.some((b) => b.commands.some((c) => commandOf(c) === line)));
    if (missing.length) throw new Error(`--ran names a command no block has: ${missing.map((l) => JSON.stringify(l)).join(", ")}`);
    return blocks.map((b) => ({ ...b, commands: b.commands.filter((c) => !ran.includes(commandOf(c))) }));
}

export function runBlocks(repo: string, blocks: Block[], timeoutMinutes = 40): RunResult[] {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "doc-commands-"));
    const clone = path.join(work, "clone");
    git(work, "clone", "--quiet", "--no-local", repo, clone);
    for (const ref of ["refs/remotes/origin/main", "refs/heads/main"]) {
        if (spawnSync("git", ["rev-parse", "--verify", "-q", ref], { cwd: repo }).status === 0) {
            git(clone, "fetch", "--quiet", repo, `+${ref}:refs/remotes/origin/main`);
            break;
        }
    }
    const results: RunResult[] = [];
    try {
        for (const block of blocks) {
            const script = block.commands.filter((c) => c.needs === "offline" && !c.unknown.length).map((c) => c.text).join("\n");
            if (!script) continue;
            git(clone, "worktree", "prune");
            git(clone, "reset", "--quiet", "--hard");
            git(clone, "clean", "-ffdxq");
            const started = Date.now();
            const run = spawnSync("bash", ["-euo", "pipefail", "-c", script], { cwd: clone, encoding: "utf8", timeout: timeoutMinutes * 60_000, maxBuffer: 1 << 28 });
            results.push({ block, script, ok: run.status === 0, seconds: (Date.now() - started) / 1000, log: `${run.stdout ?? ""}${run.stderr ?? ""}${run.error ? `\n${run.error.message}` : ""}` });
        }
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
    return results;
}

const USAGE = `usage: node dist/scripts/doc-commands.js [--list] [--run [--ran COMMAND]...] [--repo DIR]

Classifies every command of the shell blocks in README.md and docs/*.md by what it needs
(${CLASSES.join(", ")}); exit 1 if one is unclassified or a fence has no language.
  --list      print each block and the class of each command
  --run       run the offline commands of each block on a fresh clone of HEAD (exit 1 on a failure)
  --ran CMD   a command exactly as a block writes it that the caller already ran on a fresh
              clone (.ci/run: README's test command): not run again; an error if no block has it
  --repo DIR  the repository (default: this one)
`;

function main(): number {
    const { values } = parseCommandLine("doc-commands", USAGE, { options: { list: { type: "boolean" }, run: { type: "boolean" }, ran: { type: "string", multiple: true }, repo: { type: "string" } } });
    const root = path.resolve(values.repo ?? path.join(__dirname, "..", ".."));
    const blocks = documentBlocks(root);
    const problems = [
        ...unlabelledFences(root).map((at) => `${at}: a fence without a language (bash, text, yaml, ...)`),
        ...blocks.flatMap((b) => b.commands.filter((c) => c.unknown.length).map((c) => `${b.file}:${b.line}: unclassified: ${c.unknown.join(" / ")} (add a rule to scripts/doc-commands.ts)`)),
    ];
    if (values.list) {
        for (const b of blocks) {
            process.stdout.write(`${b.file}:${b.line}\n`);
            for (const c of b.commands) process.stdout.write(`  ${c.unknown.length ? "UNCLASSIFIED" : c.needs.padEnd(9)}  ${c.text.split("\n")[0]}\n`);
        }
    }
    for (const p of problems) process.stderr.write(`doc-commands: ${p}\n`);
    if (problems.length) return 1;
    if (!values.run) return 0;
    const ran = values.ran ?? [];
    let toRun: Block[];
    try {
        toRun = withoutRan(blocks, ran);
    } catch (e) {
        process.stderr.write(`doc-commands: ${(e as Error).message}\n`);
        return 1;
    }
    for (const line of ran) process.stdout.write(`ran before, not again: ${line}\n`);
    let failed = 0;
    for (const r of runBlocks(root, toRun)) {
        process.stdout.write(`${r.ok ? "ok  " : "FAIL"} ${r.block.file}:${r.block.line} (${r.seconds.toFixed(0)} s)\n`);
        if (!r.ok) {
            failed++;
            process.stdout.write(`${r.script.replace(/^/gm, "  $ ")}\n${r.log.split("\n").slice(-40).join("\n")}\n`);
        }
    }
    return failed ? 1 : 0;
}

if (require.main === module) process.exit(main());
