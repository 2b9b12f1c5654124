/**
 * The platform tier (`npm run test:integration:platform`): the add-ons' real controllers,
 * built by scripts/bootstrap-tools.sh, run as host processes against a real API server on
 * 127.0.0.1 and act on what the platform creates. No kubelet: the charts' workloads are API
 * objects only, and the controllers run beside them (docs/integration.md says which run and
 * which cannot, and why).
 */
import * as fs from "fs";
import * as path from "path";
import { parseCommandLine } from "../cli";
import { LOCAL_CA_ISSUER } from "../../components/platform/cert-manager";
import { GATEWAY_CLASS, GATEWAY_NAME } from "../../components/platform/envoy-gateway";
import * as certManager from "./cert-manager-tier";
import { ControlPlane, freePort, startControlPlane } from "./control-plane";
import { assert, BIN, createPlatformStack, makeWorkDirs, pulumiCommand, requireTools, stopOnSignals, TOOLS, useEngineEnvironment } from "./engine";
import { ChartHooks } from "./chart-hooks";
import { checkFluxLockdown } from "./flux-lockdown";
import { HostProcesses } from "./host-processes";
import * as envoyGateway from "./envoy-gateway-tier";
import * as externalSecrets from "./external-secrets-tier";
import * as kyverno from "./kyverno-tier";
import * as monitoring from "./monitoring-tier";
import * as prometheusOperator from "./monitoring-operator";
import { phase, printOutput, say, summary } from "./phases";
import { platformTierConfig, platformTierRestoreConfig, platformTierSecretsConfig } from "./stack-config";
import { kyvernoHooks, leftoverKyvernoWebhooks } from "./tier-hooks";

const STACK = "platform-tier";
const CHARTS = path.join(TOOLS, "charts");

const USAGE = `usage: npm run test:integration:platform

The platform tier: a real kube-apiserver on 127.0.0.1 and the add-ons' controllers from
.tools/bin (bash scripts/bootstrap-tools.sh first) as host processes; checks that they act
on what the platform creates (docs/integration.md). No arguments.
`;

const CONTROLLERS = ["cert-manager-controller", "cert-manager-webhook", "cert-manager-cainjector", "source-controller", "kustomize-controller", "flux-source-crds.yaml", "flux-kustomize-crds.yaml", "kyverno", "external-secrets", externalSecrets.CRDS, "envoy-gateway", "prometheus-operator"];
const TENANT = "team-alpha";

async function main() {
    parseCommandLine("integration-platform", USAGE, { options: {} });
    requireTools(CONTROLLERS);
    for (const chart of ["cert-manager", "gateway-helm", "kyverno", "velero", "kube-prometheus-stack"]) assert(fs.existsSync(path.join(CHARTS, chart, "Chart.yaml")), `${CHARTS}/${chart} is missing: run bash scripts/bootstrap-tools.sh first`);
    const dirs = makeWorkDirs("platform-tier-");
    const work = dirs.work;
    say(`work directory: ${work}`);
    useEngineEnvironment(dirs, "integration");

    let plane: ControlPlane | undefined;
    const controllers = new HostProcesses(work, say);
    stopOnSignals(async () => {
        await controllers.stopAll();
        await plane?.stop();
    }, work);

    let failed = false;
    try {
        const cp = await phase("control plane on 127.0.0.1, webhooks reached at their Services' endpoints", async () => {
            // Webhook calls go to the endpoints the tier writes (cert-manager-tier.ts), not to ClusterIPs, which nothing serves here.
            plane = await startControlPlane(dirs.cluster, BIN, say, ["--enable-aggregator-routing=true"]);
            return plane;
        });
        const command = await pulumiCommand();
        await phase("cert-manager webhook + CA injector as host processes, behind the webhook Service's endpoints", async () => {
            const ip = await certManager.startWebhook(cp, BIN, controllers, await freePort(), [await freePort()], work);
            say(`webhook on ${ip}`);
        });
        let grafanaPassword = "";
        const stack = await phase(`pulumi up: stack ${STACK} (local, cert-manager, Envoy Gateway, Kyverno and kube-prometheus-stack on from ${CHARTS}, charts.wait false; their certgen hooks done here)`, async () => {
            const { stack: s, stackFile } = await createPlatformStack(STACK, dirs, command, platformTierConfig(cp.kubeconfig, cp.context, CHARTS));
            grafanaPassword = await monitoring.setGrafanaPassword(s, stackFile);
            const hooks = new ChartHooks(cp, [envoyGateway.certgenHook(cp, BIN, "gateway-helm-certgen"), ...monitoring.admissionHooks(cp, work)], say);
            hooks.start();
            const up = await s.up({ onOutput: printOutput, color: "never" }).finally(() => hooks.stop());
            assert(up.summary.result === "succeeded", `up: ${up.summary.result}`);
            say(`resource changes: ${JSON.stringify(up.summary.resourceChanges)}`);
            return s;
        });
        await phase("cert-manager controller: the program's local CA issues a tenant certificate; the chart's webhook rejects a bad one", async () => {
            certManager.startController(cp, BIN, controllers);
            await certManager.checkIssuance(cp, controllers, LOCAL_CA_ISSUER, TENANT, work, say);
        });
        await phase("Envoy Gateway controller (host process): the program's GatewayClass, Gateway, route and header-size EnvoyPatchPolicy Accepted", async () => {
            envoyGateway.startController(cp, BIN, controllers, work);
            await envoyGateway.checkAccepted(cp, controllers, GATEWAY_CLASS, GATEWAY_NAME, say);
        });
        await phase("kube-prometheus-stack: the program's PodMonitors (each selecting its add-on's pods) and PrometheusRule on the chart's CRDs; its admission hooks' certificate and caBundle", () =>
            monitoring.checkObjects(cp, grafanaPassword, work, say),
        );
        await phase("prometheus-operator (host process, its webhook behind the operator Service's endpoints): PrometheusRules validated; the chart's Prometheus configured with a scrape job per PodMonitor and platform-alerts", async () => {
            const port = await freePort();
            try {
                const at = await prometheusOperator.startOperator(cp, BIN, controllers, port, work);
                prometheusOperator.checkWebhook(cp, controllers, at, port, work, say);
                await prometheusOperator.checkGeneratedConfig(cp, controllers, say);
            } finally {
                await controllers.stop(prometheusOperator.PROCESS).catch(() => undefined);
            }
        });
        const kyvernoPort = await freePort();
        await phase("Kyverno admission controller (host process, webhooks by URL): the program's policies refuse a non-compliant tenant pod, admit a compliant one", async () => {
            kyverno.startAdmissionController(cp, BIN, controllers, kyvernoPort, work);
            await kyverno.waitForPodWebhook(cp, controllers, kyvernoPort, "fail", TENANT, work);
            kyverno.checkEnforced(cp, TENANT, certManager.NAMESPACE, work, say);
        });
        await phase("pulumi preview --expect-no-changes after up, the controllers running", async () => {
            const preview = await stack.preview({ expectNoChanges: true, diff: true, onOutput: printOutput, color: "never" });
            say(`preview: ${JSON.stringify(preview.changeSummary)}`);
        });
        await phase("Kyverno while restoring: the render with the cluster's restore block audits; the same pod is admitted and reported", async () => {
            const policies = kyverno.renderedClusterPolicies(platformTierRestoreConfig(cp.kubeconfig, cp.context, CHARTS), work);
            await kyverno.checkAuditWhileRestoring(cp, controllers, kyvernoPort, policies, TENANT, work, say);
        });
        await phase("External Secrets operator (host process, no webhook): a tenant secret synced through the tenant's own SecretStore; the platform's store refuses the tenant", async () => {
            cp.kubectl("apply", "--server-side", "-f", path.join(BIN, externalSecrets.CRDS));
            cp.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/secretstores.external-secrets.io", "crd/externalsecrets.external-secrets.io", "crd/clustersecretstores.external-secrets.io");
            const objects = externalSecrets.renderedSecretObjects(platformTierSecretsConfig(cp.kubeconfig, cp.context, CHARTS), TENANT, work);
            const address = externalSecrets.relayAddress();
            const relay = await externalSecrets.startRelay(cp, address);
            try {
                externalSecrets.startOperator(cp, BIN, controllers, work, address);
                await externalSecrets.checkTenantSync(cp, controllers, objects, TENANT, work, say);
            } finally {
                await controllers.stop(externalSecrets.PROCESS).catch(() => undefined);
                relay.close();
            }
        });
        await phase("Flux lockdown on real source-controller + kustomize-controller (the program's flux2 values)", () => checkFluxLockdown(cp, BIN, work, say, freePort));
        await phase("pulumi destroy --yes (the charts' pre-delete hooks handled on this machine)", async () => {
            // The tenant's certificate is the tier's, not the program's: removed first so the namespace can go.
            cp.kubectl("delete", "certificate", "-n", TENANT, "app-tls", "--ignore-not-found");
            const hooks = new ChartHooks(cp, kyvernoHooks(cp, () => controllers.stop(kyverno.PROCESS)), say);
            hooks.start();
            const destroy = await stack.destroy({ onOutput: printOutput, color: "never" }).finally(() => hooks.stop());
            assert(destroy.summary.result === "succeeded", `destroy: ${destroy.summary.result}`);
            await stack.workspace.removeStack(STACK);
            const leftovers = leftoverKyvernoWebhooks(cp);
            say(`Kyverno's webhook configurations left after its uninstall: ${leftovers.join(", ") || "none"}`);
        });
    } catch (e) {
        failed = true;
        console.error(`\n${e instanceof Error ? e.message : e}`);
    } finally {
        await phase("stop the controllers and the control plane", async () => {
            await controllers.stopAll();
            await plane?.stop();
        }).catch(() => (failed = true));
    }
    if (summary("platform tier") > 0) failed = true;
    if (failed) console.log(`logs kept in ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
    process.exit(failed ? 1 : 0);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
