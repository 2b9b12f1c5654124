/**
 * Tenants sign in on every cloud: for each configured group of the production stack, a path
 * from the cloud identity to the tenant's RoleBinding (EKS access entry -> Kubernetes group;
 * Entra group object ID with AKS roles on the namespace; Google group under the cluster's
 * gke-security-groups), and nothing on any path reaches beyond the namespace. Expected names
 * are written out from Pulumi.production.yaml.
 */
import { strict as assert } from "assert";
import { RenderDocument, RenderedResource } from "../scripts/render-program";
import { input, renderStack } from "./mocks";
import { onCluster, Raw, ROLE_BINDING } from "./tenancy-helpers";

const SSO = "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/us-east-1/AWSReservedSSO";
const ROLES = {
    alphaDevelopers: `${SSO}_TeamAlphaDevelopers_4f2a9c1e7b3d5a60`,
    betaDevelopers: `${SSO}_TeamBetaDevelopers_0c1d2e3f4a5b6c7d`,
    readOnly: `${SSO}_ReadOnlyEngineers_9b8c7d6e5f4a3b21`,
};
const GROUP_OF_ROLE = {
    [ROLES.alphaDevelopers]: "iam-role:222222222222:AWSReservedSSO_TeamAlphaDevelopers_4f2a9c1e7b3d5a60",
    [ROLES.betaDevelopers]: "iam-role:222222222222:AWSReservedSSO_TeamBetaDevelopers_0c1d2e3f4a5b6c7d",
    [ROLES.readOnly]: "iam-role:222222222222:AWSReservedSSO_ReadOnlyEngineers_9b8c7d6e5f4a3b21",
};
const ENTRA = { alphaDevelopers: "00000000-0000-0000-0000-0000000a1f01", alphaViewers: "00000000-0000-0000-0000-0000000a1f02" };
const AKS_ID = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-prod-azure-weu/providers/Microsoft.ContainerService/managedClusters/prod-azure-weu";
const roleDefinition = (id: string) => `/subscriptions/00000000-0000-0000-0000-000000000002/providers/Microsoft.Authorization/roleDefinitions/${id}`;
const AZURE_ROLE = { clusterUser: "4abbcc35-e782-43d8-92c5-2d3f1bd2253f", writer: "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb", reader: "7f6c6a51-bcf8-42ba-9220-52d62157d7db" };

const bindingsOn = (doc: RenderDocument, cluster: string) => {
    const on = onCluster(doc, cluster);
    const found = doc.resources.filter((r) => r.type === ROLE_BINDING && on(r) && /^tenant-(edit|view)$/.test(String(input(r, "metadata.name"))));
    return Object.fromEntries(found.map((b) => [`${input(b, "metadata.namespace")}/${input(b, "metadata.name")}`, b]));
};
const subjectsOf = (binding: RenderedResource) => (binding.inputs.subjects as Raw[]).map((s) => `${s.kind}:${s.name}`);
const ofType = (doc: RenderDocument, type: string, cluster: string) => doc.resources.filter((r) => r.type === type && r.name.startsWith(`${cluster}-`));

describe("tenant sign-in on every cloud (production)", () => {
    let doc: RenderDocument;
    before(async () => {
        doc = await renderStack("production");
    });

    describe("EKS: an access entry per IAM role, its group bound in the namespace, no access policy", () => {
        const CLUSTER = "prod-aws-use1";

        it("binds each tenant role to the groups its IAM roles sign in as", () => {
            const bindings = bindingsOn(doc, CLUSTER);
            assert.deepEqual(Object.fromEntries(Object.entries(bindings).map(([at, b]) => [at, subjectsOf(b)])), {
                "team-alpha/tenant-edit": [`Group:${GROUP_OF_ROLE[ROLES.alphaDevelopers]}`],
                "team-alpha/tenant-view": [`Group:${GROUP_OF_ROLE[ROLES.readOnly]}`],
                "team-beta/tenant-edit": [`Group:${GROUP_OF_ROLE[ROLES.betaDevelopers]}`],
                "team-beta/tenant-view": [`Group:${GROUP_OF_ROLE[ROLES.readOnly]}`],
            });
        });

        it("one access entry per role, the one two tenants share included, each carrying only its own group", () => {
            const entries = ofType(doc, "aws:eks/accessEntry:AccessEntry", CLUSTER).filter((e) => e.inputs.principalArn !== "arn:aws:iam::222222222222:role/platform-admins");
            const byRole = Object.fromEntries(entries.map((e) => [e.inputs.principalArn as string, { groups: e.inputs.kubernetesGroups, type: e.inputs.type }]));
            assert.deepEqual(byRole, {
                [ROLES.alphaDevelopers]: { groups: [GROUP_OF_ROLE[ROLES.alphaDevelopers]], type: "STANDARD" },
                [ROLES.betaDevelopers]: { groups: [GROUP_OF_ROLE[ROLES.betaDevelopers]], type: "STANDARD" },
                [ROLES.readOnly]: { groups: [GROUP_OF_ROLE[ROLES.readOnly]], type: "STANDARD" },
            });
            assert.equal(entries.length, 3);
        });

        it("each binding waits for the access entry of every role it names (the path, end to end)", () => {
            const entries = ofType(doc, "aws:eks/accessEntry:AccessEntry", CLUSTER);
            for (const [at, binding] of Object.entries(bindingsOn(doc, CLUSTER))) {
                const named = subjectsOf(binding).map((s) => s.slice("Group:".length));
                const roles = entries.filter((e) => named.includes(((e.inputs.kubernetesGroups as string[] | undefined) ?? [])[0]));
                assert.equal(roles.length, named.length, at);
                for (const entry of roles) assert.ok(binding.dependencies.includes(entry.urn), `${at} does not wait for ${entry.inputs.principalArn}`);
            }
        });

        it("grants no tenant role an access policy: only the admins' entry has one", () => {
            const associations = ofType(doc, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", CLUSTER);
            assert.deepEqual(associations.map((a) => a.inputs.principalArn), ["arn:aws:iam::222222222222:role/platform-admins"]);
        });
    });

    describe("AKS: Entra group object IDs, AKS roles on the namespace, Cluster User on the cluster", () => {
        const CLUSTER = "prod-azure-weu";
        const groupAssignments = () => ofType(doc, "azure-native:authorization:RoleAssignment", CLUSTER).filter((a) => a.inputs.principalType === "Group");

        it("binds each tenant role to its groups' object IDs", () => {
            const bindings = bindingsOn(doc, CLUSTER);
            assert.deepEqual(Object.fromEntries(Object.entries(bindings).map(([at, b]) => [at, subjectsOf(b)])), {
                "team-alpha/tenant-edit": [`Group:${ENTRA.alphaDevelopers}`],
                "team-alpha/tenant-view": [`Group:${ENTRA.alphaViewers}`],
            });
        });

        it("assigns exactly Writer and Reader on the namespace and Cluster User on the cluster, per group", () => {
            const assigned = groupAssignments().map((a) => [a.inputs.principalId, a.inputs.scope, a.inputs.roleDefinitionId]);
            const expected = [
                [ENTRA.alphaDevelopers, AKS_ID, roleDefinition(AZURE_ROLE.clusterUser)],
                [ENTRA.alphaDevelopers, `${AKS_ID}/namespaces/team-alpha`, roleDefinition(AZURE_ROLE.writer)],
                [ENTRA.alphaViewers, AKS_ID, roleDefinition(AZURE_ROLE.clusterUser)],
                [ENTRA.alphaViewers, `${AKS_ID}/namespaces/team-alpha`, roleDefinition(AZURE_ROLE.reader)],
            ];
            const order = (rows: unknown[][]) => rows.map((r) => JSON.stringify(r)).sort();
            assert.deepEqual(order(assigned), order(expected));
        });

        it("no tenant group holds an AKS RBAC role beyond its namespace", () => {
            const atCluster = groupAssignments().filter((a) => a.inputs.scope === AKS_ID);
            assert.equal(atCluster.length, 2);
            for (const a of atCluster) assert.equal(a.inputs.roleDefinitionId, roleDefinition(AZURE_ROLE.clusterUser), `${a.name}: only Cluster User (listClusterUserCredential) at cluster scope`);
        });
    });

    describe("GKE: Google groups under the cluster's gke-security-groups", () => {
        const CLUSTER = "prod-gcp-euw4";

        it("turns on Google Groups for RBAC with the configured security group", () => {
            const cluster = doc.resources.find((r) => r.type === "gcp:container/cluster:Cluster" && r.inputs.name === CLUSTER)!;
            assert.deepEqual(cluster.inputs.authenticatorGroupsConfig, { securityGroup: "gke-security-groups@example.com" });
        });

        it("binds each tenant role to its Google groups' e-mails", () => {
            const bindings = bindingsOn(doc, CLUSTER);
            assert.deepEqual(Object.fromEntries(Object.entries(bindings).map(([at, b]) => [at, subjectsOf(b)])), {
                "team-alpha/tenant-edit": ["Group:team-alpha-developers@example.com"],
                "team-alpha/tenant-view": ["Group:team-alpha-viewers@example.com"],
                "team-beta/tenant-edit": ["Group:team-beta-developers@example.com"],
                "team-beta/tenant-view": ["Group:team-beta-viewers@example.com"],
            });
        });

        it("grants the tenant groups no Google Cloud IAM role", () => {
            const iam = doc.resources.filter((r) => r.type.startsWith("gcp:") && /IAM|iam/.test(r.type));
            assert.ok(iam.length > 0, "the render holds the platform's own IAM members");
            for (const r of iam) assert.doesNotMatch(JSON.stringify(r.inputs), /team-(alpha|beta)-(developers|viewers)@/, r.name);
        });
    });

    it("nothing binds a tenant group cluster-wide, on any cluster", () => {
        const tenantGroups = [...Object.values(GROUP_OF_ROLE), ...Object.values(ENTRA), "team-alpha-developers@example.com", "team-alpha-viewers@example.com", "team-beta-developers@example.com", "team-beta-viewers@example.com"];
        const clusterWide = doc.resources.filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding");
        for (const b of clusterWide) for (const s of (b.inputs.subjects as Raw[] | undefined) ?? []) assert.ok(!tenantGroups.includes(s.name), `${b.name} binds ${s.name}`);
        const tenantBindings = doc.resources.filter((r) => r.type === ROLE_BINDING && (r.inputs.subjects as Raw[]).some((s) => tenantGroups.includes(s.name)));
        assert.equal(tenantBindings.length, 10, "four on EKS, two on AKS, four on GKE");
        for (const b of tenantBindings) assert.deepEqual([input(b, "roleRef.kind"), ["edit", "view"].includes(String(input(b, "roleRef.name")))], ["ClusterRole", true], b.name);
    });
});
