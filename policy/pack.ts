/**
 * The CrossGuard policy pack, as `pulumi preview --policy-pack policy` runs it: policy/index.js
 * loads this compiled file (dist/policy/pack.js), so run `npm run build` first.
 */
import { getStack } from "@pulumi/pulumi";
import { PolicyPack } from "@pulumi/policy";
import { enforcementFor } from "./enforcement";
import { policies } from "./policies";

new PolicyPack("platform", {
    description: "Platform guardrails: exact chart pins, private encrypted clusters, bounded node pools, safe backups, isolated tenants, scoped identities, locked-down nodes.",
    enforcementLevel: enforcementFor(getStack()),
    policies,
});
