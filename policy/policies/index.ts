import { Policies } from "@pulumi/policy";
import { PlatformPolicy } from "../util";
import { backupAccessLogged, backupCustomerKey } from "./backup-trail";
import { backupBucketComplete, backupBucketSettings, backupCopyOutsideRegion, veleroSnapshotsThroughCsi } from "./backups";
import { defaultSecurityGroupClosed, kmsKeyPolicyExplicit, logGroupEncryptedRetained, vpcFlowLogsAndClosedDefault } from "./aws-account";
import { chartVersionExact } from "./charts";
import { clusterPrivateAndEncrypted } from "./clusters";
import { aksEncryptionAtHost, azureDataPrivate, gkeIntranodeVisibility } from "./cluster-hardening";
import { resourceTypesKnown } from "./coverage";
import { identityGrantScoped } from "./identity";
import { imageSignaturesVerified } from "./images";
import { eksNodeImdsv2, nodeNoPublicIp, nodePoolBoundedAutoscaling } from "./nodes";
import { clusterRoleBindingAccounts } from "./rbac";
import { tenantNamespaceIsolated } from "./tenants";

/** The policies that inspect resources, in the order a reader meets them in docs/operations.md. */
export const guards: readonly PlatformPolicy[] = [
    chartVersionExact,
    clusterPrivateAndEncrypted,
    nodePoolBoundedAutoscaling,
    backupBucketSettings,
    backupBucketComplete,
    backupCopyOutsideRegion,
    backupAccessLogged,
    backupCustomerKey,
    veleroSnapshotsThroughCsi,
    tenantNamespaceIsolated,
    clusterRoleBindingAccounts,
    identityGrantScoped,
    eksNodeImdsv2,
    nodeNoPublicIp,
    kmsKeyPolicyExplicit,
    logGroupEncryptedRetained,
    vpcFlowLogsAndClosedDefault,
    defaultSecurityGroupClosed,
    imageSignaturesVerified,
    gkeIntranodeVisibility,
    aksEncryptionAtHost,
    azureDataPrivate,
];

/** Every policy of the pack: the guards, and the one that refuses a type none of them inspects. */
export const policies: Policies = [...guards, resourceTypesKnown(guards)];
