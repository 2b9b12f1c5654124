/**
 * IRSA for EKS: an IAM role per Kubernetes service account, assumable only by that service
 * account's projected token, and one inline policy per grant naming exactly one resource
 * (a bucket, a hosted zone, a Secrets Manager name prefix). Never `Resource: "*"`.
 */
import * as iam from "@pulumi/aws/iam";
import { Provider } from "@pulumi/aws/provider";
import * as pulumi from "@pulumi/pulumi";
import { IdentityGrant } from "../types";
import { CloudIdentity } from "./identity-book";
import { shortHash } from "./shared";

export interface IrsaContext {
    readonly stack: string;
    readonly clusterName: string;
    readonly region: string;
    readonly partition: pulumi.Output<string>;
    readonly accountId: pulumi.Output<string>;
    readonly oidcProviderArn: pulumi.Output<string>;
    /** The cluster's OIDC issuer URL (https://oidc.eks.<region>.amazonaws.com/id/<id>). */
    readonly oidcIssuer: pulumi.Output<string>;
    readonly provider: Provider;
}

interface Statement {
    Effect: "Allow";
    Action: string[];
    Resource: string[];
    Condition?: Record<string, Record<string, string>>;
}

/** IAM role names are account-wide: the stack and cluster in the hash keep stacks apart. */
export const irsaRoleName = (ctx: IrsaContext, namespace: string, serviceAccount: string) =>
    `${ctx.clusterName}-irsa-${shortHash(8, ctx.stack, ctx.clusterName, namespace, serviceAccount)}`;

/** An IAM role only `system:serviceaccount:<namespace>:<serviceAccount>` of this cluster can assume. */
export function irsaRole(name: string, ctx: IrsaContext, namespace: string, serviceAccount: string, opts: pulumi.CustomResourceOptions): iam.Role {
    const assumeRolePolicy = pulumi.all([ctx.oidcProviderArn, ctx.oidcIssuer]).apply(([providerArn, issuer]) => {
        const host = issuer.replace(/^https:\/\//, "");
        return JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Principal: { Federated: providerArn },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    // Both keys: `sub` pins the service account, `aud` rejects tokens minted for other audiences.
                    Condition: { StringEquals: { [`${host}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`, [`${host}:aud`]: "sts.amazonaws.com" } },
                },
            ],
        });
    });
    return new iam.Role(
        name,
        { name: irsaRoleName(ctx, namespace, serviceAccount), description: `IRSA for ${namespace}/${serviceAccount} on ${ctx.clusterName}`, assumeRolePolicy },
        { ...opts, provider: ctx.provider },
    );
}

/**
 * Use of a store's KMS key, through S3 in the key's region only: S3 asks for a data key when
 * Velero writes (GenerateDataKey) and decrypts one when it reads or completes a multipart
 * upload (Decrypt). Not kms:Encrypt: S3 never calls it for SSE-KMS, so no one can use Velero's
 * role to encrypt data of their own with the key, nor call KMS outside S3.
 */
function storeKeyStatement(keyArn: string): Statement {
    const region = keyArn.split(":")[3];
    return { Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [keyArn], Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } } };
}

/** The statements of one grant, each naming exactly the granted resource. */
export function grantStatements(grant: IdentityGrant, ctx: IrsaContext): pulumi.Output<Statement[]> {
    switch (grant.kind) {
        case "backupStorage":
            return pulumi.all([ctx.partition, grant.storage.bucket, grant.storage.encryptionKey]).apply(([partition, bucket, key]) => {
                const bucketArn = `arn:${partition}:s3:::${bucket}`;
                const list = { Effect: "Allow" as const, Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: [bucketArn] };
                const keyUse = key ? [storeKeyStatement(key)] : [];
                if (grant.access === "readWrite") {
                    return [list, { Effect: "Allow" as const, Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], Resource: [`${bucketArn}/*`] }, ...keyUse];
                }
                // Backups stay untouchable; Velero still uploads each restore's log and results under
                // restores/ of the backup's location, and marks the restore PartiallyFailed when it cannot.
                const restores = `${bucketArn}/${grant.storage.prefix ? `${grant.storage.prefix}/` : ""}restores/*`;
                return [list, { Effect: "Allow" as const, Action: ["s3:GetObject"], Resource: [`${bucketArn}/*`] }, { Effect: "Allow" as const, Action: ["s3:PutObject"], Resource: [restores] }, ...keyUse];
            });
        case "dnsZone":
            return ctx.partition.apply((partition) => [
                { Effect: "Allow" as const, Action: ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"], Resource: [`arn:${partition}:route53:::hostedzone/${grant.zone}`] },
                // Change ids are unknown until a change is made; the ARN still names only Route53 changes.
                { Effect: "Allow" as const, Action: ["route53:GetChange"], Resource: [`arn:${partition}:route53:::change/*`] },
            ]);
        case "nodeGroupScaling":
            return pulumi.all([ctx.partition, ctx.accountId]).apply(([partition, account]) => nodeGroupScalingStatements(partition, account, ctx));
        case "secretsRead":
            return pulumi.all([ctx.partition, ctx.accountId]).apply(([partition, account]) => [
                {
                    Effect: "Allow" as const,
                    Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    // Secrets Manager appends a random suffix to secret ARNs: a name prefix is the narrowest match.
                    Resource: [`arn:${partition}:secretsmanager:${ctx.region}:${account}:secret:${grant.prefix}*`],
                },
            ]);
    }
}

/** Read-only calls cluster-autoscaler makes that take no resource (IAM accepts only "*" for them). */
export const AUTOSCALER_DESCRIBE_ACTIONS = [
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
];

/**
 * cluster-autoscaler's grant (its AWS README): describing is account-wide by nature; changing a
 * group's size or terminating its instances only on EKS-managed groups tagged as this cluster's
 * (EKS tags the managed node groups' Auto Scaling groups `k8s.io/cluster-autoscaler/enabled`
 * and `k8s.io/cluster-autoscaler/<cluster>: owned`); node group details only of this cluster.
 */
function nodeGroupScalingStatements(partition: string, account: string, ctx: IrsaContext): Statement[] {
    return [
        { Effect: "Allow" as const, Action: AUTOSCALER_DESCRIBE_ACTIONS, Resource: ["*"] },
        {
            Effect: "Allow" as const,
            Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            Resource: [`arn:${partition}:autoscaling:${ctx.region}:${account}:autoScalingGroup:*:autoScalingGroupName/eks-*`],
            Condition: { StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true", [`aws:ResourceTag/k8s.io/cluster-autoscaler/${ctx.clusterName}`]: "owned" } },
        },
        { Effect: "Allow" as const, Action: ["eks:DescribeNodegroup"], Resource: [`arn:${partition}:eks:${ctx.region}:${account}:nodegroup/${ctx.clusterName}/*/*`] },
    ];
}

/** An inline policy of `role` holding one grant. */
export function grantPolicy(name: string, role: iam.Role, grant: IdentityGrant, ctx: IrsaContext, opts: pulumi.CustomResourceOptions): iam.RolePolicy {
    const policy = grantStatements(grant, ctx).apply((Statement) => JSON.stringify({ Version: "2012-10-17", Statement }));
    return new iam.RolePolicy(name, { role: role.name, policy }, { ...opts, provider: ctx.provider });
}

/** The IRSA role of one service account; each grant adds one inline policy to it. */
export function irsaIdentity(base: string, ctx: IrsaContext, namespace: string, serviceAccount: string, opts: pulumi.CustomResourceOptions): CloudIdentity {
    const role = irsaRole(`${base}-irsa`, ctx, namespace, serviceAccount, opts);
    return {
        resources: [role],
        workload: { serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": role.arn }, podLabels: {} },
        addGrant: (grant, at) => [grantPolicy(at.name, role, grant, ctx, at.opts)],
    };
}

/** Trust policy of a role an AWS service assumes (the cluster, the nodes). */
export const serviceTrust = (service: string, actions: string[] = ["sts:AssumeRole"]) =>
    JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: actions }] });
