/**
 * image-signatures-verified (policy/policies/images.ts): good and bad verify-image-signatures
 * policies next to a cluster's other Kyverno policies, hand-built. The rendered stacks pass it
 * (policy-render.test.ts).
 */
import { strict as assert } from "assert";
import { ResourceInput, runPolicy } from "../policy/offline";
import { imageSignaturesVerified } from "../policy/policies/images";

const TYPE = "kubernetes:kyverno.io/v1:ClusterPolicy";
const PROVIDER = "urn:pulumi:s::platform::pulumi:providers:kubernetes::c1";
const KEY = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n";
type Raw = Record<string, any>;

const policy = (name: string, spec: Raw, provider = PROVIDER): ResourceInput => ({ type: TYPE, name, urn: `urn:pulumi:s::platform::${TYPE}::${name}`, inputs: { metadata: { name }, spec }, provider });
const registries = (action: string, pattern: string) => policy("restrict-registries", { rules: [{ name: "allowed-registries", validate: { failureAction: action, pattern: { spec: { containers: [{ image: pattern }] } } } }] });
const verify = (action: string, imageReferences: string[], entries: Raw[], extra: Raw = {}) => ({ failureAction: action, imageReferences, attestors: [{ count: 1, entries }], required: true, ...extra });
const flux = { keyless: { issuer: "https://token.actions.githubusercontent.com", subjectRegExp: "^https://github\\.com/fluxcd/.+$", rekor: { url: "https://rekor.sigstore.dev" } } };
const signatures = (action: string, rules: Raw[], failurePolicy = action === "Enforce" ? "Fail" : "Ignore") => policy("verify-image-signatures", { webhookConfiguration: { failurePolicy }, rules });
const good = (action: string) => [
    registries(action, "harbor.example.com/*"),
    signatures(action, [
        { name: "upstream-flux", verifyImages: [verify(action, ["ghcr.io/fluxcd/*"], [flux])] },
        { name: "tenant-registry-1", verifyImages: [verify(action, ["harbor.example.com/*"], [{ keys: { publicKeys: KEY } }])] },
    ]),
];

async function messages(resources: ResourceInput[]): Promise<string[]> {
    return (await runPolicy(imageSignaturesVerified, resources, {})).map((v) => v.message);
}
async function fails(resources: ResourceInput[], pattern: RegExp) {
    const found = await messages(resources);
    assert.ok(found.some((m) => pattern.test(m)), `expected ${pattern} among: ${found.join(" | ") || "(nothing)"}`);
}

describe("policy: image-signatures-verified", () => {
    it("passes enforced signatures with named signers for every allowed registry, and an auditing cluster", async () => {
        assert.deepEqual(await messages(good("Enforce")), []);
        // Staging, local and a restore audit every policy: signatures may be audited and tenants' public registries unsigned.
        assert.deepEqual(await messages([registries("Audit", "docker.io/* | ghcr.io/*"), signatures("Audit", [{ name: "upstream-flux", verifyImages: [verify("Audit", ["ghcr.io/fluxcd/*"], [flux])] }])]), []);
    });

    it("fails a cluster with Kyverno policies but no signature policy", async () => {
        await fails([registries("Enforce", "harbor.example.com/*")], /without the verify-image-signatures ClusterPolicy/);
    });

    it("fails audited signatures or an open webhook while the cluster enforces", async () => {
        const [reg] = good("Enforce");
        await fails([reg, signatures("Enforce", [{ name: "tenant-registry-1", verifyImages: [verify("Audit", ["harbor.example.com/*"], [{ keys: { publicKeys: KEY } }])] }])], /tenant-registry-1 is Audit while the cluster's other policies enforce/);
        await fails([reg, signatures("Enforce", [{ name: "tenant-registry-1", verifyImages: [verify("Enforce", ["harbor.example.com/*"], [{ keys: { publicKeys: KEY } }])] }], "Ignore")], /lets Pods in when Kyverno cannot answer \(failurePolicy Ignore\)/);
    });

    it("fails an allowed registry without signers while enforcing", async () => {
        const resources = [registries("Enforce", "harbor.example.com/* | docker.io/*"), good("Enforce")[1]];
        assert.deepEqual(await messages(resources), [`${PROVIDER}: tenants may pull from docker.io/ but no signer is configured for it (addons.kyverno.imageSignatures.tenants)`]);
    });

    it("fails signers that name no one: no subject, a match-all subject, no issuer, no key, none at all, not required", async () => {
        const reg = registries("Audit", "ghcr.io/*");
        const one = (entries: Raw[], extra: Raw = {}) => [reg, signatures("Audit", [{ name: "r", verifyImages: [verify("Audit", ["ghcr.io/*"], entries, extra)] }])];
        await fails(one([{ keyless: { issuer: "https://token.actions.githubusercontent.com" } }]), /without a subject/);
        await fails(one([{ keyless: { issuer: "https://token.actions.githubusercontent.com", subjectRegExp: ".*" } }]), /subject \.\* matches anyone/);
        await fails(one([{ keyless: { subjectRegExp: "^https://github\\.com/x/.+$" } }]), /without an issuer/);
        await fails(one([{ keys: {} }]), /neither a keyless identity nor a key/);
        await fails(one([]), /r names no signer/);
        await fails(one([flux], { required: false }), /r does not require a signature/);
        await fails([reg, signatures("Audit", [])], /verifies nothing/);
    });

    it("judges each cluster by its own policies", async () => {
        const other = "urn:pulumi:s::platform::pulumi:providers:kubernetes::c2";
        const found = await messages([...good("Enforce"), policy("pod-security", { rules: [{ name: "restricted", validate: { failureAction: "Enforce" } }] }, other)]);
        assert.deepEqual(found, [`${other}: Kyverno runs without the verify-image-signatures ClusterPolicy: no image's signature is checked`]);
    });
});
