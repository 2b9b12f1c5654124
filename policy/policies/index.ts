import { Policies } from "@pulumi/policy";
import { backupBucketComplete, backupBucketSettings } from "./backups";
import { chartVersionExact } from "./charts";
import { clusterPrivateAndEncrypted } from "./clusters";
import { identityGrantScoped } from "./identity";
import { eksNodeImdsv2, nodeNoPublicIp, nodePoolBoundedAutoscaling } from "./nodes";
import { tenantNamespaceIsolated } from "./tenants";

/** Every policy of the pack, in the order a reader meets them in docs/operations.md. */
export const policies: Policies = [
    chartVersionExact,
    clusterPrivateAndEncrypted,
    nodePoolBoundedAutoscaling,
    backupBucketSettings,
    backupBucketComplete,
    tenantNamespaceIsolated,
    identityGrantScoped,
    eksNodeImdsv2,
    nodeNoPublicIp,
];
