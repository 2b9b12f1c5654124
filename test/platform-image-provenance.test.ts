/**
 * verify-image-signatures (components/platform/image-provenance.ts), from the offline render:
 * which references must carry which signature, per stack. A signed reference (one of the
 * upstreams that sign, or a tenant registry with its key) meets exactly the verifier with the
 * identity written here; an unsigned one (an upstream that does not sign, a public registry in
 * staging) meets none, and in production a tenant's unsigned public image is refused by
 * restrict-registries. Matching follows Kyverno's: the reference is normalised (`docker.io/`,
 * `library/`) and compared with `*`/`?` wildcards (pkg/engine/utils/image.go, ext/wildcard).
 * The signatures themselves are checked by scripts/image-signatures-check.sh with the kyverno
 * CLI against a local registry (docs/platform.md), not here: this tier has no registry.
 */
import { strict as assert } from "assert";
import { createHash, createPublicKey } from "crypto";
import { RenderDocument, RenderedResource } from "../scripts/render-program";
import { validateSettings } from "../components/config";
import { loadStackSettings } from "./mocks";
import { addonOf, clustersOf, environmentOf, kindNamed, Raw, renderStack, STACKS, valuesOf } from "./platform-helpers";

const POLICY = "kyverno.io/v1:ClusterPolicy";
const GITHUB = "https://token.actions.githubusercontent.com";
const expectedAction: Record<string, string> = { local: "Audit", staging: "Audit", production: "Enforce" };
const UPSTREAM_RULES = ["upstream-cert-manager", "upstream-flux", "upstream-external-secrets", "upstream-falco", "upstream-falcoctl", "upstream-prometheus-operator", "upstream-kyverno"];
const UNCHECKED = ["kube-system", "kube-public", "kube-node-lease", "kyverno"];

/** Kyverno's normalised form of an image reference (docker.io and library/ added, tag latest when none). */
function normalise(image: string): string {
    const first = image.split("/")[0];
    const hasRegistry = image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
    let ref = hasRegistry ? image : `docker.io/${image.includes("/") ? image : `library/${image}`}`;
    if (!/[:@][^/]+$/.test(ref)) ref += ":latest";
    return ref;
}
const wildcard = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);

interface Verifier {
    readonly rule: string;
    readonly entry: Raw;
}
/** The verifyImages entries an image meets (all of them must pass in Kyverno). */
function verifiersFor(policy: RenderedResource, image: string): Verifier[] {
    const ref = normalise(image);
    return ((policy.inputs.spec as Raw).rules as Raw[]).flatMap((rule) =>
        (rule.verifyImages as Raw[]).filter((v) => (v.imageReferences as string[]).some((p) => wildcard(p).test(ref))).map((entry) => ({ rule: rule.name as string, entry })),
    );
}
const keylessOf = (v: Verifier) => (v.entry.attestors as Raw[])[0].entries.map((e: Raw) => e.keyless).filter(Boolean) as Raw[];

describe("platform: image provenance (verify-image-signatures)", () => {
    for (const stack of STACKS) {
        describe(stack, () => {
            let doc: RenderDocument;
            before(async function () {
                doc = await renderStack(stack);
            });
            const policyOn = (cluster: string) => kindNamed(addonOf(doc, cluster, "kyverno").children, POLICY, "verify-image-signatures");

            it(`verifies every signing upstream in ${expectedAction[environmentOf(stack)]}, at admission only, skipping only Kubernetes' and Kyverno's namespaces`, () => {
                const action = expectedAction[environmentOf(stack)];
                const clusters = clustersOf(stack);
                assert.ok(clusters.length > 0);
                for (const cluster of clusters) {
                    const policy = policyOn(cluster.name);
                    const spec = policy.inputs.spec as Raw;
                    assert.equal(spec.background, false);
                    assert.deepEqual(spec.webhookConfiguration, { failurePolicy: action === "Enforce" ? "Fail" : "Ignore", timeoutSeconds: 30 });
                    const rules = spec.rules as Raw[];
                    assert.deepEqual(rules.filter((r) => r.name.startsWith("upstream-")).map((r) => r.name), UPSTREAM_RULES);
                    for (const rule of rules) {
                        assert.deepEqual(rule.exclude.any[0].resources.namespaces, UNCHECKED, rule.name);
                        for (const v of rule.verifyImages as Raw[]) {
                            assert.equal(v.failureAction, action, rule.name);
                            assert.equal(v.required, true);
                            // Kyverno refuses mutateDigest with Audit; with Enforce the Pod runs the verified digest.
                            assert.equal(v.mutateDigest, action === "Enforce");
                            assert.equal(v.verifyDigest, action === "Enforce");
                        }
                    }
                    // The add-ons' pods now reach the webhook (to be verified); Kyverno's and Kubernetes' never do.
                    const selector = valuesOf(addonOf(doc, cluster.name, "kyverno").release).config.webhooks.namespaceSelector.matchExpressions[0];
                    assert.deepEqual(selector, { key: "kubernetes.io/metadata.name", operator: "NotIn", values: UNCHECKED });
                }
            });

            it("a signed platform image meets exactly its upstream's release identity; an unsigned upstream's none", () => {
                const policy = policyOn(clustersOf(stack)[0].name);
                const signed: [string, string, string][] = [
                    ["ghcr.io/fluxcd/source-controller:v1.8.2", "upstream-flux", "https://github.com/fluxcd/gha-workflows/.github/workflows/controller-release.yaml@refs/tags/v0.4.0"],
                    ["ghcr.io/external-secrets/external-secrets:v2.9.0", "upstream-external-secrets", "https://github.com/external-secrets/external-secrets/.github/workflows/release.yml@refs/heads/main"],
                    ["falcosecurity/falco:0.44.1", "upstream-falco", "https://github.com/falcosecurity/falco/.github/workflows/reusable_publish_docker.yaml@refs/tags/0.44.1"],
                    ["docker.io/falcosecurity/falcoctl:0.13.0", "upstream-falcoctl", "https://github.com/falcosecurity/falcoctl/.github/workflows/docker-image.yaml@refs/tags/v0.13.0"],
                    ["quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1", "upstream-prometheus-operator", "https://github.com/prometheus-operator/prometheus-operator/.github/workflows/publish.yaml@refs/tags/v0.93.1"],
                ];
                for (const [image, rule, san] of signed) {
                    const found = verifiersFor(policy, image);
                    assert.deepEqual(found.map((v) => v.rule), [rule], image);
                    const [keyless] = keylessOf(found[0]);
                    assert.equal(keyless.issuer, GITHUB, image);
                    assert.match(san, new RegExp(keyless.subjectRegExp), `${image}: the upstream's certificate subject`);
                    assert.doesNotMatch(san.replace("https://github.com/", "https://github.com/attacker/"), new RegExp(keyless.subjectRegExp), `${image}: another repository's workflow`);
                    assert.deepEqual(keyless.rekor, { url: "https://rekor.sigstore.dev" });
                }
                // Kyverno's signatures sit in a separate repository (COSIGN_REPOSITORY of its release workflow).
                const [kyverno] = verifiersFor(policy, "reg.kyverno.io/kyverno/kyverno:v1.19.0");
                assert.equal(kyverno.entry.attestors[0].entries[0].repository, "ghcr.io/kyverno/signatures");
                for (const unsigned of ["docker.io/envoyproxy/gateway:v1.9.0", "velero/velero:v1.18.1", "velero/velero-plugin-for-aws:v1.14.2", "quay.io/prometheus/prometheus:v3.14.0-distroless", "docker.io/grafana/grafana:13.2.0-distroless"]) {
                    assert.deepEqual(verifiersFor(policy, unsigned), [], `${unsigned}: its upstream does not sign at our pin`);
                }
            });

            it("cert-manager's images need its release key's sha512 signature (no transparency log): the key cert-manager.io publishes", () => {
                const policy = policyOn(clustersOf(stack)[0].name);
                for (const component of ["controller", "webhook", "cainjector", "startupapicheck", "acmesolver"]) {
                    const found = verifiersFor(policy, `quay.io/jetstack/cert-manager-${component}:v1.21.1`);
                    assert.deepEqual(found.map((v) => [v.rule, v.entry.type]), [["upstream-cert-manager", "Cosign"]], component);
                    const [entry] = (found[0].entry.attestors as Raw[])[0].entries as Raw[];
                    assert.equal(entry.signatureAlgorithm, "sha512");
                    assert.deepEqual([entry.keys.rekor.ignoreTlog, entry.keys.ctlog.ignoreSCT, entry.keyless], [true, true, undefined]);
                    // sha256 of static/public-keys/cert-manager-pubkey-2021-09-20.pem in cert-manager/website (1fe9d92), an RSA 4096 key.
                    assert.equal(createHash("sha256").update(entry.keys.publicKeys).digest("hex"), "62151ffda7bb5350367480750ff1cb75d53f0f83baca524044e5274aa83b63a6");
                    assert.equal(createPublicKey(entry.keys.publicKeys).asymmetricKeyDetails?.modulusLength, 4096);
                }
                assert.deepEqual(verifiersFor(policy, "quay.io/jetstack/other:v1"), [], "only cert-manager's own images");
            });
        });
    }

    describe("tenants' registries", () => {
        it("production: a Harbor image needs the stack's cosign key; an unsigned public image is refused by restrict-registries", async () => {
            const doc = await renderStack("production");
            const clusters = clustersOf("production");
            const pem = ((loadStackSettings("production").addons as Raw).kyverno.imageSignatures.tenants[0].publicKeys as string[])[0];
            assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n/);
            for (const cluster of clusters) {
                const children = addonOf(doc, cluster.name, "kyverno").children;
                const found = verifiersFor(kindNamed(children, POLICY, "verify-image-signatures"), "harbor.example.com/team-alpha/api:1.4.2");
                assert.deepEqual(found.map((v) => v.rule), ["tenant-registry-1"]);
                assert.deepEqual(found[0].entry.attestors, [{ count: 1, entries: [{ keys: { publicKeys: pem } }] }]);
                assert.equal(found[0].entry.failureAction, "Enforce");
                const registries = (kindNamed(children, POLICY, "restrict-registries").inputs.spec as Raw).rules[0].validate.pattern.spec.containers[0].image;
                assert.equal(registries, "harbor.example.com/*", "the only registry tenants may pull from");
                assert.deepEqual(verifiersFor(kindNamed(children, POLICY, "verify-image-signatures"), "docker.io/library/nginx:1.27"), []);
            }
        });

        it("staging relaxes: public registries without signers, checked in Audit", async () => {
            const doc = await renderStack("staging");
            const policy = kindNamed(addonOf(doc, clustersOf("staging")[0].name, "kyverno").children, POLICY, "verify-image-signatures");
            assert.deepEqual(((policy.inputs.spec as Raw).rules as Raw[]).filter((r) => r.name.startsWith("tenant-")), []);
            assert.deepEqual(verifiersFor(policy, "docker.io/library/nginx:1.27"), []);
        });
    });

    describe("config", () => {
        const withSignatures = (kyverno: Raw) => {
            const settings = structuredClone(loadStackSettings("production")) as Raw;
            (settings.addons as Raw).kyverno = kyverno;
            return validateSettings(settings).problems;
        };
        const key = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";

        it("a signed registry must be an allowed one, have a signer, and keys must be PEM", () => {
            const problems = withSignatures({
                allowedRegistries: ["harbor.example.com/"],
                imageSignatures: { tenants: [{ registry: "ghcr.io/", publicKeys: [key] }, { registry: "harbor.example.com" }, { registry: "harbor.example.com/", publicKeys: ["ssh-ed25519 AAAA"] }] },
            });
            // Every bad path at once.
            assert.deepEqual(problems, [
                "addons.kyverno.imageSignatures.tenants[1].publicKeys: needs at least one signer: publicKeys or keyless",
                "addons.kyverno.imageSignatures.tenants[2].publicKeys[0]: must be a PEM public key (-----BEGIN PUBLIC KEY----- ...)",
                "addons.kyverno.imageSignatures.tenants[0].registry: is not one of allowedRegistries (harbor.example.com/): restrict-registries refuses its images before their signatures count",
            ]);
            assert.deepEqual(withSignatures({ allowedRegistries: ["harbor.example.com/"], imageSignatures: { tenants: [{ registry: "ghcr.io/", publicKeys: [key] }] } }), [
                "addons.kyverno.imageSignatures.tenants[0].registry: is not one of allowedRegistries (harbor.example.com/): restrict-registries refuses its images before their signatures count",
            ]);
        });

        it("keyless signers need an https issuer; a registry without a trailing slash is the same registry", () => {
            assert.deepEqual(withSignatures({ allowedRegistries: ["harbor.example.com"], imageSignatures: { tenants: [{ registry: "harbor.example.com/", keyless: [{ issuer: "https://token.actions.githubusercontent.com", subjectRegExp: "^https://github\\.com/example/.+$" }] }] } }), []);
            assert.deepEqual(withSignatures({ imageSignatures: { tenants: [{ registry: "ghcr.io/", keyless: [{ issuer: "token.actions.githubusercontent.com", subjectRegExp: ".+" }] }] } }), [
                "addons.kyverno.imageSignatures.tenants[0].keyless[0].issuer: must be an https:// URL",
            ]);
        });
    });
});
