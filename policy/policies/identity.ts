import { ReportViolation, ResourceValidationPolicy } from "@pulumi/policy";
import { asList, byType, Check, configOf, get, PlatformPolicy } from "../util";

/**
 * AWS actions that have no resource to scope to (IAM only accepts "*" for them), or whose
 * resource cannot be known in advance (a Route 53 change id): allowed with a wildcard
 * resource, alone in their statement. GCP roles for a node's own telemetry, which exist only
 * at project level. Both are policy config, so an exception is a reviewed change.
 */
const DEFAULTS = {
    awsActionsWithoutResource: [
        "route53:ListHostedZones",
        "route53:ListHostedZonesByName",
        "route53:GetChange",
        "ecr:GetAuthorizationToken",
        "sts:GetCallerIdentity",
        // cluster-autoscaler's reads: Describe* of Auto Scaling and EC2 take no resource.
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceTypesFromInstanceRequirements",
    ],
    // container.defaultNodeServiceAccount is GKE's minimal node role (logging, monitoring, metadata).
    gcpProjectRoles: ["roles/container.defaultNodeServiceAccount", "roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer", "roles/stackdriver.resourceMetadata.writer", "roles/autoscaling.metricsWriter"],
};
type Config = typeof DEFAULTS;

/** `*`, or an ARN whose resource part is only a wildcard (`arn:aws:s3:::*`, `arn:aws:secretsmanager:*:*:secret:*`, `arn:aws:route53:::hostedzone/*`). */
export function isWildcardResource(resource: string): boolean {
    if (resource === "*") return true;
    const parts = resource.split(":");
    if (parts[0] !== "arn" || parts.length < 6) return false;
    const rest = parts.slice(5).join(":");
    // S3 ARNs have no resource type: "velero-prod/*" is one bucket's objects, "*" or "*/*" every bucket.
    if (parts[2] === "s3") return rest === "*" || rest.startsWith("*");
    return /^([a-z-]+[:/])?\*$/.test(rest);
}

function checkPolicyDocument(document: unknown, what: string, config: Config, report: ReportViolation) {
    let doc: unknown = document;
    if (typeof document === "string") {
        try {
            doc = JSON.parse(document);
        } catch {
            return report(`${what}: policy document is not JSON`);
        }
    }
    asList(get(doc, "Statement")).forEach((statement, i) => {
        if (get(statement, "Effect") !== "Allow") return;
        if (get(statement, "NotResource") !== undefined) return report(`${what}: Statement[${i}] uses NotResource, which grants everything else`);
        const actions = asList(get(statement, "Action")).map(String);
        const wildcards = asList(get(statement, "Resource")).map(String).filter(isWildcardResource);
        if (wildcards.length && !actions.every((a) => config.awsActionsWithoutResource.includes(a))) {
            report(`${what}: Statement[${i}] grants ${actions.join(", ")} on ${wildcards.join(", ")}; scope it to the one bucket, zone or secret prefix`);
        }
        // Auto Scaling group ARNs carry a random id: which cluster's groups a statement may resize is its tag condition.
        const scaling = actions.filter((a) => AUTOSCALING_MUTATION.test(a));
        if (scaling.length && !clusterTagCondition(get(statement, "Condition"))) {
            report(`${what}: Statement[${i}] grants ${scaling.join(", ")} without a StringEquals condition on aws:ResourceTag/k8s.io/cluster-autoscaler/<cluster>; limit it to one cluster's node groups`);
        }
    });
}

/** Auto Scaling actions that resize a group or remove its instances (or all of them). */
const AUTOSCALING_MUTATION = /^autoscaling:(SetDesiredCapacity|TerminateInstanceInAutoScalingGroup|UpdateAutoScalingGroup|\*)$/;

/** A StringEquals on the tag naming one cluster (`k8s.io/cluster-autoscaler/<cluster>`, not `.../enabled`). */
function clusterTagCondition(condition: unknown): boolean {
    const equals = get(condition, "StringEquals");
    const keys = equals && typeof equals === "object" ? Object.keys(equals) : [];
    return keys.some((key) => /^aws:ResourceTag\/k8s\.io\/cluster-autoscaler\/.+$/.test(key) && key !== "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled");
}

/** Subscription, resource group or management group: broader than the one resource a grant names. */
export function isBroadAzureScope(scope: string): boolean {
    const s = scope.replace(/\/+$/, "").toLowerCase();
    return /^\/subscriptions\/[^/]+$/.test(s) || /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+$/.test(s) || s.startsWith("/providers/microsoft.management/managementgroups/") || s === "/";
}

const gcpProjectGrant: Check = (props, args, report) => {
    const { gcpProjectRoles } = configOf<Config>(args, DEFAULTS);
    // An IAM condition (e.g. resource.name.startsWith(".../secrets/tenant-a-")) is how GCP scopes below project level.
    if (props.condition) return;
    if (typeof props.role === "string" && gcpProjectRoles.includes(props.role)) return;
    report(`${args.name}: project-level grant of ${props.role ?? "a policy"} reaches every resource in the project; grant on the bucket, zone or secret instead, or add an IAM condition`);
};

/** Every cloud identity gets exactly what its grant names, never a whole account, subscription or project. */
const policyDocument: Check = (props, args, report) =>
    checkPolicyDocument(props.policy, `${args.name} (${args.type.split(":").pop()})`, configOf<Config>(args, DEFAULTS), report);

export const identityGrantScoped: PlatformPolicy<ResourceValidationPolicy> = {
    name: "identity-grant-no-wildcard",
    description: "Identity grants name their resources: no Resource \"*\" in AWS policies (beyond calls that take no resource), Auto Scaling changes only on one cluster's tagged groups, no subscription or resource-group role assignments, no unconditioned project-level GCP grants.",
    severity: "high",
    configSchema: {
        properties: {
            awsActionsWithoutResource: { type: "array", items: { type: "string" }, default: DEFAULTS.awsActionsWithoutResource },
            gcpProjectRoles: { type: "array", items: { type: "string" }, default: DEFAULTS.gcpProjectRoles },
        },
    },
    ...byType({
        "aws:iam/policy:Policy": policyDocument,
        "aws:iam/rolePolicy:RolePolicy": policyDocument,
        "aws:iam/role:Role": (props, args, report) =>
            asList(props.inlinePolicies).forEach((p) => checkPolicyDocument(get(p, "policy"), `${args.name} inline policy ${get(p, "name") ?? "?"}`, configOf<Config>(args, DEFAULTS), report)),
        "azure-native:authorization:RoleAssignment": (props, args, report) => {
            if (typeof props.scope === "string" && isBroadAzureScope(props.scope)) report(`${args.name}: role assignment at ${props.scope}; assign on the one resource (storage account, DNS zone, key vault) instead`);
        },
        "gcp:projects/iAMMember:IAMMember": gcpProjectGrant,
        "gcp:projects/iAMBinding:IAMBinding": gcpProjectGrant,
        "gcp:projects/iAMPolicy:IAMPolicy": (_p, args, report) => report(`${args.name}: an authoritative project IAM policy replaces every grant in the project; use scoped members`),
    }),
};
