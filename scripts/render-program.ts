/**
 * The offline render: runs the program under Pulumi mocks (no cloud, no CLI, no network)
 * and records every resource registration as the engine would receive it: inputs, parent,
 * provider, dependencies and the options render-diff needs (protect, retainOnDelete,
 * deleteBeforeReplace, ignoreChanges, replaceOnChanges, aliases, deletedWith). Used by
 * `npm run render`, the tests and the pull-request diff.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { cloudMocks, takeUnknownTypes } from "./mock-cloud";

export interface RenderedResource {
    urn: string;
    type: string;
    name: string;
    parent: string;
    provider: string;
    dependencies: string[];
    inputs: Record<string, unknown>;
    protect: boolean;
    retainOnDelete: boolean;
    custom: boolean;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    /** Absent in renders made before it was recorded; render-diff reads that as `[]`. */
    replaceOnChanges?: string[];
    /** Former URNs the engine treats as this resource (`aliases`); present only when there are some. */
    aliases?: string[];
    /** The resource whose deletion deletes this one, so the engine skips its own delete (`deletedWith`); present only when set. */
    deletedWith?: string;
}

export interface RenderDocument {
    stack: string;
    resources: RenderedResource[];
}

/** Stack configuration as the Pulumi runtime holds it: `project:key` -> string, plus secret keys. */
export interface StackConfig {
    values: Record<string, string>;
    secretKeys: string[];
}

export const projectRoot = path.resolve(__dirname, "..", "..");
export const stackFilePath = (stack: string) => path.join(projectRoot, `Pulumi.${stack}.yaml`);

export const SECRET = "[secret]";
const UNKNOWN = "[unknown]";

/**
 * Reads a `Pulumi.<stack>.yaml` the way the CLI hands it to the program. `secure:` values
 * cannot be decrypted offline: they become "[secret]" and their keys are marked secret.
 */
export function readStackConfig(file: string): StackConfig {
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries<unknown>(doc.config ?? {})) {
        let secret = false;
        const reveal = (v: unknown): unknown => {
            if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v) {
                secret = true;
                return SECRET;
            }
            if (Array.isArray(v)) return v.map(reveal);
            if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
            return v;
        };
        const plain = reveal(value);
        values[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
        if (secret) secretKeys.push(key);
    }
    return { values, secretKeys };
}

const runtime = pulumi.runtime;
// Signatures of the SDK's serialized values (see @pulumi/pulumi/runtime/rpc).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SIG = { secret: "1b47061264138c4ac30d75fd1eb44270", resource: "5cf8f73096256a8f31e491e813e4eb8e", output: "d0e6a833031e9bbcd3f4e8bde6ca49a4" };
const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Turns serialized properties into plain, stably ordered JSON. */
function plain(value: unknown): unknown {
    if (value === UNKNOWN_SENTINEL) return UNKNOWN;
    if (Array.isArray(value)) return value.map(plain);
    if (value && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        const sig = obj[SIG_KEY];
        if (sig === SIG.secret) return SECRET;
        if (sig === SIG.resource) return obj.urn;
        if (sig === SIG.output) return obj.secret ? SECRET : "value" in obj ? plain(obj.value) : UNKNOWN;
        return Object.fromEntries(
            Object.keys(obj)
                .sort()
                .map((k) => [k, plain(obj[k])]),
        );
    }
    return value;
}

const urnOfProviderRef = (ref: string) => (ref ? ref.split("::").slice(0, -1).join("::") : "");

interface AliasSpec {
    getName(): string;
    getType(): string;
    getStack(): string;
    getProject(): string;
    getParenturn(): string;
    getNoparent(): boolean;
}
interface Alias {
    getUrn(): string;
    getSpec(): AliasSpec | undefined;
}

/**
 * The URN an alias stands for: the resource's own URN with the alias's name, type, parent,
 * stack or project where it gives one. Built like the render's URNs (the mock monitor
 * qualifies a type with its parent's own type only), so it can be looked up in an older render.
 */
export function aliasUrn(own: string, alias: Alias): string {
    const spec = alias.getSpec();
    if (alias.getUrn() || !spec) return alias.getUrn();
    const [head, project, qualifiedType, ...name] = own.split("::");
    const chain = qualifiedType.split("$");
    const type = spec.getType() || chain[chain.length - 1];
    let parentType = chain.length > 1 ? chain[chain.length - 2] : "";
    if (spec.getNoparent()) parentType = "";
    else if (spec.getParenturn()) parentType = spec.getParenturn().split("::")[2].split("$").pop()!;
    const stack = spec.getStack() || head.replace(/^urn:pulumi:/, "");
    return `urn:pulumi:${stack}::${spec.getProject() || project}::${parentType ? `${parentType}$` : ""}${type}::${spec.getName() || name.join("::")}`;
}

/**
 * The aliases the program gives. Provider SDKs alias every resource to its type's former
 * tokens (API versions, renamed modules); those say nothing about this program and are left out.
 */
const programAliases = (req: RegisterRequest) =>
    req
        .getAliasesList()
        .filter((a) => {
            const spec = a.getSpec();
            const sameParent = !spec?.getNoparent() && [req.getParent(), ""].includes(spec?.getParenturn() ?? "");
            return !(req.getCustom() && spec && spec.getType() && !spec.getName() && sameParent && !spec.getStack() && !spec.getProject());
        });

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getProvider(): string;
    getDependenciesList(): string[];
    getObject(): { toJavaScript(): unknown } | undefined;
    getProtect(): boolean;
    getRetainondelete(): boolean;
    getCustom(): boolean;
    getDeletebeforereplace(): boolean;
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getAliasesList(): Alias[];
    getDeletedwith(): string;
}
interface Monitor {
    registerResource(req: RegisterRequest, callback: (err: unknown, resp?: { getUrn(): string }) => void): Promise<void>;
}

/**
 * Runs `program` under mocks with `config` and returns what it registered. Throws what
 * the program throws (a ConfigError for a bad stack file) and fails on resources that
 * would need a default provider, which the stack files disable, and on resource types the
 * mocks do not know (scripts/mock-cloud.ts).
 */
export async function record(stack: string, config: StackConfig, program: () => void): Promise<RenderDocument> {
    runtime.setAllConfig(config.values, config.secretKeys);
    await runtime.setMocks(cloudMocks, "platform", stack, false);
    const monitor = (runtime as unknown as { getMonitor(): Monitor }).getMonitor();
    const resources: RenderedResource[] = [];
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) =>
        register(req, (err, resp) => {
            if (!err && resp) {
                const aliases = programAliases(req).map((a) => aliasUrn(resp.getUrn(), a));
                resources.push({
                    urn: resp.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    parent: req.getParent(),
                    provider: urnOfProviderRef(req.getProvider()),
                    dependencies: [...new Set(req.getDependenciesList())].sort(),
                    inputs: (plain(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>),
                    protect: req.getProtect(),
                    retainOnDelete: req.getRetainondelete(),
                    custom: req.getCustom(),
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                    ignoreChanges: req.getIgnorechangesList(),
                    replaceOnChanges: req.getReplaceonchangesList(),
                    ...(aliases.length ? { aliases } : {}),
                    ...(req.getDeletedwith() ? { deletedWith: req.getDeletedwith() } : {}),
                });
            }
            callback(err, resp);
        });
    program();
    await runtime.disconnect();
    if (pulumi.log.hasErrors()) throw new Error("the program logged errors while registering resources (see above)");
    const unknown = takeUnknownTypes();
    if (unknown.length) throw new Error(unknown.join("\n"));
    const withoutProvider = resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:") && !r.provider);
    if (withoutProvider.length) {
        throw new Error(`default providers are disabled, but these resources have no explicit provider:\n${withoutProvider.map((r) => `  - ${r.urn}`).join("\n")}`);
    }
    resources.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    return { stack, resources };
}

/** Loads the compiled program afresh (our modules only) and records it. */
export function renderProgram(stack: string, config: StackConfig): Promise<RenderDocument> {
    const distRoot = path.join(projectRoot, "dist");
    const entry = path.join(distRoot, "index.js");
    return record(stack, config, () => {
        for (const id of Object.keys(require.cache)) {
            if (id.startsWith(path.join(distRoot, "components")) || id === entry) delete require.cache[id];
        }
        require(entry);
    });
}

/** Stable JSON for the render document: two runs are byte-identical. */
export const serialize = (doc: RenderDocument) => JSON.stringify(doc, null, 2) + "\n";
