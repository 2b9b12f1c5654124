/**
 * The program's entry turns off the SDK's per-promise stack capture (components/promise-stacks.ts)
 * unless PULUMI_DEBUG_PROMISE_LEAKS is set, and nothing else: errors keep their stacks.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { renderStack } from "./mocks";

const dist = path.join(__dirname, "..");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable: { debuggablePromise<T>(p: Promise<T>, ctx: unknown): Promise<T> } = require("@pulumi/pulumi/runtime/debuggable");
const storedStack = (p: Promise<unknown>) => (p as unknown as { _debugStackTrace: string })._debugStackTrace;

/** Renders the local stack in a fresh Node process with `env`, and reports whether the capture was skipped. */
function skippedInChild(env: Record<string, string>): string {
    const script = `
        const { readStackConfig, renderProgram, stackFilePath } = require(${JSON.stringify(path.join(dist, "scripts", "render-program.js"))});
        renderProgram("local", readStackConfig(stackFilePath("local"))).then(() => {
            const { promiseStacksSkipped } = require(${JSON.stringify(path.join(dist, "components", "promise-stacks.js"))});
            process.stdout.write(String(promiseStacksSkipped()));
        });`;
    const out = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", env: { ...process.env, ...env } });
    assert.equal(out.status, 0, out.stderr);
    return out.stdout;
}

describe("promise stack capture", () => {
    before(async function () {
        await renderStack("local");
    });

    it("after the program ran, the SDK's promises store no stack, and the depth V8 records is what it was", () => {
        const limit = Error.stackTraceLimit;
        // The SDK stores the stack on the promise it is given.
        const probe = Promise.resolve(1);
        void debuggable.debuggablePromise(probe, "probe");
        assert.equal(storedStack(probe), "Error");
        assert.equal(Error.stackTraceLimit, limit);
        assert.ok(limit >= 10, `Error.stackTraceLimit is ${limit}`);
        assert.match(new Error("probe").stack!.split("\n")[1], /^\s+at /, "an error still has frames");
    });

    it("stays on while PULUMI_DEBUG_PROMISE_LEAKS is set (the SDK's leak report prints those stacks), off otherwise", function () {
        this.timeout(120000);
        assert.equal(skippedInChild({ PULUMI_DEBUG_PROMISE_LEAKS: "1" }), "false");
        assert.equal(skippedInChild({ PULUMI_DEBUG_PROMISE_LEAKS: "" }), "true");
    });
});
