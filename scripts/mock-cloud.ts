/**
 * What the clouds would compute, for running the program with Pulumi mocks: per resource
 * type, the output fields a real `pulumi up` would fill in (endpoints, ARNs, issuers,
 * kubeconfigs...), and answers for data-source calls. Values a cloud alone can know are
 * visible placeholders (`<computed name.field>`), deterministic so renders are stable.
 */
import * as pulumi from "@pulumi/pulumi";

export const placeholder = (name: string, field: string) => `<computed ${name}.${field}>`;

type Outputs = (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;

/** Output fields per resource type (token). Types not listed echo their inputs. */
export const computedOutputs: Record<string, Outputs> = {};

/** Answers for data sources and provider functions, by function token. */
export const callAnswers: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>> = {};

export const cloudMocks: pulumi.runtime.Mocks = {
    newResource(args) {
        const computed = computedOutputs[args.type]?.(args) ?? {};
        return { id: args.id || placeholder(args.name, "id"), state: { ...args.inputs, ...computed } };
    },
    call(args) {
        const answer = callAnswers[args.token];
        if (!answer) {
            // A data source without an answer would silently return nothing; fail loudly instead.
            throw new Error(`mock-cloud: no answer for function ${args.token}; add one to scripts/mock-cloud.ts`);
        }
        return answer(args.inputs);
    },
};
