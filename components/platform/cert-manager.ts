/**
 * cert-manager: the gateway's wildcard certificate, and any certificate a tenant asks for.
 * Values checked against the jetstack chart v1.21.1
 * (cert-manager/cert-manager, tag v1.21.1, deploy/charts/cert-manager/values.yaml).
 *
 * With cloud DNS, two ACME ClusterIssuers (Let's Encrypt staging and production) solve
 * DNS-01 in the cluster's zone through an identity that may edit that zone only. Without it
 * (a local cluster), a self-signed root signs a CA that issues: nothing leaves the machine.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WorkloadIdentity } from "../types";
import { AddonContext, addons } from "./addons";
import { AddonArgs, fromRegistry, HelmAddon, requests } from "./helm-addon";

export const CERT_MANAGER_NAMESPACE = addons.certManager.namespace;
const SERVICE_ACCOUNT = "cert-manager";

export const ACME_SERVERS = {
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
    "letsencrypt-prod": "https://acme-v02.api.letsencrypt.org/directory",
} as const;
export type AcmeIssuerName = keyof typeof ACME_SERVERS;
/** The CA issuer of clusters without cloud DNS, and its self-signed root. */
export const LOCAL_CA_ISSUER = "platform-local-ca";
const SELF_SIGNED_ISSUER = "platform-selfsigned";

export interface CertManagerArgs extends AddonArgs {
    /** The cluster's DNS zone (`clusters[].dns.zone`). Default: none, so the local CA issues. */
    readonly dnsZone?: string;
    /** ACME account e-mail (`addons.certManager.acmeEmail`); the schema requires it whenever a cluster has dns. */
    readonly acmeEmail?: string;
    /** The ACME issuer the platform's certificates use (`addons.certManager.issuer`). Default: `letsencrypt-staging`. */
    readonly issuer?: AcmeIssuerName;
}

export class CertManager extends HelmAddon {
    /** The ClusterIssuer the platform's own certificates name, and the resource to wait for. */
    readonly issuer: { readonly name: string; readonly resource: pulumi.Resource };

    constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            name,
            {
                cluster: args.cluster,
                ...fromRegistry(addons.certManager, args),
                identity: args.dnsZone ? { serviceAccount: SERVICE_ACCOUNT, grant: { kind: "dnsZone", zone: args.dnsZone } } : undefined,
                values: (identity) => certManagerValues(args.cluster.environment === "production", identity, args.dnsZone !== undefined, args.charts?.wait ?? true),
            },
            opts,
            "platform:addons:CertManager",
        );
        const solver = args.dnsZone && this.identity ? args.cluster.dns01Solver(args.dnsZone, this.identity) : undefined;
        if (solver) {
            if (!args.acmeEmail) throw new pulumi.ResourceError("addons.certManager.acmeEmail: is required when a cluster has dns (Let's Encrypt account)", this);
            const issuers = Object.fromEntries(
                (Object.keys(ACME_SERVERS) as AcmeIssuerName[]).map((issuer) => [issuer, this.acmeIssuer(issuer, args.acmeEmail!, solver)]),
            );
            const chosen = args.issuer ?? "letsencrypt-staging";
            this.issuer = { name: chosen, resource: issuers[chosen] };
        } else {
            this.issuer = { name: LOCAL_CA_ISSUER, resource: this.localCa() };
        }
        this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status, issuer: this.issuer.name });
    }

    private acmeIssuer(issuer: AcmeIssuerName, email: string, solver: pulumi.Input<Record<string, unknown>>) {
        return this.customResource(issuer, {
            apiVersion: "cert-manager.io/v1",
            kind: "ClusterIssuer",
            metadata: { name: issuer },
            spec: {
                acme: {
                    email,
                    server: ACME_SERVERS[issuer],
                    // The ACME account key lives in cert-manager's namespace (a ClusterIssuer's resource namespace).
                    privateKeySecretRef: { name: `${issuer}-account-key` },
                    solvers: [asSolver(solver)],
                },
            },
        });
    }

    /** Self-signed root -> CA certificate -> CA ClusterIssuer: a chain a browser can be told to trust once. */
    private localCa(): k8s.apiextensions.CustomResource {
        const selfSigned = this.customResource("selfsigned", {
            apiVersion: "cert-manager.io/v1",
            kind: "ClusterIssuer",
            metadata: { name: SELF_SIGNED_ISSUER },
            spec: { selfSigned: {} },
        });
        const ca = this.customResource(
            "local-ca-certificate",
            {
                apiVersion: "cert-manager.io/v1",
                kind: "Certificate",
                metadata: { name: LOCAL_CA_ISSUER, namespace: this.namespace.metadata.name },
                spec: {
                    isCA: true,
                    commonName: "platform local CA",
                    secretName: LOCAL_CA_ISSUER,
                    duration: "87600h",
                    privateKey: { algorithm: "ECDSA", size: 256 },
                    issuerRef: { name: SELF_SIGNED_ISSUER, kind: "ClusterIssuer", group: "cert-manager.io" },
                },
            },
            { dependsOn: [selfSigned] },
        );
        return this.customResource(
            "local-ca",
            { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: LOCAL_CA_ISSUER }, spec: { ca: { secretName: LOCAL_CA_ISSUER } } },
            { dependsOn: [ca] },
        );
    }
}

/** The Platform's entry (addons.ts): cert-manager with the cluster's DNS zone, if it has one. */
export function install(name: string, { cluster, charts, clusterConfig, addons: settings }: AddonContext, _links: object, opts?: pulumi.ComponentResourceOptions): CertManager {
    return new CertManager(name, { cluster, charts, extraValues: settings.certManager.values, dnsZone: clusterConfig.dns?.zone, acmeEmail: settings.certManager.acmeEmail, issuer: settings.certManager.issuer }, opts);
}

/**
 * The contract's `dns01Solver` names a solver; a cloud that hands back only the `dns01`
 * block (`{ route53: ... }`) still gets a valid `solvers` entry.
 */
export function asSolver(solver: pulumi.Input<Record<string, unknown>>): pulumi.Output<Record<string, unknown>> {
    return pulumi.output(solver).apply((s) => ("dns01" in s || "http01" in s ? s : { dns01: s }) as Record<string, unknown>);
}

function certManagerValues(highlyAvailable: boolean, identity: WorkloadIdentity | undefined, dns01: boolean, wait: boolean): Record<string, unknown> {
    // All three elect a leader (the webhook needs none: it is stateless).
    const replicas = highlyAvailable ? 2 : 1;
    return {
        // `crds.enabled` replaced `installCRDs`; `keep` leaves them (and so every Certificate) in place if the release goes.
        crds: { enabled: true, keep: true },
        replicaCount: replicas,
        podDisruptionBudget: { enabled: highlyAvailable },
        resources: requests("50m", "128Mi"),
        webhook: { replicaCount: replicas, podDisruptionBudget: { enabled: highlyAvailable }, resources: requests("20m", "64Mi") },
        // It watches every Secret it injects from: memory grows with their number.
        cainjector: { replicaCount: replicas, podDisruptionBudget: { enabled: highlyAvailable }, resources: requests("20m", "128Mi") },
        // The default is kube-system, which some managed clusters lock down; the lease belongs with the controller.
        global: { leaderElection: { namespace: CERT_MANAGER_NAMESPACE } },
        serviceAccount: { name: SERVICE_ACCOUNT, annotations: identity?.serviceAccountAnnotations ?? {} },
        podLabels: identity?.podLabels ?? {},
        prometheus: { enabled: true },
        // A post-install hook that only waits for the webhook to answer: it goes with `charts.wait`.
        startupapicheck: { enabled: wait, resources: requests("10m", "32Mi") },
        // The DNS-01 self-check asks public resolvers: a private zone of the same name inside the
        // cluster's network would otherwise hide the challenge record and stall every issuance.
        ...(dns01 ? { dns01RecursiveNameservers: "1.1.1.1:53,8.8.8.8:53", dns01RecursiveNameserversOnly: true } : {}),
    };
}
