/**
 * The identity book on every cloud: one identity per service account, one set of resources
 * per grant, named from what the grant names (not from the order of the calls), aliased to the
 * call-order names they had before, and a repeated grant adding nothing.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { PlatformCluster, WorkloadIdentity } from "../components/types";
import { RenderDocument, RenderedResource } from "../scripts/render-program";
import { buildCluster, CloudName, renamedSource, statements } from "./clusters-fixtures";
import { renderStack, valueOf } from "./mocks";

const ZONES: Record<CloudName, string> = {
    aws: "Z0000000000STAGINGAWS",
    azure: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/dns/providers/Microsoft.Network/dnszones/azure.staging.example.com",
    gcp: "gcp-staging-example-com",
};

/** Six requests, five distinct grants: the third repeats the first. */
function requestGrants(cluster: PlatformCluster, reversed = false): Record<string, WorkloadIdentity> {
    const own = cluster.backupStorage();
    const old = cluster.backupStorage(renamedSource("staging", cluster.cloud as CloudName, `${cluster.name}-old`));
    const requests: [string, () => WorkloadIdentity][] = [
        ["veleroOwn", () => cluster.workloadIdentity("velero", "velero", { kind: "backupStorage", access: "readWrite", storage: own })],
        ["veleroOld", () => cluster.workloadIdentity("velero", "velero", { kind: "backupStorage", access: "readOnly", storage: old })],
        ["veleroAgain", () => cluster.workloadIdentity("velero", "velero", { kind: "backupStorage", access: "readWrite", storage: own })],
        ["dns", () => cluster.workloadIdentity("cert-manager", "cert-manager", { kind: "dnsZone", zone: ZONES[cluster.cloud as CloudName] })],
        ["teamA", () => cluster.workloadIdentity("team-a", "tenant-secrets", { kind: "secretsRead", prefix: "tenants/team-a/" })],
        ["shared", () => cluster.workloadIdentity("team-a", "tenant-secrets", { kind: "secretsRead", prefix: "tenants/shared/" })],
    ];
    return Object.fromEntries((reversed ? [...requests].reverse() : requests).map(([key, request]) => [key, request()]));
}

const isGrant = (r: RenderedResource) => /-(backupStorage|dnsZone|secretsRead)-[0-9a-f]{6}(-sign)?$/.test(r.name);
const grantResources = (doc: RenderDocument) => doc.resources.filter(isGrant).sort((a, b) => (a.name < b.name ? -1 : 1));
const shortType = (type: string) => type.split(":").pop();

/** What each grant resource gives, in the cloud's terms: enough to tell a read-write grant from a read-only one. */
function access(r: RenderedResource): string {
    switch (r.type) {
        case "aws:iam/rolePolicy:RolePolicy":
            // A write confined to restores/ (a read-only grant's restore log) is marked as such.
            return statements(r.inputs.policy)
                .flatMap((s) => [s.Action].flat().map((a) => ([s.Resource].flat().every((x) => String(x).endsWith("/restores/*")) ? `${a}(restores/*)` : a)))
                .filter((a) => /^(s3:PutObject|s3:GetObject|route53:ChangeResourceRecordSets|secretsmanager:GetSecretValue)(\(restores\/\*\))?$/.test(a!))
                .join(" ");
        case "azure-native:authorization:RoleAssignment":
            return String(r.inputs.roleDefinitionId).split("/").pop()!;
        default:
            return String(r.inputs.role);
    }
}

interface Expected {
    /** [resource type, name, the name it had before (its alias), access]. */
    readonly grants: [string, string, string, string][];
    /** Resources of the velero identity after its three requests (identity + 2 grants). */
    readonly veleroResources: number;
    readonly annotations: string[];
}

const EXPECTED: Record<CloudName, Expected> = {
    aws: {
        grants: [
            ["RolePolicy", "stg-aws-use1-cert-manager-cert-manager-dnsZone-4351bc", "stg-aws-use1-cert-manager-cert-manager-dnsZone", "route53:ChangeResourceRecordSets"],
            ["RolePolicy", "stg-aws-use1-team-a-tenant-secrets-secretsRead-2be5c5", "stg-aws-use1-team-a-tenant-secrets-secretsRead", "secretsmanager:GetSecretValue"],
            ["RolePolicy", "stg-aws-use1-team-a-tenant-secrets-secretsRead-e253b8", "stg-aws-use1-team-a-tenant-secrets-secretsRead-2", "secretsmanager:GetSecretValue"],
            ["RolePolicy", "stg-aws-use1-velero-velero-backupStorage-8dd7a7", "stg-aws-use1-velero-velero-backupStorage-2", "s3:GetObject s3:PutObject(restores/*)"],
            ["RolePolicy", "stg-aws-use1-velero-velero-backupStorage-dc3328", "stg-aws-use1-velero-velero-backupStorage", "s3:GetObject s3:PutObject"],
        ],
        veleroResources: 3,
        annotations: ["eks.amazonaws.com/role-arn"],
    },
    azure: {
        grants: [
            ["RoleAssignment", "stg-azure-weu-cert-manager-cert-manager-dnsZone-718d78", "stg-azure-weu-cert-manager-cert-manager-dnsZone", "befefa01-2a29-4197-83a8-272ff33ce314"],
            ["RoleAssignment", "stg-azure-weu-team-a-tenant-secrets-secretsRead-2be5c5", "stg-azure-weu-team-a-tenant-secrets-secretsRead", "4633458b-17de-408a-b874-0445c86b69e6"],
            ["RoleAssignment", "stg-azure-weu-team-a-tenant-secrets-secretsRead-e253b8", "stg-azure-weu-team-a-tenant-secrets-secretsRead-2", "4633458b-17de-408a-b874-0445c86b69e6"],
            ["RoleAssignment", "stg-azure-weu-velero-velero-backupStorage-c933d0", "stg-azure-weu-velero-velero-backupStorage-2", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"],
            ["RoleAssignment", "stg-azure-weu-velero-velero-backupStorage-ebc10b", "stg-azure-weu-velero-velero-backupStorage", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"],
        ],
        veleroResources: 4,
        annotations: ["azure.workload.identity/client-id", "azure.workload.identity/tenant-id"],
    },
    gcp: {
        grants: [
            ["DnsManagedZoneIamMember", "stg-gcp-euw4-cert-manager-cert-manager-dnsZone-d1aaf9", "stg-gcp-euw4-cert-manager-cert-manager-dnsZone", "roles/dns.admin"],
            ["IAMMember", "stg-gcp-euw4-team-a-tenant-secrets-secretsRead-2be5c5", "stg-gcp-euw4-team-a-tenant-secrets-secretsRead", "roles/secretmanager.secretAccessor"],
            ["IAMMember", "stg-gcp-euw4-team-a-tenant-secrets-secretsRead-e253b8", "stg-gcp-euw4-team-a-tenant-secrets-secretsRead-2", "roles/secretmanager.secretAccessor"],
            ["BucketIAMMember", "stg-gcp-euw4-velero-velero-backupStorage-2f577c", "stg-gcp-euw4-velero-velero-backupStorage", "roles/storage.objectAdmin"],
            ["IAMMember", "stg-gcp-euw4-velero-velero-backupStorage-2f577c-sign", "stg-gcp-euw4-velero-velero-backupStorage-sign", "roles/iam.serviceAccountTokenCreator"],
            ["BucketIAMMember", "stg-gcp-euw4-velero-velero-backupStorage-c2d16d", "stg-gcp-euw4-velero-velero-backupStorage-2", "roles/storage.objectViewer"],
        ],
        veleroResources: 5,
        annotations: ["iam.gke.io/gcp-service-account"],
    },
};

/** The alias of a grant resource, as a name: the render holds it as a URN that differs only in the name. */
const formerName = (r: RenderedResource) => {
    assert.equal(r.aliases?.length, 1, `${r.name}: ${JSON.stringify(r.aliases)}`);
    const [alias] = r.aliases!;
    assert.equal(alias.slice(0, alias.lastIndexOf("::")), r.urn.slice(0, r.urn.lastIndexOf("::")), `${r.name}: the alias moves it elsewhere`);
    return alias.slice(alias.lastIndexOf("::") + 2);
};

for (const cloud of Object.keys(EXPECTED) as CloudName[]) {
    describe(`${cloud}: the identity book`, () => {
        const expected = EXPECTED[cloud];
        type Build = Awaited<ReturnType<typeof buildCluster<Record<string, WorkloadIdentity>>>>;
        let forward: Build;
        let backward: Build;
        before(async () => {
            forward = await buildCluster("staging", cloud, (cluster) => requestGrants(cluster));
            backward = await buildCluster("staging", cloud, (cluster) => requestGrants(cluster, true));
        });

        it("one resource set per distinct grant, named from the grant, aliased to its call-order name; a repeated grant adds nothing", () => {
            const { doc, used } = forward;
            const found = grantResources(doc).map((r) => [shortType(r.type), r.name, formerName(r), access(r)]);
            assert.deepEqual(found, expected.grants);
            assert.equal(used.veleroAgain.resources.length, expected.veleroResources);
            assert.deepEqual(used.veleroAgain.resources, used.veleroOld.resources, "the repeated grant added resources");
        });

        it("each grant reaches its own target: the two buckets, the two secret prefixes", () => {
            const { doc } = forward;
            const target = (r: RenderedResource) => JSON.stringify(r.inputs.policy ?? r.inputs.scope ?? r.inputs.bucket ?? r.inputs.condition ?? r.inputs.managedZone);
            const main = grantResources(doc).filter((r) => !r.name.endsWith("-sign"));
            assert.equal(new Set(main.map(target)).size, main.length, main.map(target).join("\n"));
        });

        it("the names do not depend on the order of the requests", () => {
            const byName = (doc: RenderDocument) => Object.fromEntries(grantResources(doc).map((r) => [r.name, r.inputs]));
            assert.deepEqual(byName(backward.doc), byName(forward.doc));
            assert.equal(Object.keys(byName(forward.doc)).length, expected.grants.length);
        });

        it("the identity's annotations are the same whichever grant asked for it", async () => {
            const { used } = forward;
            const annotations = await Promise.all([used.veleroOwn, used.veleroOld, used.veleroAgain].map((i) => valueOf(pulumi.output(i.serviceAccountAnnotations))));
            assert.deepEqual(Object.keys(annotations[0]), expected.annotations);
            assert.deepEqual(annotations[1], annotations[0]);
            assert.deepEqual(annotations[2], annotations[0]);
        });
    });
}

describe("identity book: the renamed grant resources of the real stacks", () => {
    it("staging: every grant resource is aliased to exactly the name it had, under the same parent and type", async () => {
        const doc = await renderStack("staging");
        const renamed = grantResources(doc).map((r) => `${formerName(r)} -> ${r.name}`);
        assert.deepEqual(renamed.sort(), [
            "stg-aws-use1-cert-manager-cert-manager-dnsZone -> stg-aws-use1-cert-manager-cert-manager-dnsZone-4351bc",
            "stg-aws-use1-external-secrets-external-secrets-secretsRead -> stg-aws-use1-external-secrets-external-secrets-secretsRead-008df6",
            "stg-aws-use1-team-alpha-tenant-secrets-secretsRead -> stg-aws-use1-team-alpha-tenant-secrets-secretsRead-d02461",
            "stg-aws-use1-team-beta-tenant-secrets-secretsRead -> stg-aws-use1-team-beta-tenant-secrets-secretsRead-583600",
            "stg-aws-use1-velero-velero-backupStorage -> stg-aws-use1-velero-velero-backupStorage-dc3328",
            "stg-azure-weu-cert-manager-cert-manager-dnsZone -> stg-azure-weu-cert-manager-cert-manager-dnsZone-718d78",
            "stg-azure-weu-external-secrets-external-secrets-secretsRead -> stg-azure-weu-external-secrets-external-secrets-secretsRead-008df6",
            "stg-azure-weu-team-alpha-tenant-secrets-secretsRead -> stg-azure-weu-team-alpha-tenant-secrets-secretsRead-d02461",
            "stg-azure-weu-velero-velero-backupStorage -> stg-azure-weu-velero-velero-backupStorage-ebc10b",
            "stg-gcp-euw4-cert-manager-cert-manager-dnsZone -> stg-gcp-euw4-cert-manager-cert-manager-dnsZone-d1aaf9",
            "stg-gcp-euw4-external-secrets-external-secrets-secretsRead -> stg-gcp-euw4-external-secrets-external-secrets-secretsRead-008df6",
            "stg-gcp-euw4-team-alpha-tenant-secrets-secretsRead -> stg-gcp-euw4-team-alpha-tenant-secrets-secretsRead-d02461",
            "stg-gcp-euw4-team-beta-tenant-secrets-secretsRead -> stg-gcp-euw4-team-beta-tenant-secrets-secretsRead-583600",
            "stg-gcp-euw4-velero-velero-backupStorage -> stg-gcp-euw4-velero-velero-backupStorage-2f577c",
            "stg-gcp-euw4-velero-velero-backupStorage-sign -> stg-gcp-euw4-velero-velero-backupStorage-2f577c-sign",
        ]);
        // Nothing else moves: the only aliased resources of the stack are the grants.
        assert.deepEqual(doc.resources.filter((r) => r.aliases && !isGrant(r)).map((r) => r.name), []);
    });
});
