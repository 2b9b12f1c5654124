/**
 * Extra chart values a stack file adds over the platform's own (`addons.<addon>.values`, and
 * per cluster `clusters[].addons.<addon>.values`), and the keys it may not touch. Pure: the
 * config schema refuses a guarded key before anything is created; HelmAddon merges the rest.
 *
 * Merge rule (documented in docs/platform.md#chart-values): objects merge key by key, at any
 * depth; anything else (a string, a number, a list, null) replaces what it stands over.
 */

/** Chart values as a stack file holds them: plain JSON. */
export type ChartValues = Record<string, unknown>;

/**
 * A key the platform's promises rest on. `path` is dotted chart keys; `*` stands for one key
 * (or list index), `**` for any number of them (`**.securityContext`: at any depth).
 */
export interface GuardedValue {
    readonly path: string;
    /** Why the platform owns it: shown in the config error. */
    readonly why: string;
}

/** Pod security is the platform's at every depth of every chart: the registry's level, the charts' contexts. */
export const podSecurityGuards: readonly GuardedValue[] = [
    ...["securityContext", "podSecurityContext", "containerSecurityContext"].map((key) => ({ path: `**.${key}`, why: "pod security: the platform sets the security contexts its namespaces' Pod Security level is checked against" })),
    ...["hostNetwork", "hostPID", "hostIPC"].map((key) => ({ path: `**.${key}`, why: "pod security: host namespaces are the platform's decision, per add-on" })),
];

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value) && [Object.prototype, null].includes(Object.getPrototypeOf(value));

/** `over` merged into `base`: objects key by key, anything else replaces. Neither argument is changed. */
export function mergeValues(base: ChartValues, over: ChartValues): ChartValues {
    const merged: ChartValues = { ...base };
    for (const [key, value] of Object.entries(over)) {
        const under = merged[key];
        merged[key] = isPlainObject(under) && isPlainObject(value) ? mergeValues(under, value) : value;
    }
    return merged;
}

type Segment = string | number;

/** Whether `pattern` (split at dots) matches `path` entirely. */
function matches(pattern: readonly string[], path: readonly Segment[]): boolean {
    if (pattern.length === 0) return path.length === 0;
    const [head, ...rest] = pattern;
    if (head === "**") return path.some((_, i) => matches(rest, path.slice(i))) || matches(rest, []);
    return path.length > 0 && (head === "*" || head === String(path[0])) && matches(rest, path.slice(1));
}

/**
 * Whether a value at `path` that is not an object (so replaces rather than merges) would
 * replace the guarded key: `path` is a proper prefix of the pattern's part before any `**`.
 */
function replacesGuarded(pattern: readonly string[], path: readonly Segment[]): boolean {
    const literal = pattern.includes("**") ? pattern.slice(0, pattern.indexOf("**")) : pattern;
    return path.length < literal.length && path.every((seg, i) => literal[i] === "*" || literal[i] === String(seg));
}

export interface GuardViolation {
    /** Where in the values the guarded key is set or replaced. */
    readonly path: Segment[];
    readonly guard: GuardedValue;
}

/** Every place `values` sets (or, with a list, null or scalar above it, replaces) a guarded key. */
export function guardViolations(values: ChartValues, guards: readonly GuardedValue[]): GuardViolation[] {
    const found: GuardViolation[] = [];
    const patterns = guards.map((guard) => ({ guard, segments: guard.path.split(".") }));
    const visit = (value: unknown, path: Segment[]) => {
        const hit = patterns.find(({ segments }) => matches(segments, path) || (!isPlainObject(value) && replacesGuarded(segments, path)));
        if (hit) return void found.push({ path, guard: hit.guard });
        if (isPlainObject(value)) for (const [key, child] of Object.entries(value)) visit(child, [...path, key]);
        else if (Array.isArray(value)) value.forEach((child, i) => visit(child, [...path, i]));
    };
    for (const [key, child] of Object.entries(values)) visit(child, [key]);
    return found;
}
