/**
 * The hardening policies (issue #13), each passing a good example and failing a bad one,
 * through policy/offline.ts's adapter. Examples are hand-built, not rendered; the renders are
 * checked by policy-render.test.ts.
 */
import { strict as assert } from "assert";
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { ResourceInput, runPolicy } from "../policy/offline";
import { defaultSecurityGroupClosed, kmsKeyPolicyExplicit, logGroupEncryptedRetained, vpcFlowLogsAndClosedDefault } from "../policy/policies/aws-account";

type Props = Record<string, unknown>;
const urn = (type: string, name: string) => `urn:pulumi:s::platform::${type}::${name}`;
const res = (type: string, inputs: Props, extra: Partial<ResourceInput> & { name?: string } = {}): ResourceInput => {
    const name = extra.name ?? "r";
    return { type, name, urn: urn(type, name), inputs, ...extra };
};

async function messages(policy: ResourceValidationPolicy | StackValidationPolicy, resources: ResourceInput[], config: object = {}): Promise<string[]> {
    return (await runPolicy(policy, resources, config)).map((v) => v.message);
}
async function passes(policy: ResourceValidationPolicy | StackValidationPolicy, resources: ResourceInput[], config?: object) {
    assert.deepEqual(await messages(policy, resources, config), [], `should pass ${policy.name}`);
}
async function fails(policy: ResourceValidationPolicy | StackValidationPolicy, resources: ResourceInput[], pattern: RegExp, config?: object) {
    const found = await messages(policy, resources, config);
    assert.ok(found.some((m) => pattern.test(m)), `expected ${pattern} from ${policy.name} among: ${found.join(" | ") || "(nothing)"}`);
}

const KEY = "aws:kms/key:Key";
const ROOT = { Sid: "root", Effect: "Allow", Principal: { AWS: "arn:aws:iam::222222222222:root" }, Action: "kms:*", Resource: "*" };
const keyWith = (...statements: object[]) => res(KEY, { enableKeyRotation: true, policy: JSON.stringify({ Version: "2012-10-17", Statement: [ROOT, ...statements] }) });

describe("policy: kms-key-policy-explicit", () => {
    it("passes the account root plus a named role, and a service principal under a condition", async () => {
        await passes(kmsKeyPolicyExplicit, [keyWith({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::222222222222:role/eks" }, Action: ["kms:Decrypt"], Resource: "*" })]);
        const logs = { Effect: "Allow", Principal: { Service: "logs.us-east-1.amazonaws.com" }, Action: ["kms:Encrypt*"], Resource: "*", Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:222222222222:log-group:/aws/eks/c/cluster" } } };
        await passes(kmsKeyPolicyExplicit, [keyWith(logs)]);
    });

    it("fails a key without a policy, without the root, with any principal, an unconditioned service, or no rotation", async () => {
        await fails(kmsKeyPolicyExplicit, [res(KEY, { enableKeyRotation: true })], /no key policy/);
        const roleOnly = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::222222222222:role/eks" }, Action: "kms:*", Resource: "*" }] });
        await fails(kmsKeyPolicyExplicit, [res(KEY, { enableKeyRotation: true, policy: roleOnly })], /no statement for the account root/);
        await fails(kmsKeyPolicyExplicit, [keyWith({ Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" })], /Statement\[1\] allows any principal/);
        await fails(kmsKeyPolicyExplicit, [keyWith({ Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:Decrypt", Resource: "*" })], /allows any principal/);
        await fails(kmsKeyPolicyExplicit, [keyWith({ Effect: "Allow", Principal: { Service: "logs.us-east-1.amazonaws.com" }, Action: "kms:*", Resource: "*" })], /for anything; add a condition/);
        await fails(kmsKeyPolicyExplicit, [res(KEY, { policy: JSON.stringify({ Statement: [ROOT] }) })], /rotation is off/);
    });
});

describe("policy: log-group-encrypted-retained", () => {
    const GROUP = "aws:cloudwatch/logGroup:LogGroup";
    it("passes an encrypted group kept a year; fails no key, no retention, or a shorter one", async () => {
        await passes(logGroupEncryptedRetained, [res(GROUP, { kmsKeyId: "arn:aws:kms:us-east-1:2:key/k", retentionInDays: 365 })]);
        await fails(logGroupEncryptedRetained, [res(GROUP, { retentionInDays: 365 })], /not encrypted/);
        await fails(logGroupEncryptedRetained, [res(GROUP, { kmsKeyId: "k" })], /no retention/);
        await fails(logGroupEncryptedRetained, [res(GROUP, { kmsKeyId: "k", retentionInDays: 30 })], /30 days is below 365/);
    });

    it("takes the minimum from the policy config", async () => {
        await passes(logGroupEncryptedRetained, [res(GROUP, { kmsKeyId: "k", retentionInDays: 30 })], { minRetentionDays: 30 });
    });
});

describe("policy: default-security-group-closed and vpc-flow-logs-default-sg", () => {
    const SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup";
    const vpc = res("aws:ec2/vpc:Vpc", { cidrBlock: "10.0.0.0/16" }, { name: "vpc" });
    const sg = res(SG, { vpcId: "[unknown]", ingress: [], egress: [] }, { name: "sg", dependencies: [vpc.urn!] });
    const flow = res("aws:ec2/flowLog:FlowLog", { vpcId: "[unknown]", trafficType: "ALL", logDestination: "arn:aws:logs:us-east-1:2:log-group:/aws/vpc-flow-logs/c" }, { name: "flow", dependencies: [vpc.urn!] });

    it("a default security group with explicit empty rules passes; rules, or absent lists, fail", async () => {
        await passes(defaultSecurityGroupClosed, [sg]);
        await fails(defaultSecurityGroupClosed, [res(SG, { ingress: [{ protocol: "-1", self: true }], egress: [] })], /1 ingress and 0 egress/);
        await fails(defaultSecurityGroupClosed, [res(SG, { vpcId: "v" })], /set ingress: \[\] and egress: \[\]/);
    });

    it("every VPC needs a flow log of ALL traffic and its default security group, of its own", async () => {
        await passes(vpcFlowLogsAndClosedDefault, [vpc, sg, flow]);
        await fails(vpcFlowLogsAndClosedDefault, [vpc, sg], /no flow log of ALL traffic/);
        await fails(vpcFlowLogsAndClosedDefault, [vpc, sg, { ...flow, inputs: { ...flow.inputs, trafficType: "REJECT" } }], /no flow log of ALL traffic/);
        await fails(vpcFlowLogsAndClosedDefault, [vpc, flow], /default security group is not managed/);
        // Another VPC's flow log and group do not count.
        const other = res("aws:ec2/vpc:Vpc", {}, { name: "other" });
        const found = await messages(vpcFlowLogsAndClosedDefault, [vpc, other, sg, flow]);
        assert.deepEqual(found, ["other: VPC has no flow log of ALL traffic with a destination", "other: VPC's default security group is not managed (closed); add an ec2.DefaultSecurityGroup with no rules"]);
    });
});
