/**
 * Image provenance: every cluster that runs Kyverno's policies also verifies image signatures
 * (the verify-image-signatures ClusterPolicy, components/platform/image-provenance.ts) with
 * real signers. Where the cluster enforces its other policies (production; staging, local and
 * a restore audit them: kyvernoFailureAction), signatures are enforced too, refused when
 * Kyverno cannot answer, and every registry tenants may pull from has signers.
 */
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { asList, get, known, PlatformPolicy } from "../util";

const CLUSTER_POLICY = "kubernetes:kyverno.io/v1:ClusterPolicy";
const SIGNATURES = "verify-image-signatures";
const REGISTRIES = "restrict-registries";

const clusterOf = (r: PolicyResource) => r.provider?.urn ?? "";
const nameOf = (r: PolicyResource) => known(() => get(r.props, "metadata.name")) as string | undefined;
const rulesOf = (r: PolicyResource) => asList(known(() => get(r.props, "spec.rules")));

/** What is wrong with one attestor entry: a signer needs an identity (keyless issuer and subject) or a key. */
function attestorProblem(entry: unknown): string | undefined {
    const keyless = get(entry, "keyless");
    if (keyless !== undefined) {
        if (!get(keyless, "issuer") && !get(keyless, "issuerRegExp")) return "a keyless signer without an issuer";
        if (!get(keyless, "subject") && !get(keyless, "subjectRegExp")) return "a keyless signer without a subject (anyone with a certificate from that issuer would pass)";
        const subject = String(get(keyless, "subjectRegExp") ?? get(keyless, "subject"));
        if (/^\^?\.?\*\$?$/.test(subject)) return `a keyless signer whose subject ${subject} matches anyone`;
        return undefined;
    }
    const keys = get(entry, "keys");
    if (keys !== undefined && (get(keys, "publicKeys") || get(keys, "kms") || get(keys, "secret"))) return undefined;
    return "an attestor with neither a keyless identity nor a key";
}

/** The registries restrict-registries admits, from its pattern (`a/* | b/*`). */
function allowedRegistries(policy: PolicyResource | undefined): string[] {
    const rule = policy ? rulesOf(policy)[0] : undefined;
    const pattern = known(() => get(rule, "validate.pattern.spec.containers")) as unknown;
    const image = get(asList(pattern)[0], "image");
    return typeof image === "string" ? image.split(" | ").map((p) => p.replace(/\*$/, "")) : [];
}

export const imageSignaturesVerified: PlatformPolicy<StackValidationPolicy> = {
    name: "image-signatures-verified",
    description: "Clusters running Kyverno verify image signatures (verify-image-signatures) with named signers; where the other policies enforce, so do signatures (failurePolicy Fail), with signers for every registry tenants may pull from.",
    severity: "high",
    remediationSteps: "Keep addons.kyverno.imageSignatures.platform on, list a signer for every allowed registry under imageSignatures.tenants, and leave validationFailureAction at Enforce in production.",
    inspects: [CLUSTER_POLICY],
    validateStack: (args, report) => {
        const policies = args.resources.filter((r) => r.type === CLUSTER_POLICY);
        const clusters = [...new Set(policies.map(clusterOf))];
        for (const cluster of clusters) {
            const here = policies.filter((p) => clusterOf(p) === cluster);
            const signatures = here.find((p) => nameOf(p) === SIGNATURES);
            const where = cluster || "(default provider)";
            if (!signatures) {
                report(`${where}: Kyverno runs without the ${SIGNATURES} ClusterPolicy: no image's signature is checked`, here[0].urn);
                continue;
            }
            const enforcing = here.some((p) => nameOf(p) !== SIGNATURES && rulesOf(p).some((rule) => get(rule, "validate.failureAction") === "Enforce"));
            const failurePolicy = known(() => get(signatures.props, "spec.webhookConfiguration.failurePolicy"));
            const entries = rulesOf(signatures).flatMap((rule) => asList(get(rule, "verifyImages")).map((v) => ({ rule: String(get(rule, "name")), v })));
            if (!entries.length) report(`${where}: ${SIGNATURES} verifies nothing`, signatures.urn);
            for (const { rule, v } of entries) {
                const action = get(v, "failureAction");
                if (enforcing && action !== "Enforce") report(`${where}: ${SIGNATURES}/${rule} is ${action ?? "Audit"} while the cluster's other policies enforce: an unsigned image is only reported`, signatures.urn);
                if (get(v, "required") === false) report(`${where}: ${SIGNATURES}/${rule} does not require a signature`, signatures.urn);
                const attestors = asList(get(v, "attestors")).flatMap((a) => asList(get(a, "entries")));
                if (!attestors.length) report(`${where}: ${SIGNATURES}/${rule} names no signer`, signatures.urn);
                for (const problem of attestors.map(attestorProblem).filter((p) => p !== undefined)) report(`${where}: ${SIGNATURES}/${rule} has ${problem}`, signatures.urn);
            }
            if (!enforcing) continue;
            if (failurePolicy !== "Fail") report(`${where}: ${SIGNATURES} lets Pods in when Kyverno cannot answer (failurePolicy ${failurePolicy ?? "unset"}); set Fail`, signatures.urn);
            const references = entries.flatMap(({ v }) => asList(get(v, "imageReferences")).map(String));
            for (const registry of allowedRegistries(here.find((p) => nameOf(p) === REGISTRIES))) {
                if (!references.includes(`${registry}*`)) report(`${where}: tenants may pull from ${registry} but no signer is configured for it (addons.kyverno.imageSignatures.tenants)`, signatures.urn);
            }
        }
    },
};
