/**
 * cert-manager on every cluster of every stack that renders: the pinned chart with its CRDs,
 * Let's Encrypt issuers solving DNS-01 where the cluster has cloud DNS, a self-signed CA chain
 * where it has none. Expected values are the issue's and the chart's (at the pin cert-manager.ts
 * names as checked), not the code's; the version itself is the registry's pin.
 */
import { strict as assert } from "assert";
import { RenderDocument } from "../scripts/render-program";
import { addonOf, assertCustomResourcesAfterRelease, assertDependsOn, clustersOf, environmentOf, kindNamed, namespaceOf, ofKind, Raw, renderStack, STACKS, valuesOf } from "./platform-helpers";
import { addons } from "../components/platform/addons";
import { loadStackSettings } from "./mocks";

const ISSUER = "cert-manager.io/v1:ClusterIssuer";
const CERTIFICATE = "cert-manager.io/v1:Certificate";
const hasCloudDns = (cluster: Raw) => cluster.dns !== undefined && cluster.cloud !== "existing";
/** The clusters with cloud DNS, per stack file: each case below runs on the stacks where it applies. */
const DNS_CLUSTERS: Record<string, string[]> = {
    local: [],
    staging: ["stg-aws-use1", "stg-azure-weu", "stg-gcp-euw4"],
    production: ["prod-aws-use1", "prod-azure-weu", "prod-gcp-euw4"],
};
const LOCAL_CA_CLUSTERS: Record<string, string[]> = { local: ["local-kind"], staging: [], production: [] };
/** The resources of cert-manager's DNS identity, per cloud (role and policy; identity, federation and role assignment; account, binding and role). */
const DNS_IDENTITY_RESOURCES: Record<string, number> = { aws: 2, azure: 3, gcp: 3 };

for (const stack of STACKS) {
    describe(`cert-manager (${stack})`, () => {
        let doc: RenderDocument;
        before(async function () {
            doc = await renderStack(stack);
        });

        it("installs the pinned chart cert-manager from charts.jetstack.io with its CRDs, kept on uninstall", () => {
            for (const cluster of clustersOf(stack)) {
                const { release } = addonOf(doc, cluster.name, "cert-manager");
                assert.equal(release.inputs.chart, "cert-manager");
                assert.equal(release.inputs.version, addons.certManager.chart.version, "the pin (versions.ts, through the registry)");
                assert.deepEqual(release.inputs.repositoryOpts, { repo: "https://charts.jetstack.io" });
                assert.equal(release.inputs.namespace, "cert-manager");
                assert.equal(release.inputs.name, "cert-manager");
                const values = valuesOf(release);
                assert.deepEqual(values.crds, { enabled: true, keep: true });
                assert.equal(values.installCRDs, undefined, "installCRDs is the deprecated key");
                assert.equal(values.serviceAccount.name, "cert-manager");
                assert.equal(values.global.leaderElection.namespace, "cert-manager");
                assert.equal(values.replicaCount, environmentOf(stack) === "production" ? 2 : 1);
            }
        });

        it(`clusters with cloud DNS: ${DNS_CLUSTERS[stack].join(", ") || "none"}; with the local CA: ${LOCAL_CA_CLUSTERS[stack].join(", ") || "none"}`, () => {
            assert.deepEqual(clustersOf(stack).filter(hasCloudDns).map((c) => c.name), DNS_CLUSTERS[stack]);
            assert.deepEqual(clustersOf(stack).filter((c) => !hasCloudDns(c)).map((c) => c.name), LOCAL_CA_CLUSTERS[stack]);
        });

        // Each case is declared for the stacks whose clusters it applies to (the test above pins which).
        if (DNS_CLUSTERS[stack].length) it("with cloud DNS: letsencrypt-staging and letsencrypt-prod solving DNS-01, account e-mail from config", () => {
            const email = (loadStackSettings(stack).addons as Raw | undefined)?.certManager?.acmeEmail;
            for (const cluster of clustersOf(stack).filter(hasCloudDns)) {
                const addon = addonOf(doc, cluster.name, "cert-manager");
                const servers = { "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory", "letsencrypt-prod": "https://acme-v02.api.letsencrypt.org/directory" };
                for (const [issuer, server] of Object.entries(servers)) {
                    const acme = (kindNamed(addon.children, ISSUER, issuer).inputs.spec as Raw).acme;
                    assert.equal(acme.server, server);
                    assert.equal(acme.email, email);
                    assert.equal(acme.solvers.length, 1);
                    assert.ok(acme.solvers[0].dns01 && Object.keys(acme.solvers[0].dns01).length === 1, `${issuer}: one DNS-01 provider`);
                }
                // The DNS identity: the release waits for it, and the chart's service account carries it.
                const identity = addon.release.dependencies.filter((urn) => urn !== namespaceOf(addon).urn);
                assert.equal(identity.length, DNS_IDENTITY_RESOURCES[cluster.cloud], `${cluster.name}: cert-manager's DNS identity`);
                assert.equal(valuesOf(addon.release).dns01RecursiveNameserversOnly, true);
            }
        });

        if (LOCAL_CA_CLUSTERS[stack].length) it("without cloud DNS: a self-signed root signs a CA certificate that a CA ClusterIssuer uses", () => {
            for (const cluster of clustersOf(stack).filter((c) => !hasCloudDns(c))) {
                const addon = addonOf(doc, cluster.name, "cert-manager");
                assert.equal(ofKind(addon.children, ISSUER).filter((r) => String((r.inputs.metadata as Raw).name).startsWith("letsencrypt")).length, 0);
                const root = kindNamed(addon.children, ISSUER, "platform-selfsigned");
                assert.deepEqual((root.inputs.spec as Raw).selfSigned, {});
                const ca = kindNamed(addon.children, CERTIFICATE, "platform-local-ca");
                const caSpec = ca.inputs.spec as Raw;
                assert.equal(caSpec.isCA, true);
                assert.equal(caSpec.secretName, "platform-local-ca");
                assert.deepEqual(caSpec.issuerRef, { name: "platform-selfsigned", kind: "ClusterIssuer", group: "cert-manager.io" });
                assert.equal((ca.inputs.metadata as Raw).namespace, "cert-manager");
                assertDependsOn(ca, root);
                const issuer = kindNamed(addon.children, ISSUER, "platform-local-ca");
                assert.deepEqual((issuer.inputs.spec as Raw).ca, { secretName: "platform-local-ca" });
                assertDependsOn(issuer, ca);
                assert.deepEqual(addon.release.dependencies.filter((urn) => urn !== namespaceOf(addon).urn), [], "no cloud identity without DNS");
            }
        });

        it("every issuer and certificate waits for the release that installs the CRDs", () => {
            for (const cluster of clustersOf(stack)) {
                const expected = hasCloudDns(cluster)
                    ? ["ClusterIssuer/letsencrypt-staging", "ClusterIssuer/letsencrypt-prod"]
                    : ["ClusterIssuer/platform-selfsigned", "Certificate/platform-local-ca", "ClusterIssuer/platform-local-ca"];
                assertCustomResourcesAfterRelease(addonOf(doc, cluster.name, "cert-manager"), /^kubernetes:cert-manager\.io\//, expected);
            }
        });

        it("runs in a restricted Pod Security namespace labelled as a platform namespace", () => {
            for (const cluster of clustersOf(stack)) {
                const ns = namespaceOf(addonOf(doc, cluster.name, "cert-manager"));
                assert.deepEqual((ns.inputs.metadata as Raw).labels, {
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "platform.example.io/managed-by": "platform",
                });
            }
        });
    });
}
