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
import * as certManager from "./cert-manager-tier";
import { ControlPlane, freePort, startControlPlane } from "./control-plane";
import { assert, BIN, createPlatformStack, makeWorkDirs, pulumiCommand, requireTools, stopOnSignals, TOOLS, useEngineEnvironment } from "./engine";
import { checkFluxLockdown } from "./flux-lockdown";
import { HostProcesses } from "./host-processes";
import { phase, printOutput, say, summary } from "./phases";
import { platformTierConfig } from "./stack-config";

const STACK = "platform-tier";
const CHARTS = path.join(TOOLS, "charts");

const USAGE = `usage: npm run test:integration:platform

The platform tier: a real kube-apiserver on 127.0.0.1 and the add-ons' controllers from
.tools/bin (bash scripts/bootstrap-tools.sh first) as host processes; checks that they act
on what the platform creates (docs/integration.md). No arguments.
`;

const CONTROLLERS = ["cert-manager-controller", "cert-manager-webhook", "cert-manager-cainjector", "source-controller", "kustomize-controller", "flux-source-crds.yaml", "flux-kustomize-crds.yaml"];

async function main() {
    parseCommandLine("integration-platform", USAGE, { options: {} });
    requireTools(CONTROLLERS);
    assert(fs.existsSync(path.join(CHARTS, "cert-manager", "Chart.yaml")), `${CHARTS}/cert-manager is missing: run bash scripts/bootstrap-tools.sh first`);
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
        const stack = await phase(`pulumi up: stack ${STACK} (local, cert-manager on from ${CHARTS}, charts.wait false)`, async () => {
            const { stack: s } = await createPlatformStack(STACK, dirs, command, platformTierConfig(cp.kubeconfig, cp.context, CHARTS));
            const up = await s.up({ onOutput: printOutput, color: "never" });
            assert(up.summary.result === "succeeded", `up: ${up.summary.result}`);
            say(`resource changes: ${JSON.stringify(up.summary.resourceChanges)}`);
            return s;
        });
        await phase("cert-manager controller: the program's local CA issues a tenant certificate; the chart's webhook rejects a bad one", async () => {
            certManager.startController(cp, BIN, controllers);
            await certManager.checkIssuance(cp, controllers, LOCAL_CA_ISSUER, "team-alpha", work, say);
        });
        await phase("Flux lockdown on real source-controller + kustomize-controller (the program's flux2 values)", () => checkFluxLockdown(cp, BIN, work, say, freePort));
        await phase("pulumi destroy --yes", async () => {
            // The tenant's certificate is the tier's, not the program's: removed first so the namespace can go.
            cp.kubectl("delete", "certificate", "-n", "team-alpha", "app-tls", "--ignore-not-found");
            const destroy = await stack.destroy({ onOutput: printOutput, color: "never" });
            assert(destroy.summary.result === "succeeded", `destroy: ${destroy.summary.result}`);
            await stack.workspace.removeStack(STACK);
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
