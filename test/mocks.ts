/**
 * Loaded by mocha before any test (see .mocharc.json): the whole unit tier runs with Pulumi
 * mocks, so nothing reaches a cloud or the network. Also the helpers the tests share.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import YAML from "yaml";
import { cloudMocks, takeUnknownTypes } from "../scripts/mock-cloud";
import { readStackConfig, record, renderProgram, RenderDocument, RenderedResource, StackConfig, stackFilePath } from "../scripts/render-program";

pulumi.runtime.setMocks(cloudMocks, "platform", "unit", false);

/** Root hook: a test that made a resource of a type the mocks do not know fails, even outside `record`. */
export const mochaHooks = {
    afterEach() {
        const unknown = takeUnknownTypes();
        if (unknown.length) throw new Error(unknown.join("\n"));
    },
};

export { callAnswers, computedOutputs, placeholder } from "../scripts/mock-cloud";
export { record };

/** `platform:*` values of a real `Pulumi.<stack>.yaml`, decoded, keyed without the prefix. */
export function loadStackSettings(stack: string): Record<string, unknown> {
    return settingsOf(readStackConfig(stackFilePath(stack)));
}

export function settingsOf(config: StackConfig): Record<string, unknown> {
    const prefix = "platform:";
    return Object.fromEntries(
        Object.entries(config.values)
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), decode(value)]),
    );
}

function decode(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

/** A stack config from `platform:*` settings (as a stack file's `config:` would hold them). */
export function stackConfig(settings: Record<string, unknown>, secretKeys: string[] = []): StackConfig {
    const values = Object.fromEntries(Object.entries(settings).map(([k, v]) => [`platform:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
    return { values, secretKeys: secretKeys.map((k) => `platform:${k}`) };
}

/** A real stack file, changed by `edit` (a deep copy of its settings), written to a temp file. */
export function editedStackFile(stack: string, edit: (settings: Record<string, unknown>) => void): string {
    const doc = YAML.parse(fs.readFileSync(stackFilePath(stack), "utf8"));
    const settings: Record<string, unknown> = {};
    for (const [key, value] of Object.entries<unknown>(doc.config)) if (key.startsWith("platform:")) settings[key.slice(9)] = value;
    edit(settings);
    for (const [key, value] of Object.entries(settings)) doc.config[`platform:${key}`] = value;
    const file = fs.mkdtempSync("/tmp/platform-test-") + `/Pulumi.${stack}.yaml`;
    fs.writeFileSync(file, YAML.stringify(doc));
    return file;
}

const renders = new Map<string, Promise<RenderDocument>>();
/** The offline render of a real stack file (memoized: the program is deterministic). */
export function renderStack(stack: string): Promise<RenderDocument> {
    if (!renders.has(stack)) renders.set(stack, renderProgram(stack, readStackConfig(stackFilePath(stack))));
    return renders.get(stack)!;
}

/** The value inside an Output (mocks resolve every Output). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

export const ofType = (doc: RenderDocument, type: string): RenderedResource[] => doc.resources.filter((r) => r.type === type);

export function named(doc: RenderDocument, name: string): RenderedResource {
    const found = doc.resources.find((r) => r.name === name);
    if (!found) throw new Error(`no resource named ${name} in the render of ${doc.stack}`);
    return found;
}

/** Reads a nested input by dotted path (`spec.template.metadata`). */
export function input(resource: RenderedResource, dotted: string): unknown {
    return dotted.split(".").reduce<unknown>((v, key) => (v && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined), resource.inputs);
}
