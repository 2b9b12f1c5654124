/**
 * Envoy Gateway and the one shared Gateway every service of the cluster is published on.
 * Values and APIs checked against Envoy Gateway v1.9.0 (envoyproxy/gateway, tag v1.9.0:
 * charts/gateway-helm/values.tmpl.yaml, api/v1alpha1/{envoyproxy,envoypatchpolicy,clienttrafficpolicy}_types.go).
 *
 * The maximum request header size (the fix for HTTP 431 with large cookies or tokens): Envoy's
 * `max_request_headers_kb` (default 60) has no field in v1.9.0's ClientTrafficPolicy: not
 * `headers` (no size field) and not `connection.bufferLimit` (the translator maps it to the
 * listener's per-connection buffer only). `headers.maxRequestHeaderLimit` landed after v1.9.0
 * (envoyproxy/gateway#9623). Until the pin includes it, an EnvoyPatchPolicy sets the value on
 * the gateway's HTTP connection managers; see docs/platform.md for the swap.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddonContext, addons } from "./addons";
import { AddonArgs, fromRegistry, HelmAddon, requests } from "./helm-addon";

export const GATEWAY_NAMESPACE = addons.envoyGateway.namespace;
export const GATEWAY_NAME = "platform";
export const GATEWAY_CLASS = "envoy-gateway";
export const CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller";
export const TLS_SECRET = "platform-wildcard-tls";
export const MAX_REQUEST_HEADERS_KB = 96;

export interface EnvoyGatewayArgs extends AddonArgs {
    /** The domain the Gateway serves as `*.<domain>` (`clusters[].dns.domain`, or a local one). */
    readonly domain: string;
    /** Redirect plain HTTP to HTTPS (`addons.envoyGateway.httpsRedirect`). Default: true. */
    readonly httpsRedirect?: boolean;
    /** The wildcard certificate's issuer; without one the Gateway listens on HTTP only. Default: none. */
    readonly tls?: {
        readonly issuerName: string;
        /** What the Certificate waits for: cert-manager's release (its CRD) and the issuer. */
        readonly after: pulumi.Resource[];
    };
}

export class EnvoyGateway extends HelmAddon {
    readonly gateway: k8s.apiextensions.CustomResource;
    /** The load balancer's address once the cloud assigned it. */
    readonly address: pulumi.Output<string | undefined>;

    constructor(name: string, args: EnvoyGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        const replicas = args.cluster.environment === "local" ? 1 : 2;
        super(
            name,
            {
                cluster: args.cluster,
                ...fromRegistry(addons.envoyGateway, args),
                values: () => ({
                    // The controller elects a leader; the proxies it creates get their requests from its defaults (100m/512Mi).
                    deployment: { replicas, envoyGateway: { resources: requests("100m", "256Mi") } },
                    podDisruptionBudget: { minAvailable: replicas > 1 ? 1 : 0 },
                    // The pre-install/upgrade hook that writes the controller's and proxies' TLS certificates.
                    certgen: { job: { resources: requests("10m", "32Mi") } },
                    config: { envoyGateway: { extensionApis: { enableEnvoyPatchPolicy: true } } },
                }),
            },
            opts,
            "platform:addons:EnvoyGateway",
        );
        const redirect = args.tls !== undefined && (args.httpsRedirect ?? true);
        const hostname = `*.${args.domain}`;
        const namespace = this.namespace.metadata.name;

        const proxy = this.customResource("proxy", {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "EnvoyProxy",
            metadata: { name: GATEWAY_NAME, namespace },
            spec: {
                provider: {
                    type: "Kubernetes",
                    kubernetes: {
                        envoyService: { type: "LoadBalancer", externalTrafficPolicy: "Local", annotations: args.cluster.gatewayServiceAnnotations() },
                        envoyDeployment: { replicas },
                        ...(replicas > 1 ? { envoyPDB: { minAvailable: 1 } } : {}),
                    },
                },
            },
        });
        const gatewayClass = this.customResource(
            "class",
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "GatewayClass",
                metadata: { name: GATEWAY_CLASS },
                spec: {
                    controllerName: CONTROLLER_NAME,
                    parametersRef: { group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: GATEWAY_NAME, namespace: GATEWAY_NAMESPACE },
                },
            },
            { dependsOn: [proxy] },
        );

        if (args.tls) {
            // Not customResource(): the certificate needs cert-manager, not Envoy Gateway's release.
            new k8s.apiextensions.CustomResource(
                `${name}-certificate`,
                {
                    apiVersion: "cert-manager.io/v1",
                    kind: "Certificate",
                    metadata: { name: TLS_SECRET, namespace },
                    spec: {
                        secretName: TLS_SECRET,
                        dnsNames: [hostname],
                        issuerRef: { name: args.tls.issuerName, kind: "ClusterIssuer", group: "cert-manager.io" },
                        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
                    },
                },
                { parent: this, dependsOn: args.tls.after },
            );
        }

        const listeners = [
            // With the redirect on, only the redirect route may bind plain HTTP: a tenant's route
            // attached to it would serve its hostname unencrypted.
            { name: "http", protocol: "HTTP", port: 80, hostname, allowedRoutes: { namespaces: { from: redirect ? "Same" : "All" } } },
            ...(args.tls
                ? [
                      {
                          name: "https",
                          protocol: "HTTPS",
                          port: 443,
                          hostname,
                          tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", group: "", name: TLS_SECRET }] },
                          allowedRoutes: { namespaces: { from: "All" } },
                      },
                  ]
                : []),
        ];
        this.gateway = this.customResource(
            "gateway",
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "Gateway",
                metadata: {
                    name: GATEWAY_NAME,
                    namespace,
                    // Wait for the load balancer's address only where one is always provisioned. No
                    // annotations at all otherwise: the API server drops an empty map, and `{}` would
                    // then be a diff on every preview.
                    ...(args.cluster.provisionsLoadBalancers ? { annotations: { "pulumi.com/waitFor": "jsonpath={.status.addresses[0].value}" } } : {}),
                },
                spec: { gatewayClassName: GATEWAY_CLASS, listeners },
                // Declares `status` as an output (undefined inputs are not sent) so the address can be read.
                status: undefined,
            },
            { dependsOn: [gatewayClass] },
        );
        const status = (this.gateway as unknown as { status: pulumi.Output<{ addresses?: { value?: string }[] } | undefined> }).status;
        this.address = status.apply((s) => s?.addresses?.[0]?.value);

        this.customResource(
            "header-limit",
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "EnvoyPatchPolicy",
                metadata: { name: "max-request-headers", namespace },
                spec: {
                    targetRef: { group: "gateway.networking.k8s.io", kind: "Gateway", name: GATEWAY_NAME },
                    type: "JSONPatch",
                    jsonPatches: listeners.map((listener) => ({
                        type: "type.googleapis.com/envoy.config.listener.v3.Listener",
                        // v1.9.0 names a listener <gateway namespace>/<gateway>/<listener>.
                        name: `${GATEWAY_NAMESPACE}/${GATEWAY_NAME}/${listener.name}`,
                        operation: {
                            op: "add",
                            // Every HTTP connection manager of the listener, in its filter chains or default chain.
                            jsonPath: "..filters[?(@.name=='envoy.filters.network.http_connection_manager')].typed_config",
                            path: "/max_request_headers_kb",
                            value: MAX_REQUEST_HEADERS_KB,
                        },
                    })),
                },
            },
            { dependsOn: [this.gateway] },
        );

        if (redirect) {
            this.customResource(
                "https-redirect",
                {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata: { name: "https-redirect", namespace },
                    spec: {
                        parentRefs: [{ name: GATEWAY_NAME, sectionName: "http" }],
                        rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
                    },
                },
                { dependsOn: [this.gateway] },
            );
        }
        this.registerOutputs({ namespace, release: this.release.status, address: this.address });
    }
}

/** What the gateway takes from another add-on (platform/index.ts): cert-manager's issuer for its certificate. */
export interface EnvoyGatewayLinks {
    readonly tls?: EnvoyGatewayArgs["tls"];
}

/** The Platform's entry (addons.ts): the gateway on the cluster's domain. */
export function install(name: string, { cluster, charts, addons: settings, domain }: AddonContext, links: EnvoyGatewayLinks, opts?: pulumi.ComponentResourceOptions): EnvoyGateway {
    return new EnvoyGateway(name, { cluster, charts, extraValues: settings.envoyGateway.values, domain, httpsRedirect: settings.envoyGateway.httpsRedirect, tls: links.tls }, opts);
}
