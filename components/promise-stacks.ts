/**
 * Pulumi's runtime (3.248) passes each of its promises, some thirty per resource, through
 * `debuggablePromise` (runtime/debuggable.js), which stores `new Error().stack` on it for one
 * reader: the promise-leak report printed when `PULUMI_DEBUG_PROMISE_LEAKS` is set. Taking and
 * formatting those stacks was a third of the render's CPU at a thousand tenants
 * (docs/performance.md).
 *
 * `skipPromiseStacks` turns off that one capture and nothing else: it wraps the SDK's function
 * so that it runs with V8's stack depth at 0 (its stored "stack" is then the bare word `Error`)
 * and restores the depth before returning. Every error thrown anywhere keeps its full stack;
 * the source positions the SDK sends the engine are taken elsewhere (Resource.callsites). What
 * is lost is the creation stack of each promise in a leak report, so index.ts leaves the
 * capture on while the SDK's switch is set.
 */

interface DebuggableModule {
    debuggablePromise<T>(p: Promise<T>, ctx: unknown): Promise<T>;
}
type Wrapped = DebuggableModule["debuggablePromise"] & { readonly [SKIPS]?: true };

/** Marks the wrapper, so a program loaded twice in one process (the render's tests) wraps once. */
const SKIPS = Symbol.for("platform.skipPromiseStacks");

// The SDK's modules call it as `debuggable_1.debuggablePromise(...)`: replacing the export reaches every caller.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable: DebuggableModule = require("@pulumi/pulumi/runtime/debuggable");

/** Stops the SDK from taking a stack trace per promise (see the file comment). Idempotent. */
export function skipPromiseStacks(): void {
    const original: Wrapped = debuggable.debuggablePromise;
    if (original[SKIPS]) return;
    const withoutStack = <T>(p: Promise<T>, ctx: unknown): Promise<T> => {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        try {
            return original(p, ctx);
        } finally {
            Error.stackTraceLimit = limit;
        }
    };
    debuggable.debuggablePromise = Object.assign(withoutStack, { [SKIPS]: true as const });
}

/** Whether `skipPromiseStacks` is in effect (tests, and anyone debugging a leak report). */
export const promiseStacksSkipped = (): boolean => (debuggable.debuggablePromise as Wrapped)[SKIPS] === true;
