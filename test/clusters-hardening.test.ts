/**
 * Issue #13's cluster controls, read from the inputs the real stack files register: key
 * policies, encrypted and retained logs, flow logs and the closed default security group on
 * AWS. Expected values are written out here, never computed by the code under test.
 */
import { strict as assert } from "assert";
import { RenderDocument } from "../scripts/render-program";
import { list, one, PolicyStatement, statements, typed } from "./clusters-fixtures";
import { renderStack } from "./mocks";

const ACCOUNT = "222222222222";
const byName = (doc: RenderDocument, type: string, name: string) => one(doc, type, name);

describe("AWS account controls (production render)", () => {
    let doc: RenderDocument;
    before(async () => {
        doc = await renderStack("production");
    });
    const key = (name: string) => byName(doc, "aws:kms/key:Key", name);
    const policyOf = (name: string): PolicyStatement[] => statements(key(name).inputs.policy);

    it("the EKS secrets key's policy names the account root and the cluster role, nothing else", () => {
        const [root, role, ...rest] = policyOf("prod-aws-use1-secrets-key");
        assert.deepEqual(rest, []);
        assert.deepEqual(root.Principal, { AWS: `arn:aws:iam::${ACCOUNT}:root` });
        assert.equal(root.Action, "kms:*");
        assert.deepEqual(role.Principal, { AWS: `arn:aws:iam::${ACCOUNT}:role/prod-aws-use1-cluster-role` });
        assert.deepEqual(list(role.Action).sort(), ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"]);
        assert.ok(key("prod-aws-use1-secrets-key").dependencies.some((d) => d.endsWith("::prod-aws-use1-cluster-role")), "the key waits for the role it names");
    });

    it("the logs key lets CloudWatch Logs use it for the cluster's two log groups only", () => {
        const [root, logs, ...rest] = policyOf("prod-aws-use1-logs-key");
        assert.deepEqual(rest, []);
        assert.deepEqual(root.Principal, { AWS: `arn:aws:iam::${ACCOUNT}:root` });
        assert.deepEqual(logs.Principal, { Service: "logs.us-east-1.amazonaws.com" });
        assert.deepEqual(logs.Condition, {
            ArnEquals: {
                "kms:EncryptionContext:aws:logs:arn": [
                    `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/eks/prod-aws-use1/cluster`,
                    `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/vpc-flow-logs/prod-aws-use1`,
                ],
            },
        });
        assert.equal(key("prod-aws-use1-logs-key").inputs.enableKeyRotation, true);
        assert.equal(key("prod-aws-use1-logs-key").protect, true);
    });

    it("both log groups are encrypted with the logs key and kept 365 days", () => {
        const logsKeyArn = `arn:aws:kms:us-east-1:${ACCOUNT}:key/<computed prod-aws-use1-logs-key.keyId>`;
        const groups = typed(doc, "aws:cloudwatch/logGroup:LogGroup").map((g) => [g.inputs.name, g.inputs.kmsKeyId, g.inputs.retentionInDays]);
        assert.deepEqual(groups.sort(), [
            ["/aws/eks/prod-aws-use1/cluster", logsKeyArn, 365],
            ["/aws/vpc-flow-logs/prod-aws-use1", logsKeyArn, 365],
        ]);
    });

    it("VPC flow logs: all traffic of the VPC, to its log group, through a role that can write there only", () => {
        const flow = byName(doc, "aws:ec2/flowLog:FlowLog", "prod-aws-use1-flow-logs");
        assert.equal(flow.inputs.vpcId, "<computed prod-aws-use1-vpc.id>");
        assert.equal(flow.inputs.trafficType, "ALL");
        assert.equal(flow.inputs.logDestinationType, "cloud-watch-logs");
        assert.equal(flow.inputs.logDestination, `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/vpc-flow-logs/prod-aws-use1`);
        assert.equal(flow.inputs.iamRoleArn, `arn:aws:iam::${ACCOUNT}:role/prod-aws-use1-flow-logs-role`);
        const [trust] = statements(byName(doc, "aws:iam/role:Role", "prod-aws-use1-flow-logs-role").inputs.assumeRolePolicy);
        assert.deepEqual(trust.Principal, { Service: "vpc-flow-logs.amazonaws.com" });
        assert.deepEqual(trust.Condition, { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnLike: { "aws:SourceArn": `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc-flow-log/*` } });
        const [write, ...more] = statements(byName(doc, "aws:iam/rolePolicy:RolePolicy", "prod-aws-use1-flow-logs-role").inputs.policy);
        assert.deepEqual(more, []);
        const group = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/vpc-flow-logs/prod-aws-use1`;
        assert.deepEqual(list(write.Resource), [group, `${group}:*`]);
        assert.deepEqual(list(write.Action).sort(), ["logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents"]);
    });

    it("the VPC's default security group is adopted with no rules", () => {
        const sg = byName(doc, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "prod-aws-use1-default-sg");
        assert.equal(sg.inputs.vpcId, "<computed prod-aws-use1-vpc.id>");
        assert.deepEqual(sg.inputs.ingress, []);
        assert.deepEqual(sg.inputs.egress, []);
    });
});

describe("AWS account controls (staging render)", () => {
    it("staging has the same controls with 30-day retention", async () => {
        const doc = await renderStack("staging");
        assert.deepEqual(
            typed(doc, "aws:cloudwatch/logGroup:LogGroup").map((g) => [g.inputs.name, g.inputs.retentionInDays, typeof g.inputs.kmsKeyId]).sort(),
            [
                ["/aws/eks/stg-aws-use1/cluster", 30, "string"],
                ["/aws/vpc-flow-logs/stg-aws-use1", 30, "string"],
            ],
        );
        assert.equal(typed(doc, "aws:ec2/flowLog:FlowLog").length, 1);
        assert.equal(typed(doc, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").length, 1);
    });
});

describe("GKE and AKS node controls (staging and production renders)", () => {
    for (const stack of ["staging", "production"]) {
        it(`${stack}: GKE intranode visibility on; every AKS pool, inline and separate, encrypts at host`, async () => {
            const doc = await renderStack(stack);
            const gke = typed(doc, "gcp:container/cluster:Cluster");
            assert.equal(gke.length, 1);
            assert.equal(gke[0].inputs.enableIntranodeVisibility, true);
            const [aks] = typed(doc, "azure-native:containerservice:ManagedCluster");
            const inline = aks.inputs.agentPoolProfiles as Record<string, unknown>[];
            const pools = typed(doc, "azure-native:containerservice:AgentPool");
            // The inline system pool, and the stack file's other AKS pools (staging one, production two).
            assert.deepEqual([inline.length, pools.length], [1, stack === "production" ? 2 : 1]);
            for (const pool of [...inline, ...pools.map((p) => p.inputs)]) assert.equal(pool.enableEncryptionAtHost, true, String(pool.name ?? pool.agentPoolName));
        });
    }
});

describe("Azure data off the internet", () => {
    const SUB = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups";
    const ROLE = (id: string) => `/subscriptions/00000000-0000-0000-0000-000000000002/providers/Microsoft.Authorization/roleDefinitions/${id}`;
    let doc: RenderDocument;
    before(async () => {
        doc = await renderStack("production");
    });

    it("production: every Key Vault and the backup account refuse public access, each with a private endpoint in the VNet", () => {
        // The backup key's vault is closed by its firewall instead (backup-trail tests): Storage reaches it as a trusted service.
        const vaults = typed(doc, "azure-native:keyvault:Vault").filter((v) => v.name !== "prod-azure-weu-backup-key");
        assert.deepEqual(vaults.map((v) => v.name).sort(), ["prod-azure-weu-kms", "prod-azure-weu-secrets-platform", "prod-azure-weu-secrets-tenants-team-alpha"]);
        for (const v of vaults) {
            const props = v.inputs.properties as Record<string, unknown>;
            assert.equal(props.publicNetworkAccess, "Disabled", v.name);
            assert.deepEqual(props.networkAcls, { defaultAction: "Deny", bypass: "None" }, v.name);
        }
        const account = one(doc, "azure-native:storage:StorageAccount", "prod-azure-weu-backup");
        assert.equal(account.inputs.publicNetworkAccess, "Disabled");
        assert.deepEqual(account.inputs.networkRuleSet, { defaultAction: "Deny", bypass: "None" });

        const endpointSubnet = `${SUB}/rg-prod-azure-weu/providers/Microsoft.Network/virtualNetworks/vnet-prod-azure-weu/subnets/private-endpoints`;
        assert.equal(one(doc, "azure-native:network:Subnet", "prod-azure-weu-endpoints").inputs.addressPrefix, "10.1.255.192/27");
        const endpoints = typed(doc, "azure-native:network:PrivateEndpoint").map((e) => {
            const [connection] = e.inputs.privateLinkServiceConnections as Record<string, any>[];
            assert.equal((e.inputs.subnet as Record<string, unknown>).id, endpointSubnet, e.name);
            return [e.inputs.privateEndpointName, connection.groupIds[0], connection.privateLinkServiceId];
        });
        const data = `${SUB}/rg-prod-azure-weu-data/providers`;
        assert.deepEqual(endpoints.sort(), [
            ["pe-backup-blob", "blob", `${data}/Microsoft.Storage/storageAccounts/stvelero2795a1bf71ee`],
            // The account's copy in the paired region (test/backup-copy-private.test.ts).
            ["pe-backup-blob-secondary", "blob_secondary", `${data}/Microsoft.Storage/storageAccounts/stvelero2795a1bf71ee`],
            ["pe-secrets-platform", "vault", `${data}/Microsoft.KeyVault/vaults/${(one(doc, "azure-native:keyvault:Vault", "prod-azure-weu-secrets-platform").inputs.vaultName as string)}`],
            ["pe-secrets-tenants-team-alpha", "vault", `${data}/Microsoft.KeyVault/vaults/${(one(doc, "azure-native:keyvault:Vault", "prod-azure-weu-secrets-tenants-team-alpha").inputs.vaultName as string)}`],
        ]);
        // The services' own names resolve to the endpoints inside the VNet.
        assert.deepEqual(typed(doc, "azure-native:privatedns:PrivateZone").map((z) => z.inputs.privateZoneName).sort(), ["privatelink.blob.core.windows.net", "privatelink.vaultcore.azure.net"]);
        for (const link of typed(doc, "azure-native:privatedns:VirtualNetworkLink")) {
            assert.deepEqual(link.inputs.virtualNetwork, { id: `${SUB}/rg-prod-azure-weu/providers/Microsoft.Network/virtualNetworks/vnet-prod-azure-weu` });
            assert.equal(link.inputs.registrationEnabled, false);
        }
        assert.equal(typed(doc, "azure-native:network:PrivateDnsZoneGroup").length, 4);
    });

    it("production: the API server joins the VNet and its KMS plugin reaches the key vault privately", () => {
        const cluster = one(doc, "azure-native:containerservice:ManagedCluster", "prod-azure-weu-cluster");
        const apiSubnet = one(doc, "azure-native:network:Subnet", "prod-azure-weu-apiserver");
        assert.equal(apiSubnet.inputs.addressPrefix, "10.1.255.240/28");
        assert.deepEqual(apiSubnet.inputs.delegations, [{ name: "aks", serviceName: "Microsoft.ContainerService/managedClusters" }]);
        assert.deepEqual(cluster.inputs.apiServerAccessProfile, {
            enablePrivateCluster: true,
            enableVnetIntegration: true,
            subnetId: `${SUB}/rg-prod-azure-weu/providers/Microsoft.Network/virtualNetworks/vnet-prod-azure-weu/subnets/apiserver`,
        });
        const kms = (cluster.inputs.securityProfile as Record<string, any>).azureKeyVaultKms;
        const kmsVault = one(doc, "azure-native:keyvault:Vault", "prod-azure-weu-kms");
        assert.equal(kms.keyVaultNetworkAccess, "Private");
        assert.equal(kms.keyVaultResourceId, `${SUB}/rg-prod-azure-weu/providers/Microsoft.KeyVault/vaults/${kmsVault.inputs.vaultName as string}`);
        // Network Contributor on the API server's subnet, Key Vault Contributor on the KMS vault (AKS makes its private endpoint).
        const grant = (name: string) => one(doc, "azure-native:authorization:RoleAssignment", name).inputs;
        assert.equal(grant("prod-azure-weu-control-plane-apiserver-subnet").roleDefinitionId, ROLE("4d97b98b-1d4f-4787-a291-c67834d212e7"));
        assert.equal(grant("prod-azure-weu-control-plane-apiserver-subnet").scope, `${SUB}/rg-prod-azure-weu/providers/Microsoft.Network/virtualNetworks/vnet-prod-azure-weu/subnets/apiserver`);
        assert.equal(grant("prod-azure-weu-control-plane-kms-vault").roleDefinitionId, ROLE("f25e0fa2-a7c8-4377-a976-54943a77a395"));
        assert.equal(grant("prod-azure-weu-control-plane-kms-vault").scope, kms.keyVaultResourceId);
        for (const dep of ["prod-azure-weu-control-plane-apiserver-subnet", "prod-azure-weu-control-plane-kms-vault"]) assert.ok(cluster.dependencies.some((d) => d.endsWith(`::${dep}`)), `the cluster waits for ${dep}`);
    });

    it("staging (public API endpoint, commented in its stack file) keeps public data stores and a public KMS vault", async () => {
        const staging = await renderStack("staging");
        assert.deepEqual(typed(staging, "azure-native:network:PrivateEndpoint"), []);
        const vaults = typed(staging, "azure-native:keyvault:Vault");
        assert.equal(vaults.length, 3);
        // "enabled" is the SDK's default, filled into the inputs.
        for (const v of vaults) assert.equal((v.inputs.properties as Record<string, unknown>).publicNetworkAccess, "enabled", v.name);
        const [cluster] = typed(staging, "azure-native:containerservice:ManagedCluster");
        assert.equal((cluster.inputs.securityProfile as Record<string, any>).azureKeyVaultKms.keyVaultNetworkAccess, "Public");
    });
});
