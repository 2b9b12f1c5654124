/**
 * Runs the pack's policies over an offline render (scripts/render.ts), without the Pulumi CLI:
 * the pull-request job without cloud credentials gets the same verdicts a `pulumi preview
 * --policy-pack policy` would give, and the unit tests call policies through the same adapter.
 *
 *   node dist/policy/offline.js render-out/production.json [more renders...]
 *
 * Exit 1 when a policy at `mandatory` level (see enforcement.ts) reports a violation.
 * The render carries `retainOnDelete`, which the engine does not pass to policy packs; here
 * the backup policies see it.
 */
import {
    EnforcementLevel,
    Policies,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import * as fs from "fs";
import type { RenderDocument, RenderedResource } from "../scripts/render-program";
import { parseCommandLine, usageError } from "../scripts/cli";
import { enforcementFor } from "./enforcement";
import { policies } from "./policies";

export interface Violation {
    policy: string;
    level: EnforcementLevel;
    message: string;
    urn?: string;
}

/** What a test or the render offers about one resource; the rest is filled in like the engine would. */
export type ResourceInput = Pick<RenderedResource, "type" | "name" | "inputs"> & Partial<RenderedResource>;

class NotApplicable extends Error {}
const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

function options(r: ResourceInput): ResourceValidationArgs["opts"] & { retainOnDelete?: boolean } {
    return {
        protect: r.protect ?? false,
        ignoreChanges: r.ignoreChanges ?? [],
        deleteBeforeReplace: r.deleteBeforeReplace,
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        parent: r.parent || undefined,
        ...(r.retainOnDelete === undefined ? {} : { retainOnDelete: r.retainOnDelete }),
    };
}

const urnOf = (r: ResourceInput) => r.urn ?? `urn:pulumi:offline::platform::${r.type}::${r.name}`;
const providerOf = (r: ResourceInput, byUrn: Map<string, ResourceInput>) => {
    if (!r.provider) return undefined;
    const p = byUrn.get(r.provider);
    return { type: p?.type ?? "pulumi:providers:unknown", props: p?.inputs ?? {}, urn: r.provider, name: p?.name ?? r.provider.split("::").pop()! };
};
const unsupported = (): never => {
    throw new Error("isType/asType need SDK classes; the platform's policies match on args.type");
};

/** What a resource policy and a stack policy both see of one resource. */
const resourceView = (r: ResourceInput, byUrn: Map<string, ResourceInput>) => ({
    type: r.type,
    props: r.inputs,
    urn: urnOf(r),
    name: r.name,
    opts: options(r),
    provider: providerOf(r, byUrn),
    isType: unsupported,
    asType: unsupported,
});

export function resourceArgs(r: ResourceInput, config: object = {}, byUrn = new Map<string, ResourceInput>()): ResourceValidationArgs {
    return {
        ...resourceView(r, byUrn),
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
}

/** The stack's resources as a stack policy sees them, with dependencies and parents resolved. */
export function stackArgs(resources: ResourceInput[], config: object = {}): StackValidationArgs {
    const byUrn = new Map(resources.map((r) => [urnOf(r), r]));
    const view = new Map<string, PolicyResource>();
    for (const r of resources) {
        view.set(urnOf(r), { ...resourceView(r, byUrn), dependencies: [], propertyDependencies: {} });
    }
    for (const r of resources) {
        const self = view.get(urnOf(r))!;
        self.parent = r.parent ? view.get(r.parent) : undefined;
        self.dependencies = (r.dependencies ?? []).map((d) => view.get(d)).filter((d): d is PolicyResource => d !== undefined);
    }
    return { resources: [...view.values()], stackTags: new Map(), getConfig: <T extends object>() => config as T, notApplicable };
}

/** Runs one policy; returns the violation messages (the `reportViolation` collector). */
export async function runPolicy(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    resources: ResourceInput[],
    config: object = {},
): Promise<{ message: string; urn?: string }[]> {
    const found: { message: string; urn?: string }[] = [];
    const report = (message: string, urn?: string) => found.push({ message, urn });
    try {
        if ("validateStack" in policy) {
            await policy.validateStack(stackArgs(resources, config), report);
        } else {
            const byUrn = new Map(resources.map((r) => [urnOf(r), r]));
            const validations = [policy.validateResource ?? []].flat();
            for (const r of resources) {
                for (const validate of validations) await validate(resourceArgs(r, config, byUrn), (m) => report(m, urnOf(r)));
            }
        }
    } catch (err) {
        if (!(err instanceof NotApplicable)) throw err;
    }
    return found;
}

/** Every policy of the pack over one render, at the level its stack gets. */
export async function checkRender(doc: RenderDocument, pack: Policies = policies): Promise<Violation[]> {
    const level = enforcementFor(doc.stack);
    const all: Violation[] = [];
    for (const policy of pack) {
        const policyLevel = policy.enforcementLevel ?? level;
        if (policyLevel === "disabled") continue;
        for (const v of await runPolicy(policy as ResourceValidationPolicy | StackValidationPolicy, doc.resources)) all.push({ policy: policy.name, level: policyLevel, ...v });
    }
    return all;
}

const USAGE = `usage: node dist/policy/offline.js <render.json>...

Runs the policy pack over offline renders (npm run render -- --stack <s> --out <render.json>)
at the level each stack gets (production mandatory; staging and local advisory): violations
on stdout, exit 1 when a mandatory one is found.
`;

/** A render file, or one line saying why it is not one. */
function readRender(file: string): RenderDocument {
    if (!fs.existsSync(file)) usageError("policy", `no such file: ${file} (render it first: npm run render -- --stack <name> --out ${file})`);
    let doc: RenderDocument;
    try {
        doc = JSON.parse(fs.readFileSync(file, "utf8")) as RenderDocument;
    } catch (err) {
        usageError("policy", `${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!doc || typeof doc.stack !== "string" || !Array.isArray(doc.resources)) usageError("policy", `${file} is not a render (no "stack" and "resources")`);
    return doc;
}

async function main(): Promise<number> {
    const files = parseCommandLine("policy", USAGE, { options: {}, allowPositionals: true }).positionals;
    if (!files.length) usageError("policy", "name at least one render file (--help for usage)");
    const docs = files.map(readRender);
    let mandatory = 0;
    for (const doc of docs) {
        const violations = await checkRender(doc);
        for (const v of violations) process.stdout.write(`${doc.stack}: [${v.level}] ${v.policy}: ${v.message}\n`);
        mandatory += violations.filter((v) => v.level === "mandatory").length;
        process.stderr.write(`policy: ${doc.stack} (${enforcementFor(doc.stack)}): ${violations.length} violation(s)\n`);
    }
    return mandatory ? 1 : 0;
}

if (require.main === module) main().then((code) => process.exit(code));
