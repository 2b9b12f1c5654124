/**
 * Small helpers shared by the policies. Policies match resources by type token (a string)
 * rather than by SDK class, so the pack does not load the AWS, Azure and GCP SDKs at start.
 */
import { ReportViolation, ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

/** A nested property by dotted path (`vpcConfig.endpointPublicAccess`); undefined when absent. */
export function get(obj: unknown, dotted: string): unknown {
    return dotted.split(".").reduce<unknown>((v, key) => (v && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined), obj);
}

/** Providers render some single blocks as one-element lists (and older SDKs did so too): accept both. */
export function asList(value: unknown): unknown[] {
    if (value === undefined || value === null) return [];
    return Array.isArray(value) ? value : [value];
}

/** The AWS provider takes some booleans as strings ("true"). */
export const isTrue = (value: unknown) => value === true || value === "true";
export const isFalse = (value: unknown) => value === false || value === "false";

export type Check = (props: Record<string, any>, args: ResourceValidationArgs, report: ReportViolation) => void;

/**
 * A policy of this pack, with the resource types it inspects: a type that no policy inspects
 * and that `NOT_POLICED` (policies/coverage.ts) does not list is refused.
 */
export type PlatformPolicy<P extends ResourceValidationPolicy | StackValidationPolicy = ResourceValidationPolicy | StackValidationPolicy> = P & { readonly inspects: readonly string[] };

/** One validation that dispatches on the resource type (other types pass untouched), and those types. */
export function byType(checks: Record<string, Check>): { validateResource: ResourceValidation; inspects: string[] } {
    return {
        validateResource: (args, report) => {
            const check = checks[args.type];
            if (check) check(args.props, args, report);
        },
        inspects: Object.keys(checks),
    };
}

/** `metadata.labels` of a Kubernetes object as a plain record. */
export function labelsOf(props: Record<string, any>): Record<string, unknown> {
    const labels = get(props, "metadata.labels");
    return labels && typeof labels === "object" ? (labels as Record<string, unknown>) : {};
}

/** A policy's config, falling back to the defaults of its schema (the engine fills them in; tests and the offline runner do not). */
export function configOf<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
    return { ...defaults, ...(args.getConfig<Partial<T>>() ?? {}) };
}

/**
 * The value, or undefined while the engine cannot know it yet (during preview, reading an
 * unknown property throws the policy SDK's UnknownValueError).
 */
export function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (err) {
        if (err instanceof Error && err.constructor.name === "UnknownValueError") return undefined;
        throw err;
    }
}
