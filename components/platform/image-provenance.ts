/**
 * Image provenance: the `verify-image-signatures` ClusterPolicy (Kyverno `verifyImages`).
 *
 * - The platform's images are admitted only when signed by their upstream's release identity,
 *   where the upstream signs (UPSTREAM_SIGNERS below: which of our eight do, with the evidence).
 * - Tenants' images from a registry in `addons.kyverno.imageSignatures.tenants` are admitted
 *   only when signed by one of that registry's configured signers (a company Harbor and its
 *   cosign key, or a CI's keyless identity). restrict-registries keeps every other registry out.
 *
 * Pure: no Pulumi. kyverno.ts turns the rules into the ClusterPolicy; the failure action is
 * Kyverno's (Audit in staging and while restoring, Enforce in production).
 */
import { z } from "zod";
import type { AddonKey } from "./addons";

/** GitHub Actions' OIDC issuer: every keyless upstream below signs from a release workflow. */
export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";
/** The public Sigstore transparency log keyless signatures are recorded in. */
export const PUBLIC_REKOR = "https://rekor.sigstore.dev";

/**
 * `Cosign`: the legacy `sha256-<digest>.sig` tag; `SigstoreBundle`: cosign v3's default, a
 * bundle attached as an OCI referrer. Kyverno's ClusterPolicy verifier reads only the format it is told.
 */
export type SignatureFormat = "Cosign" | "SigstoreBundle";

interface UpstreamRelease {
    /** The add-on whose chart deploys these images. */
    readonly addon: AddonKey;
    /** Rule name suffix, unique. */
    readonly name: string;
    /** Kyverno image patterns (matched against the normalised reference: `docker.io/` added). */
    readonly images: readonly string[];
    /** Where the signatures live, when not next to the image (COSIGN_REPOSITORY). */
    readonly signatureRepository?: string;
    readonly format: SignatureFormat;
    /** Where we read that this upstream signs, and how (kept with the code it justifies). */
    readonly evidence: string;
}

/**
 * Who signs: a release workflow keylessly (its certificate subject, a Go regexp, anchored), or
 * a static key (the upstream's PEM public key and the digest its signatures use; not in Rekor).
 */
type UpstreamIdentity =
    | { readonly subjectRegExp: string; readonly publicKey?: undefined }
    | { readonly publicKey: { readonly pem: string; readonly signatureAlgorithm: "sha256" | "sha512" }; readonly subjectRegExp?: undefined };

export type UpstreamSigner = UpstreamRelease & UpstreamIdentity;

/**
 * cert-manager's release signing key (RSA 4096, held in Google Cloud KMS; images since v1.8.0
 * are signed with it, sha512, without a transparency-log entry). Served at
 * https://cert-manager.io/public-keys/cert-manager-pubkey-2021-09-20.pem; copied from the
 * website's source, cert-manager/website static/public-keys/cert-manager-pubkey-2021-09-20.pem
 * (commit 1fe9d923d1c427c2de1ea1bd91cadc8088dfc6a2). A new key would get a new dated file there.
 */
export const CERT_MANAGER_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAsZZKaaIRjOpzbiWYIDKO
yry9XGBqAfve1iOGmt5VO1jpjNoEseT6zewozHfWTM7osxayy2WjN8G+QV39MlT3
Vxo91/31g+Zcq8KcvxG+iB8GRaD9pNgLmghorv+eYDiPYMO/+fhsLImyG5WEoPct
MeCBD7umZ/A2t96U9DQxVDqQbTHlsNludno1p1wsgRnfUM3QHexNljDvJg5FcDMo
dCpVLpRNvbw0lbJVfybJ4siJ5o/MmXzy0QCJpw+yMIqvqMc8qgKJ1yooJtuTVF4t
4/luP+EG/oVIiSWCFeRMqYdbJ3R+CJi+4LN7vFNYQM1Q/NwOB52RteaR7wnqmcBz
qSYK32MM8xdPCQ5tioWwnPTRbPZuzsZsRmJsKBO9JUrBYdDntZX1xY5g4QNSufxi
QgJgJSU7E4VGMvagEzB1JzvOr6A/qNFCO1Z6JsA3jw3cJLV1rSHfxqfSXBACTLDf
6bOPWRILRKydTJA6uLKNKmo1/nFm3jvd5tHKOjy4VAQLJ/Vx9wBsAAiLa+06veun
Oz3AJ9sNh3wLp21RL11u9TuOKRBipE/TYsBYp8jpIyWPXDSV+JcD/TZqoT8y0Z6S
0damfUmspuK9DTQFL2crpeaqJSG9RA+OuPZLxGD1IMURTsPJB7kXhPtmceeirBnw
sVcRHHDitVt8oO/x4Wus1c0CAwEAAQ==
-----END PUBLIC KEY-----
`;

/**
 * The upstreams that sign, at our chart pins (versions.ts): keylessly, or (cert-manager) with
 * a static key. Unsigned at our pins, so admitted on the chart pin alone: Envoy Gateway v1.9.0
 * and Envoy (release.yaml has no cosign step), Velero v1.18.1 and its plugins v1.14.2 (no
 * cosign anywhere in their workflows), Prometheus, Alertmanager, node-exporter, Grafana,
 * k8s-sidecar, kube-webhook-certgen.
 */
export const UPSTREAM_SIGNERS: readonly UpstreamSigner[] = [
    {
        addon: "certManager",
        name: "cert-manager",
        images: ["quay.io/jetstack/cert-manager-*"],
        publicKey: { pem: CERT_MANAGER_PUBLIC_KEY, signatureAlgorithm: "sha512" },
        format: "Cosign",
        evidence: "cert-manager.io docs/installation/code-signing: every image since v1.8.0 verifies with `cosign verify --signature-digest-algorithm sha512 --insecure-ignore-tlog --key cert-manager-pubkey-2021-09-20.pem quay.io/jetstack/cert-manager-<component>:<tag>` (acmesolver, cainjector, controller, startupapicheck, webhook)",
    },
    {
        addon: "flux",
        name: "flux",
        images: ["ghcr.io/fluxcd/*"],
        // A reusable workflow signs, so the SAN is fluxcd/gha-workflows', not the controller repository's.
        subjectRegExp: "^https://github\\.com/fluxcd/.+$",
        format: "Cosign",
        evidence: "fluxcd/gha-workflows controller-release.yaml 'Sign images' (cosign v2.6.1 sign --yes ghcr.io/<owner>/<controller>@<digest>); flux2 chart 2.18.3 values: ghcr.io/fluxcd/*",
    },
    {
        addon: "externalSecrets",
        name: "external-secrets",
        images: ["ghcr.io/external-secrets/*"],
        subjectRegExp: "^https://github\\.com/external-secrets/external-secrets/\\.github/workflows/release\\.yml@refs/heads/.+$",
        format: "Cosign",
        evidence: "external-secrets .github/actions/sign/action.yml (cosign v1.13.6 sign <image>@<digest>, from release.yml's workflow_dispatch); docs/guides/security-best-practices.md names that subject and issuer",
    },
    {
        addon: "falco",
        name: "falco",
        images: ["docker.io/falcosecurity/falco:*", "docker.io/falcosecurity/falco-no-driver:*", "docker.io/falcosecurity/falco-distroless:*", "docker.io/falcosecurity/falco-driver-loader:*"],
        subjectRegExp: "^https://github\\.com/falcosecurity/falco/\\.github/workflows/.+@refs/tags/.+$",
        format: "SigstoreBundle",
        evidence: "falcosecurity/falco reusable_publish_docker.yaml 'Sign images with cosign' (called from release.yaml with sign: true); falcosecurity moved to cosign v3 bundles in Oct 2025 (falcoctl#893)",
    },
    {
        addon: "falco",
        name: "falcoctl",
        images: ["docker.io/falcosecurity/falcoctl:*"],
        subjectRegExp: "^https://github\\.com/falcosecurity/falcoctl/\\.github/workflows/.+$",
        format: "SigstoreBundle",
        evidence: "falcosecurity/falcoctl release.yaml -> docker-image.yaml with 'id-token: write # needed for signing the images'",
    },
    {
        addon: "monitoring",
        name: "prometheus-operator",
        images: ["quay.io/prometheus-operator/*"],
        subjectRegExp: "^https://github\\.com/prometheus-operator/prometheus-operator/\\.github/workflows/publish\\.yaml@refs/tags/v.+$",
        format: "SigstoreBundle",
        evidence: "prometheus-operator v0.93.1 .github/workflows/publish.yaml ('id-token: write # needed to sign images with cosign', cosign-installer v4.1.2 = cosign v3); maintainers' verify command in prometheus-operator#6130",
    },
    {
        addon: "kyverno",
        name: "kyverno",
        images: ["reg.kyverno.io/kyverno/*", "ghcr.io/kyverno/*"],
        subjectRegExp: "^https://github\\.com/kyverno/kyverno/\\.github/workflows/release\\.yaml@refs/tags/v.+$",
        signatureRepository: "ghcr.io/kyverno/signatures",
        format: "SigstoreBundle",
        evidence: "kyverno v1.19.0 .github/workflows/release.yaml (signature-repository ghcr.io/kyverno/signatures) and .github/actions/image/publish (cosign sign --yes, cosign-installer v4.1.0 = cosign v3)",
    },
];

/** One tenant registry and who may sign its images (`addons.kyverno.imageSignatures.tenants[]`). */
export interface TenantRegistrySigners {
    readonly registry: string;
    readonly publicKeys: readonly string[];
    readonly keyless: readonly { readonly issuer: string; readonly subjectRegExp: string }[];
    /** The signatures are in the public Rekor log; false for a key that signs offline (`--tlog-upload=false`). */
    readonly transparencyLog: boolean;
}

export interface ImageSignatureSettings {
    readonly platform: boolean;
    readonly tenants: readonly TenantRegistrySigners[];
}

export type FailureAction = "Audit" | "Enforce";

/** Registry prefixes end in "/", so `ghcr.io` cannot be satisfied by `ghcr.io.evil.example/`. */
export const asPrefix = (registry: string) => (registry.endsWith("/") ? registry : `${registry}/`);

const keylessEntry = (issuer: string, subjectRegExp: string) => ({ keyless: { issuer, subjectRegExp, rekor: { url: PUBLIC_REKOR } } });

function keyEntry(publicKeys: string, transparencyLog: boolean) {
    const offline = transparencyLog ? {} : { rekor: { ignoreTlog: true, url: PUBLIC_REKOR }, ctlog: { ignoreSCT: true } };
    return { keys: { publicKeys, ...offline } };
}

/**
 * One verifyImages entry. Enforce pins the verified digest into the Pod (mutateDigest), so the
 * kubelet pulls what was verified, not what the tag points to later; Kyverno refuses
 * mutateDigest with Audit, where nothing is changed.
 */
function verification(action: FailureAction, imageReferences: readonly string[], entries: Record<string, unknown>[], format: SignatureFormat = "Cosign") {
    const enforce = action === "Enforce";
    return {
        type: format,
        failureAction: action,
        imageReferences: [...imageReferences],
        // Any one signer suffices (count 1): a registry may have a key and a CI identity.
        attestors: [{ count: 1, entries }],
        required: true,
        mutateDigest: enforce,
        verifyDigest: enforce,
    };
}

/**
 * The rules of `verify-image-signatures`: one per signing upstream (on every namespace the
 * webhook sees: a Flux image anywhere must carry Flux's signature) and one per tenant registry.
 * `excluded`: namespaces no rule applies to (Kubernetes' own and Kyverno's, which cannot vouch
 * for itself: a failed check would keep Kyverno from starting).
 */
export function imageSignatureRules(settings: ImageSignatureSettings, excluded: readonly string[], action: FailureAction): Record<string, unknown>[] {
    const rule = (name: string, verifyImages: Record<string, unknown>[]) => ({
        name,
        match: { any: [{ resources: { kinds: ["Pod"] } }] },
        exclude: { any: [{ resources: { namespaces: [...excluded] } }] },
        verifyImages,
    });
    const platform = settings.platform
        ? UPSTREAM_SIGNERS.map((u) => {
              const signer = u.publicKey ? { ...keyEntry(u.publicKey.pem, false), signatureAlgorithm: u.publicKey.signatureAlgorithm } : keylessEntry(GITHUB_ACTIONS_ISSUER, u.subjectRegExp);
              const entry = { ...signer, ...(u.signatureRepository ? { repository: u.signatureRepository } : {}) };
              return rule(`upstream-${u.name}`, [verification(action, u.images, [entry], u.format)]);
          })
        : [];
    const tenants = settings.tenants.map((t, i) =>
        rule(`tenant-registry-${i + 1}`, [
            verification(action, [`${asPrefix(t.registry)}*`], [...t.publicKeys.map((pem) => keyEntry(pem, t.transparencyLog)), ...t.keyless.map((k) => keylessEntry(k.issuer, k.subjectRegExp))]),
        ]),
    );
    return [...platform, ...tenants];
}

const PEM = /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----\n?$/;

/** `addons.kyverno.imageSignatures`: who must have signed the images Pods run. */
export const imageSignatureSettings = z
    .strictObject({
        /** Verify the platform's images against their upstreams' release identities (UPSTREAM_SIGNERS). */
        platform: z.boolean().default(true),
        /** Tenant registries whose images must be signed, each with its signers (any one suffices). */
        tenants: z
            .array(
                z
                    .strictObject({
                        /** A registry prefix, one of `allowedRegistries` (e.g. `harbor.example.com/`). */
                        registry: z.string().min(1),
                        /** cosign public keys (PEM). */
                        publicKeys: z.array(z.string().regex(PEM, "must be a PEM public key (-----BEGIN PUBLIC KEY----- ...)")).default([]),
                        /** Keyless signers: OIDC issuer and certificate subject (a Go regexp). */
                        keyless: z.array(z.strictObject({ issuer: z.string().regex(/^https:\/\/\S+$/, "must be an https:// URL"), subjectRegExp: z.string().min(1) })).default([]),
                        /** Signatures are in the public Rekor log; false for a key that signs offline. */
                        transparencyLog: z.boolean().default(true),
                    })
                    .refine((t) => t.publicKeys.length + t.keyless.length > 0, { message: "needs at least one signer: publicKeys or keyless", path: ["publicKeys"] }),
            )
            .default([]),
    })
    .prefault({});

/** Each signed tenant registry is an allowed one: otherwise restrict-registries refuses its images anyway. */
export function unlistedSignedRegistries(kyverno: { readonly allowedRegistries: readonly string[]; readonly imageSignatures: ImageSignatureSettings }): number[] {
    const allowed = new Set(kyverno.allowedRegistries.map(asPrefix));
    return kyverno.imageSignatures.tenants.flatMap((t, i) => (allowed.has(asPrefix(t.registry)) ? [] : [i]));
}
