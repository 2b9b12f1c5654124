/**
 * Envoy Gateway and the shared Gateway on every cluster of every stack that renders: the
 * pinned chart, a GatewayClass with the cloud's load balancer settings, HTTP and HTTPS
 * listeners for the cluster's domain with a wildcard certificate, the HTTPS redirect (and its
 * switch), and request headers up to 96 KiB. Expected values are the and Envoy
 * Gateway's API at the pin envoy-gateway.ts names as checked, not the code's.
 */
import { strict as assert } from "assert";
import { readStackConfig, RenderDocument, renderProgram } from "../scripts/render-program";
import { addonOf, assertCustomResourcesAfterRelease, assertDependsOn, clustersOf, environmentOf, kindNamed, ofKind, Raw, renderStack, STACKS, valuesOf } from "./platform-helpers";
import { addons } from "../components/platform/addons";
import { editedStackFile, loadStackSettings } from "./mocks";

const GATEWAY = "gateway.networking.k8s.io/v1:Gateway";
const ROUTE = "gateway.networking.k8s.io/v1:HTTPRoute";
const domainOf = (cluster: Raw) => cluster.dns?.domain ?? `${cluster.name}.localhost`;
/** The ClusterIssuer the wildcard certificate should name: config's ACME issuer with cloud DNS, the local CA without. */
function expectedIssuer(stack: string, cluster: Raw): string {
    if (!cluster.dns || cluster.cloud === "existing") return "platform-local-ca";
    const configured = (loadStackSettings(stack).addons as Raw | undefined)?.certManager?.issuer;
    return configured ?? (environmentOf(stack) === "production" ? "letsencrypt-prod" : "letsencrypt-staging");
}
/** An annotation key each cloud's load balancer controller reads. */
const LB_ANNOTATION: Record<string, RegExp> = {
    aws: /^service\.beta\.kubernetes\.io\/aws-load-balancer-/,
    azure: /^service\.beta\.kubernetes\.io\/azure-load-balancer-/,
    gcp: /^(cloud\.google\.com|networking\.gke\.io)\//,
};

for (const stack of STACKS) {
    describe(`Envoy Gateway (${stack})`, () => {
        let doc: RenderDocument;
        before(async function () {
            doc = await renderStack(stack);
        });

        it("installs the pinned oci://docker.io/envoyproxy/gateway-helm into gateway-system with EnvoyPatchPolicy enabled", () => {
            for (const cluster of clustersOf(stack)) {
                const { release } = addonOf(doc, cluster.name, "envoy-gateway");
                assert.equal(release.inputs.chart, "oci://docker.io/envoyproxy/gateway-helm");
                assert.equal(release.inputs.version, addons.envoyGateway.chart.version, "the pin (versions.ts, through the registry)");
                assert.equal(release.inputs.repositoryOpts, undefined, "an OCI chart names no repository");
                assert.equal(release.inputs.namespace, "gateway-system");
                assert.equal(valuesOf(release).config.envoyGateway.extensionApis.enableEnvoyPatchPolicy, true);
            }
        });

        it("a GatewayClass for Envoy Gateway's controller, parameterised by an EnvoyProxy with the cloud's load balancer annotations", () => {
            for (const cluster of clustersOf(stack)) {
                const addon = addonOf(doc, cluster.name, "envoy-gateway");
                const spec = kindNamed(addon.children, "gateway.networking.k8s.io/v1:GatewayClass", "envoy-gateway").inputs.spec as Raw;
                assert.equal(spec.controllerName, "gateway.envoyproxy.io/gatewayclass-controller");
                assert.deepEqual(spec.parametersRef, { group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: "platform", namespace: "gateway-system" });
                const proxy = kindNamed(addon.children, "gateway.envoyproxy.io/v1alpha1:EnvoyProxy", "platform");
                assert.equal((proxy.inputs.metadata as Raw).namespace, "gateway-system");
                const service = (proxy.inputs.spec as Raw).provider.kubernetes.envoyService;
                assert.equal(service.type, "LoadBalancer");
                const keys = Object.keys(service.annotations ?? {});
                if (cluster.cloud === "existing") assert.deepEqual(keys, []);
                else assert.ok(keys.some((k) => LB_ANNOTATION[cluster.cloud].test(k)), `${cluster.name}: no ${cluster.cloud} load balancer annotation in ${keys.join(", ")}`);
            }
        });

        it("one Gateway in gateway-system: HTTP and HTTPS listeners for *.<domain>, TLS from the wildcard certificate", () => {
            for (const cluster of clustersOf(stack)) {
                const addon = addonOf(doc, cluster.name, "envoy-gateway");
                const gateways = ofKind(addon.children, GATEWAY);
                assert.equal(gateways.length, 1);
                assert.equal((gateways[0].inputs.metadata as Raw).namespace, "gateway-system");
                const spec = gateways[0].inputs.spec as Raw;
                assert.equal(spec.gatewayClassName, "envoy-gateway");
                const hostname = `*.${domainOf(cluster)}`;
                const [http, https] = spec.listeners;
                assert.deepEqual({ name: http.name, protocol: http.protocol, port: http.port, hostname: http.hostname }, { name: "http", protocol: "HTTP", port: 80, hostname });
                assert.deepEqual({ name: https.name, protocol: https.protocol, port: https.port, hostname: https.hostname }, { name: "https", protocol: "HTTPS", port: 443, hostname });
                assert.deepEqual(https.tls, { mode: "Terminate", certificateRefs: [{ kind: "Secret", group: "", name: "platform-wildcard-tls" }] });
                assert.deepEqual(https.allowedRoutes, { namespaces: { from: "All" } }, "tenants publish on HTTPS");
            }
        });

        it("the Gateway waits for its load balancer's address on clouds, and has no annotations at all on an adopted cluster (the API server drops an empty map: a diff on every preview)", () => {
            for (const cluster of clustersOf(stack)) {
                const [gateway] = ofKind(addonOf(doc, cluster.name, "envoy-gateway").children, GATEWAY);
                const metadata = gateway.inputs.metadata as Raw;
                if (cluster.cloud === "existing") assert.equal("annotations" in metadata, false, `${cluster.name}: ${JSON.stringify(metadata.annotations)}`);
                else assert.deepEqual(metadata.annotations, { "pulumi.com/waitFor": "jsonpath={.status.addresses[0].value}" });
            }
        });

        it("the wildcard certificate comes from cert-manager (DNS-01 or the local CA), after cert-manager and not after Envoy Gateway", () => {
            for (const cluster of clustersOf(stack)) {
                const addon = addonOf(doc, cluster.name, "envoy-gateway");
                const certificate = kindNamed(addon.children, "cert-manager.io/v1:Certificate", "platform-wildcard-tls");
                const spec = certificate.inputs.spec as Raw;
                assert.equal((certificate.inputs.metadata as Raw).namespace, "gateway-system");
                assert.equal(spec.secretName, "platform-wildcard-tls");
                assert.deepEqual(spec.dnsNames, [`*.${domainOf(cluster)}`]);
                assert.deepEqual(spec.issuerRef, { name: expectedIssuer(stack, cluster), kind: "ClusterIssuer", group: "cert-manager.io" });
                const certManager = addonOf(doc, cluster.name, "cert-manager");
                assertDependsOn(certificate, certManager.release);
                assert.ok(!certificate.dependencies.includes(addon.release.urn), "the certificate does not need Envoy Gateway's release");
            }
        });

        it("redirects HTTP to HTTPS with a 301, and only the redirect may bind the HTTP listener", () => {
            for (const cluster of clustersOf(stack)) {
                const addon = addonOf(doc, cluster.name, "envoy-gateway");
                const route = kindNamed(addon.children, ROUTE, "https-redirect").inputs.spec as Raw;
                assert.deepEqual(route.parentRefs, [{ name: "platform", sectionName: "http" }]);
                assert.deepEqual(route.rules, [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }]);
                const http = (ofKind(addon.children, GATEWAY)[0].inputs.spec as Raw).listeners[0];
                assert.deepEqual(http.allowedRoutes, { namespaces: { from: "Same" } });
            }
        });

        it("raises Envoy's max_request_headers_kb to 96 on every listener of the Gateway", () => {
            for (const cluster of clustersOf(stack)) {
                const addon = addonOf(doc, cluster.name, "envoy-gateway");
                const policies = ofKind(addon.children, "gateway.envoyproxy.io/v1alpha1:EnvoyPatchPolicy");
                assert.equal(policies.length, 1);
                const spec = policies[0].inputs.spec as Raw;
                assert.deepEqual(spec.targetRef, { group: "gateway.networking.k8s.io", kind: "Gateway", name: "platform" });
                assert.equal(spec.type, "JSONPatch");
                assert.deepEqual(
                    spec.jsonPatches.map((p: Raw) => p.name),
                    ["gateway-system/platform/http", "gateway-system/platform/https"],
                );
                for (const patch of spec.jsonPatches) {
                    assert.equal(patch.type, "type.googleapis.com/envoy.config.listener.v3.Listener");
                    assert.deepEqual(
                        { op: patch.operation.op, path: patch.operation.path, value: patch.operation.value },
                        { op: "add", path: "/max_request_headers_kb", value: 96 },
                    );
                    assert.match(patch.operation.jsonPath, /envoy\.filters\.network\.http_connection_manager/);
                }
            }
        });

        it("every Gateway API and Envoy Gateway resource waits for the release that installs the CRDs", () => {
            for (const cluster of clustersOf(stack)) {
                assertCustomResourcesAfterRelease(addonOf(doc, cluster.name, "envoy-gateway"), /^kubernetes:gateway\.(networking\.k8s\.io|envoyproxy\.io)\//, [
                    "EnvoyProxy/platform",
                    "GatewayClass/envoy-gateway",
                    "Gateway/platform",
                    "HTTPRoute/https-redirect",
                    "EnvoyPatchPolicy/max-request-headers",
                ]);
            }
        });
    });
}

describe("Envoy Gateway with addons.envoyGateway.httpsRedirect: false (local)", () => {
    let doc: RenderDocument;
    before(async () => {
        const file = editedStackFile("local", (s) => {
            s.addons = { ...(s.addons as Raw), envoyGateway: { httpsRedirect: false } };
        });
        doc = await renderProgram("local", readStackConfig(file));
    });

    it("has no redirect route, and routes from any namespace may bind plain HTTP", () => {
        const addon = addonOf(doc, "local-kind", "envoy-gateway");
        assert.equal(ofKind(addon.children, ROUTE).length, 0);
        const http = (ofKind(addon.children, GATEWAY)[0].inputs.spec as Raw).listeners[0];
        assert.deepEqual(http.allowedRoutes, { namespaces: { from: "All" } });
    });
});
