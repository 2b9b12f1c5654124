import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ExistingCluster, secretsNamespaceFor } from "../components/clusters/existing";
import { validateSettings } from "../components/config";
import { loadStackSettings, record, stackConfig, valueOf } from "./mocks";

const local = validateSettings(loadStackSettings("local")).settings!;
const config = local.clusters[0];
if (config.cloud !== "existing") throw new Error("the local stack adopts an existing cluster");
/** Another adopted cluster writing to the same store: the source of a restore. */
const oldKind = { stack: "local", cluster: { ...config, name: "old-kind" } };

async function adopt(): Promise<{ cluster: ExistingCluster; doc: Awaited<ReturnType<typeof record>> }> {
    let cluster: ExistingCluster | undefined;
    const credentials = pulumi.secret({ accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cr3t" });
    const doc = await record("unit", stackConfig({}), () => {
        cluster = new ExistingCluster("kind", { config: config as Extract<typeof config, { cloud: "existing" }>, environment: "local", backupCredentials: credentials });
        cluster.workloadIdentity("external-secrets", "external-secrets", { kind: "secretsRead", prefix: "tenants/team-a/" });
    });
    return { cluster: cluster!, doc };
}

describe("ExistingCluster", () => {
    it("makes its own provider from the configured kubeconfig and context, kubeconfig secret", async () => {
        const { doc } = await adopt();
        const provider = doc.resources.find((r) => r.type === "pulumi:providers:kubernetes")!;
        assert.equal(provider.name, "kind-provider");
        assert.equal(provider.inputs.context, "kind-platform");
        assert.equal(provider.inputs.kubeconfig, "[secret]");
    });

    it("hands Velero an S3-compatible store with secret credentials under the cluster's prefix", async () => {
        const { cluster } = await adopt();
        const storage = cluster.backupStorage();
        assert.equal(storage.provider, "aws");
        assert.equal(storage.prefix, "local-kind");
        assert.deepEqual(await valueOf(pulumi.output(storage.config)), { region: "us-east-1", s3Url: "http://minio.minio.svc.cluster.local:9000", s3ForcePathStyle: "true" });
        assert.ok(storage.credentials && (await pulumi.isSecret(storage.credentials)), "credentials must stay secret");
        assert.match(await valueOf(storage.credentials), /^\[default\]\naws_access_key_id=AKIAEXAMPLE\naws_secret_access_key=s3cr3t\n$/);
        assert.equal(cluster.backupStorage(oldKind).prefix, "old-kind");
    });

    it("scopes a secrets grant to one namespace per prefix, read-only", async () => {
        const { doc } = await adopt();
        const role = doc.resources.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:Role")!;
        const ns = doc.resources.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
        assert.equal((ns.inputs.metadata as { name: string }).name, "secrets-tenants-team-a");
        assert.equal(secretsNamespaceFor("tenants/team-a/"), "secrets-tenants-team-a");
        const rules = role.inputs.rules as { resources: string[]; verbs: string[] }[];
        assert.deepEqual(rules[0], { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] });
        assert.ok(rules.every((r) => !r.verbs.includes("*") && !r.resources.includes("*")));
        const binding = doc.resources.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")!;
        assert.deepEqual(binding.inputs.subjects, [{ kind: "ServiceAccount", name: "external-secrets", namespace: "external-secrets" }]);
    });

    it("names a secrets grant from its prefix: a second prefix gets its own reader, a repeated grant nothing, other grants nothing", async () => {
        const doc = await record("unit", stackConfig({}), () => {
            const cluster = new ExistingCluster("kind", { config: config as Extract<typeof config, { cloud: "existing" }>, environment: "local" });
            for (const prefix of ["tenants/team-a/", "platform/", "tenants/team-a/"]) cluster.workloadIdentity("eso", "reader", { kind: "secretsRead", prefix });
            const dns = cluster.workloadIdentity("eso", "reader", { kind: "dnsZone", zone: "example.com" });
            assert.deepEqual([dns.serviceAccountAnnotations, dns.podLabels, dns.resources.length], [{}, {}, 6]);
        });
        const rbac = doc.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes");
        assert.deepEqual(
            rbac.map((r) => [r.name, (r.aliases ?? []).map((a) => a.slice(a.lastIndexOf("::") + 2))]).sort(),
            [
                // The first grant takes over the names of the time a service account could hold one prefix only.
                ["kind-eso-reader-secretsRead-008df6-binding", []],
                ["kind-eso-reader-secretsRead-008df6-ns", []],
                ["kind-eso-reader-secretsRead-008df6-reader", []],
                ["kind-eso-reader-secretsRead-2be5c5-binding", ["kind-eso-reader-secrets-binding"]],
                ["kind-eso-reader-secretsRead-2be5c5-ns", ["kind-eso-reader-secrets-ns"]],
                ["kind-eso-reader-secretsRead-2be5c5-reader", ["kind-eso-reader-secrets-reader"]],
            ],
        );
        const namespaces = rbac.filter((r) => r.type === "kubernetes:core/v1:Namespace").map((r) => (r.inputs.metadata as { name: string }).name);
        assert.deepEqual(namespaces.sort(), ["secrets-platform", "secrets-tenants-team-a"]);
    });

    it("hands out its backup storage once per source", async () => {
        const { cluster } = await adopt();
        assert.equal(cluster.backupStorage(), cluster.backupStorage());
        assert.notEqual(cluster.backupStorage(oldKind), cluster.backupStorage());
        assert.deepEqual([cluster.backupStorage().cluster, cluster.backupStorage(oldKind).cluster], ["local-kind", "old-kind"]);
    });

    it("has no cloud DNS and no load balancer annotations", async () => {
        const { cluster } = await adopt();
        assert.equal(cluster.dns01Solver(), undefined);
        assert.deepEqual(cluster.gatewayServiceAnnotations(), {});
    });
});
