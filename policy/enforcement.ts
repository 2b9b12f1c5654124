/**
 * Mandatory in production, advisory in staging: the level follows the stack the pack runs
 * against. The engine starts a Node.js policy pack with PULUMI_NODEJS_STACK set (what
 * `pulumi.getStack()` reads), so the same pack and the same command serve every stack and
 * nobody can forget a per-stack flag. A stack the table does not name (a new or DR fixture
 * stack) gets `mandatory`: failing closed. An explicit `--policy-pack-config` file
 * (`{"all": "advisory"}`) still overrides, for a reviewed exception.
 */
import { EnforcementLevel } from "@pulumi/policy";

export const enforcementByStack: Record<string, EnforcementLevel> = {
    production: "mandatory",
    staging: "advisory",
    // A kind cluster cannot have a private endpoint or a KMS key: the pack only informs.
    local: "advisory",
};

/** `org/project/stack` or `stack` -> its enforcement level. */
export function enforcementFor(stack: string): EnforcementLevel {
    const name = stack.split("/").pop() ?? "";
    return enforcementByStack[name] ?? "mandatory";
}
