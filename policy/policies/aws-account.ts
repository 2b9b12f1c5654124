/**
 * What an outside scan of an AWS account expects around a cluster: key policies that name
 * their principals, encrypted log groups kept long enough, flow logs on every VPC, and a
 * default security group that allows nothing.
 */
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { asList, byType, Check, configOf, get, known, PlatformPolicy } from "../util";

const KEY = "aws:kms/key:Key";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const VPC = "aws:ec2/vpc:Vpc";
const FLOW_LOG = "aws:ec2/flowLog:FlowLog";
const DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup";

function parse(document: unknown): unknown {
    if (typeof document !== "string") return document;
    try {
        return JSON.parse(document);
    } catch {
        return undefined;
    }
}

/** Principals a key policy statement names (`"*"` for anyone). */
function principals(statement: unknown): string[] {
    const principal = get(statement, "Principal");
    if (principal === "*") return ["*"];
    return ["AWS", "Service", "Federated"].flatMap((kind) => asList(get(principal, kind)).map(String));
}

const keyPolicy: Check = (props, args, report) => {
    if (props.policy === undefined) return report(`${args.name}: no key policy; KMS applies its default (the whole account through IAM). Name the account root and the principals that use the key`);
    const doc = parse(props.policy);
    const statements = asList(get(doc, "Statement"));
    if (!statements.length) return report(`${args.name}: key policy is not a JSON policy document`);
    const allows = statements.filter((s) => get(s, "Effect") === "Allow");
    if (!allows.some((s) => principals(s).some((p) => /^arn:aws[a-z-]*:iam::\d{12}:root$/.test(p)))) {
        report(`${args.name}: key policy has no statement for the account root; without it IAM cannot grant the key and it can become unmanageable`);
    }
    allows.forEach((s, i) => {
        const named = principals(s);
        if (named.includes("*") || named.some((p) => p.endsWith(":*") || p === "arn:aws:iam::*:root")) report(`${args.name}: Statement[${i}] allows any principal`);
        // A service principal may use the key only under a condition that says for what (CloudWatch Logs: these log groups).
        if (named.some((p) => p.endsWith(".amazonaws.com")) && get(s, "Condition") === undefined) report(`${args.name}: Statement[${i}] lets ${named.join(", ")} use the key for anything; add a condition (e.g. kms:EncryptionContext:aws:logs:arn)`);
    });
    if (props.enableKeyRotation !== true) report(`${args.name}: key rotation is off; set enableKeyRotation: true`);
};

/** Every KMS key has an explicit policy: the account root plus named principals, nothing wider. */
export const kmsKeyPolicyExplicit: PlatformPolicy<ResourceValidationPolicy> = {
    name: "kms-key-policy-explicit",
    description: "KMS keys have an explicit key policy (account root plus named principals, service principals only under a condition) and rotate.",
    severity: "high",
    ...byType({ [KEY]: keyPolicy }),
};

const LOG_DEFAULTS = { minRetentionDays: 365 };

/** Log groups are encrypted with a key of ours and kept at least `minRetentionDays`. */
export const logGroupEncryptedRetained: PlatformPolicy<ResourceValidationPolicy> = {
    name: "log-group-encrypted-retained",
    description: "CloudWatch log groups are encrypted with a KMS key and retained at least minRetentionDays (config, default 365), never forever by omission.",
    severity: "medium",
    configSchema: { properties: { minRetentionDays: { type: "integer", minimum: 1, default: LOG_DEFAULTS.minRetentionDays } } },
    ...byType({
        [LOG_GROUP]: (props, args, report) => {
            const { minRetentionDays } = configOf(args, LOG_DEFAULTS);
            if (!props.kmsKeyId) report(`${args.name}: log group is not encrypted with a KMS key of ours; set kmsKeyId`);
            const days = props.retentionInDays;
            if (typeof days !== "number" || days === 0) report(`${args.name}: log group has no retention (kept forever, unbounded cost); set retentionInDays`);
            else if (days < minRetentionDays) report(`${args.name}: retention of ${days} days is below ${minRetentionDays} (policy config minRetentionDays)`);
        },
    }),
};

/** Fields a default security group must leave empty. */
const sgRules = (props: Record<string, any>) => ({ ingress: asList(props.ingress).length, egress: asList(props.egress).length });

/** A VPC's default security group allows nothing. */
export const defaultSecurityGroupClosed: PlatformPolicy<ResourceValidationPolicy> = {
    name: "default-security-group-closed",
    description: "The default security group of every VPC has no ingress and no egress rules.",
    severity: "high",
    ...byType({
        [DEFAULT_SG]: (props, args, report) => {
            const { ingress, egress } = sgRules(props);
            // Absent lists leave whatever rules exist; only explicit empty ones remove them.
            if (props.ingress === undefined || props.egress === undefined) report(`${args.name}: set ingress: [] and egress: [] so rules added by hand are removed`);
            if (ingress || egress) report(`${args.name}: the default security group has ${ingress} ingress and ${egress} egress rule(s); it must allow nothing`);
        },
    }),
};

/** True when `r` names `vpc` in `vpcId` or depends on it. */
function onVpc(r: PolicyResource, vpc: PolicyResource): boolean {
    if (r.dependencies.some((d) => d.urn === vpc.urn)) return true;
    if (Object.values(r.propertyDependencies ?? {}).some((deps) => deps.some((d) => d.urn === vpc.urn))) return true;
    const id = known(() => r.props.vpcId);
    return typeof id === "string" && id === known(() => vpc.props.id);
}

/** Every VPC has flow logs of all traffic and its default security group adopted closed. */
export const vpcFlowLogsAndClosedDefault: PlatformPolicy<StackValidationPolicy> = {
    name: "vpc-flow-logs-default-sg",
    description: "Every VPC has a flow log of ALL traffic to a destination, and a DefaultSecurityGroup resource (which default-security-group-closed checks).",
    severity: "high",
    // VPCs themselves stay listed in coverage.ts; this policy inspects what each one must have.
    inspects: [FLOW_LOG, DEFAULT_SG],
    validateStack: (args, report) => {
        const ofType = (type: string) => args.resources.filter((r) => r.type === type);
        for (const vpc of ofType(VPC)) {
            const flows = ofType(FLOW_LOG).filter((f) => onVpc(f, vpc));
            if (!flows.some((f) => known(() => f.props.trafficType) === "ALL" && known(() => f.props.logDestination) !== undefined)) {
                report(`${vpc.name}: VPC has no flow log of ALL traffic with a destination`, vpc.urn);
            }
            if (!ofType(DEFAULT_SG).some((sg) => onVpc(sg, vpc))) report(`${vpc.name}: VPC's default security group is not managed (closed); add an ec2.DefaultSecurityGroup with no rules`, vpc.urn);
        }
    },
};
