/**
 * The platform tier (`npm run test:integration:platform`): the add-ons' real controllers,
 * built by scripts/bootstrap-tools.sh, run as host processes against a real API server on
 * 127.0.0.1 and act on what the platform creates. No kubelet: the charts' workloads are API
 * objects only, and the controllers run beside them (docs/integration.md says which run and
 * which cannot, and why).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseCommandLine } from "../cli";
import { ControlPlane, freePort, startControlPlane } from "./control-plane";
import { checkFluxLockdown } from "./flux-lockdown";
import { assert } from "./engine";
import { phase, say, summary } from "./phases";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const BIN = path.join(ROOT, ".tools", "bin");

const USAGE = `usage: npm run test:integration:platform

The platform tier: a real kube-apiserver on 127.0.0.1 and the add-ons' controllers from
.tools/bin (bash scripts/bootstrap-tools.sh first) as host processes; checks that they act
on what the platform creates (docs/integration.md). No arguments.
`;

const TOOLS = ["kube-apiserver", "kube-controller-manager", "etcd", "source-controller", "kustomize-controller", "flux-source-crds.yaml", "flux-kustomize-crds.yaml"];

async function main() {
    parseCommandLine("integration-platform", USAGE, { options: {} });
    for (const name of TOOLS) assert(fs.existsSync(path.join(BIN, name)), `${path.join(BIN, name)} is missing: run bash scripts/bootstrap-tools.sh first`);
    assert(fs.existsSync(path.join(ROOT, "dist", "index.js")), "dist/index.js is missing: run npm run build first");
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "platform-tier-"));
    say(`work directory: ${work}`);
    delete process.env.KUBECONFIG;

    let plane: ControlPlane | undefined;
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.once(signal, () => {
            console.error(`\n${signal}: stopping (logs kept in ${work})`);
            (plane?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
        });
    }

    let failed = false;
    try {
        const cp = await phase("control plane: etcd + kube-apiserver + kube-controller-manager on 127.0.0.1", async () => {
            plane = await startControlPlane(path.join(work, "cluster"), BIN, say);
            return plane;
        });
        await phase("Flux lockdown on real source-controller + kustomize-controller (the program's flux2 values)", () => checkFluxLockdown(cp, BIN, work, say, freePort));
    } catch (e) {
        failed = true;
        console.error(`\n${e instanceof Error ? e.message : e}`);
    } finally {
        await phase("stop the control plane", () => plane?.stop()).catch(() => (failed = true));
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
