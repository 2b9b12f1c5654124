/**
 * How the schema's problems read: Zod's own wording, where a schema gives none, in the words of
 * someone editing a stack file. Pure (no Pulumi), used by config.ts and config-schema.ts.
 */
import { z } from "zod";

const A: Record<string, string> = { string: "a string", number: "a number", int: "a whole number", boolean: "true or false", object: "a map of settings", array: "a list" };
const kindOf = (value: unknown) => (value === null ? "empty" : Array.isArray(value) ? "a list" : typeof value === "object" ? "a map" : `a ${typeof value}`);

/**
 * Values are not repeated for a wrong type (the key might hold a secret); a quoted number or
 * boolean gets a hint instead.
 */
const humanErrors: z.core.$ZodErrorMap = (issue) => {
    switch (issue.code) {
        case "invalid_type": {
            const quoted =
                typeof issue.input === "string" &&
                ((issue.expected === "number" && issue.input.trim() !== "" && !isNaN(Number(issue.input))) || (issue.expected === "boolean" && /^(true|false)$/.test(issue.input)));
            return `must be ${A[issue.expected] ?? issue.expected}, not ${kindOf(issue.input)}${quoted ? " (remove the quotes in YAML)" : ""}`;
        }
        case "invalid_union": {
            // string-or-number and the like: every branch failed on the type alone.
            const branches = issue.errors ?? [];
            if (!branches.length || !branches.every((b) => b.length === 1 && b[0].code === "invalid_type")) return undefined;
            const expected = [...new Set(branches.map((b) => (b[0] as { expected: string }).expected))];
            return `must be ${expected.map((e) => A[e] ?? e).join(" or ")}, not ${kindOf(issue.input)}`;
        }
        case "invalid_value":
            return `must be ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => String(v)).join(", ")}`}${issue.input === undefined ? "" : ` (got ${JSON.stringify(issue.input)})`}`;
        case "too_small":
            if (issue.origin === "string" && Number(issue.minimum) === 1) return "must not be empty";
            if (issue.origin === "array" || issue.origin === "set") return `needs at least ${issue.minimum} ${Number(issue.minimum) === 1 ? "entry" : "entries"}`;
            if (issue.origin === "string") return `must be at least ${issue.minimum} characters`;
            return `must be ${issue.inclusive ? "at least" : "more than"} ${issue.minimum}`;
        case "too_big":
            if (issue.origin === "array" || issue.origin === "set") return `takes at most ${issue.maximum} ${Number(issue.maximum) === 1 ? "entry" : "entries"}`;
            if (issue.origin === "string") return `must be at most ${issue.maximum} characters`;
            return `must be ${issue.inclusive ? "at most" : "less than"} ${issue.maximum}`;
        default:
            return undefined;
    }
};

/** Parse options for every validation of stack settings: the wording above, and the input on each issue. */
export const PARSE = { error: humanErrors, reportInput: true } as const;

type Issue = { path: PropertyKey[]; message: string; code?: string; input?: unknown; keys?: string[]; issues?: { message: string }[] };

export function messageOfIssue(issue: Issue): string {
    // Even where a schema words the wrong-type case itself, a missing value is missing.
    if (issue.code === "invalid_type" && issue.input === undefined) return "is required";
    // Zod nests the reason a record key is invalid; surface it.
    return issue.code === "invalid_key" && issue.issues?.length ? issue.issues.map((i) => i.message).join("; ") : issue.message;
}

/** The issue as problems at their own paths: one per unknown key (naming the cluster's cloud directly under a cluster). */
export function problemsOfIssue(issue: Issue): { path: PropertyKey[]; message: string }[] {
    if (issue.code === "unrecognized_keys" && issue.keys?.length) {
        const input = issue.input as { cloud?: unknown } | undefined;
        const underCluster = issue.path.length === 2 && issue.path[0] === "clusters" && typeof input?.cloud === "string";
        const hint = underCluster ? ` for a cluster with cloud: ${input!.cloud as string}` : "";
        return issue.keys.map((key) => ({ path: [...issue.path, key], message: `unknown key${hint} (a typo?)` }));
    }
    return [{ path: issue.path, message: messageOfIssue(issue) }];
}
