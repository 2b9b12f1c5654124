/**
 * What an outside review of an EKS account expects beyond the cluster itself: KMS key
 * policies that name who may use each key (the account root, which delegates to IAM, and the
 * one service or role that needs it; never `*`), CloudWatch log groups encrypted with a key
 * of ours, VPC flow logs, and a default security group that allows nothing.
 */
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as ec2 from "@pulumi/aws/ec2";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import { Provider } from "@pulumi/aws/provider";
import * as pulumi from "@pulumi/pulumi";

/** One statement of a key policy besides the root delegation. */
export interface KeyGrant {
    readonly sid: string;
    readonly principal: { AWS: string } | { Service: string };
    readonly actions: string[];
    readonly condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * A key policy: the account root (so IAM policies can grant the key, and the key stays
 * manageable: KMS refuses a policy that would lock its own account out) plus `grants`.
 * `Resource: "*"` in a key policy means this key only.
 */
export function keyPolicy(partition: string, accountId: string, grants: KeyGrant[]): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Sid: "AccountRootDelegatesToIam", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" },
            ...grants.map((g) => ({ Sid: g.sid, Effect: "Allow", Principal: g.principal, Action: g.actions, Resource: "*", ...(g.condition ? { Condition: g.condition } : {}) })),
        ],
    });
}

/** What EKS needs on the secrets key (the same five actions the cluster role's IAM policy grants). */
export const EKS_SECRETS_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey", "kms:CreateGrant"];

export interface AwsAccount {
    readonly clusterName: string;
    readonly region: string;
    readonly partition: pulumi.Output<string>;
    readonly accountId: pulumi.Output<string>;
    readonly provider: Provider;
}

/** The ARN of a log group, known before the group exists (the logs key's condition names it). */
const logGroupArn = (partition: string, region: string, accountId: string, group: string) => `arn:${partition}:logs:${region}:${accountId}:log-group:${group}`;

export const controlPlaneLogGroup = (clusterName: string) => `/aws/eks/${clusterName}/cluster`;
export const flowLogGroup = (clusterName: string) => `/aws/vpc-flow-logs/${clusterName}`;

/**
 * The key of the cluster's CloudWatch log groups (control plane, flow logs). CloudWatch Logs
 * may use it only for those groups: the encryption-context condition names each one, so no
 * other log group in the account can be encrypted with (or read through) it.
 */
export function logsKey(name: string, account: AwsAccount, protect: boolean, parent: pulumi.Resource): kms.Key {
    const groups = [controlPlaneLogGroup(account.clusterName), flowLogGroup(account.clusterName)];
    const policy = pulumi.all([account.partition, account.accountId]).apply(([partition, accountId]) =>
        keyPolicy(partition, accountId, [
            {
                sid: "CloudWatchLogsOfThisCluster",
                principal: { Service: `logs.${account.region}.amazonaws.com` },
                actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": groups.map((g) => logGroupArn(partition, account.region, accountId, g)) } },
            },
        ]),
    );
    const key = new kms.Key(
        name,
        { description: `CloudWatch log groups of ${account.clusterName}`, enableKeyRotation: true, rotationPeriodInDays: 365, deletionWindowInDays: 30, policy },
        // Losing it makes the retained logs unreadable.
        { parent, provider: account.provider, protect },
    );
    new kms.Alias(name, { name: `alias/${account.clusterName}-logs`, targetKeyId: key.keyId }, { parent, provider: account.provider });
    return key;
}

export interface AccountLoggingArgs extends AwsAccount {
    readonly vpc: ec2.Vpc;
    readonly production: boolean;
}

/**
 * The cluster's logs and network trail: the logs key, the control-plane log group (created
 * here rather than by EKS, so the retention and the key are ours and not "never expire"), VPC
 * flow logs with the same retention, and the closed default security group.
 */
export function accountLogging(name: string, args: AccountLoggingArgs, parent: pulumi.Resource): { controlPlaneLogs: cloudwatch.LogGroup } {
    const key = logsKey(`${name}-logs-key`, args, args.production, parent);
    const retentionInDays = args.production ? 365 : 30;
    const controlPlaneLogs = new cloudwatch.LogGroup(
        `${name}-control-plane-logs`,
        { name: controlPlaneLogGroup(args.clusterName), retentionInDays, kmsKeyId: key.arn },
        { parent, provider: args.provider },
    );
    vpcFlowLogs(`${name}-flow-logs`, { ...args, key, retentionInDays }, parent);
    closedDefaultSecurityGroup(`${name}-default-sg`, args.vpc, args.clusterName, args.provider, parent);
    return { controlPlaneLogs };
}

export interface FlowLogsArgs extends AwsAccount {
    readonly vpc: ec2.Vpc;
    readonly key: kms.Key;
    readonly retentionInDays: number;
}

/**
 * Every accepted and rejected connection of the VPC, to an encrypted log group with the same
 * retention as the control-plane logs. The delivery role can write to that group alone, and
 * only the flow-logs service of this account may assume it.
 */
export function vpcFlowLogs(name: string, args: FlowLogsArgs, parent: pulumi.Resource): ec2.FlowLog {
    const opts = { parent, provider: args.provider };
    const group = new cloudwatch.LogGroup(`${name}-group`, { name: flowLogGroup(args.clusterName), retentionInDays: args.retentionInDays, kmsKeyId: args.key.arn }, opts);
    const assumeRolePolicy = pulumi.all([args.partition, args.accountId]).apply(([partition, accountId]) =>
        JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Principal: { Service: "vpc-flow-logs.amazonaws.com" },
                    Action: "sts:AssumeRole",
                    // Confused deputy: only flow logs of this account and region.
                    Condition: { StringEquals: { "aws:SourceAccount": accountId }, ArnLike: { "aws:SourceArn": `arn:${partition}:ec2:${args.region}:${accountId}:vpc-flow-log/*` } },
                },
            ],
        }),
    );
    const role = new iam.Role(`${name}-role`, { assumeRolePolicy, description: `VPC flow log delivery of ${args.clusterName}` }, opts);
    const delivery = new iam.RolePolicy(
        `${name}-role`,
        {
            role: role.name,
            policy: group.arn.apply((arn) =>
                JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"], Resource: [arn, `${arn}:*`] }],
                }),
            ),
        },
        opts,
    );
    return new ec2.FlowLog(
        name,
        {
            vpcId: args.vpc.id,
            trafficType: "ALL",
            logDestinationType: "cloud-watch-logs",
            logDestination: group.arn,
            iamRoleArn: role.arn,
            // Ten-minute aggregation: the default, and a sixth of the records (and cost) of one-minute.
            maxAggregationInterval: 600,
            tags: { Name: `${args.clusterName}-flow-logs` },
        },
        { ...opts, dependsOn: [delivery] },
    );
}

/**
 * The VPC's default security group, adopted with no rules: anything launched without a
 * security group of its own gets no traffic in or out, instead of "all within the group".
 * Nothing of ours uses it (EKS puts nodes in the cluster security group).
 */
export function closedDefaultSecurityGroup(name: string, vpc: ec2.Vpc, clusterName: string, provider: Provider, parent: pulumi.Resource): ec2.DefaultSecurityGroup {
    // Empty lists, not absent ones: a rule someone adds by hand shows up as drift and is removed.
    return new ec2.DefaultSecurityGroup(name, { vpcId: vpc.id, ingress: [], egress: [], tags: { Name: `${clusterName}-default-closed` } }, { parent, provider });
}
