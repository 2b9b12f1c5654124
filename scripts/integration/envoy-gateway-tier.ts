/**
 * Envoy Gateway v1.9.0 (.tools/bin/envoy-gateway) beside the gateway-helm chart the program
 * installs: the chart's pre-install `certgen` hook is done by the same binary on this machine
 * (`envoy-gateway certgen`, what the hook's Job runs), and the controller runs with the
 * chart's configuration (its ConfigMap) and the control-plane certificate certgen wrote.
 *
 * The controller reads that certificate from the fixed path /certs (internal/xds/runner,
 * on the Kubernetes provider), where the chart mounts the Secret: it runs in its own mount
 * namespace with the Secret's files bound there (the tier creates the empty directory
 * /certs as a mount point when it is missing). Its ports are its own fixed ones (health
 * 8081, xDS 18000, the topology injector's webhook 9443, admin 19000, metrics 19001).
 * No proxies: they are pods. So the check is the controller's status: the GatewayClass, the
 * Gateway, the program's route and its 96 KiB header EnvoyPatchPolicy Accepted, the patch
 * also Programmed (applied to the listeners it names).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HookDecision, Job, jobCommand } from "./chart-hooks";
import { ControlPlane } from "./control-plane";
import { HostProcesses, waitFor } from "./host-processes";
import { getJson } from "./checks";

export const NAMESPACE = "gateway-system";
export const PROCESS = "envoy-gateway";
const CONFIG_MAP = "envoy-gateway-config";
const CONTROL_PLANE_SECRET = "envoy-gateway";
const env = (cp: ControlPlane) => ({ ...process.env, KUBECONFIG: cp.kubeconfig, ENVOY_GATEWAY_NAMESPACE: NAMESPACE, KUBERNETES_CLUSTER_DOMAIN: "cluster.local" });

/** The gateway-helm 1.9.0 hook (templates/certgen.yaml): pre-install, pre-upgrade. */
export function certgenHook(cp: ControlPlane, bin: string, job: string): HookDecision {
    return {
        job: `${NAMESPACE}/${job}`,
        reason: "writes the control plane's and proxies' TLS Secrets and the topology injector's caBundle (envoy-gateway certgen); run here with the built binary and the Job's own arguments",
        work: (job: Job) => {
            const command = jobCommand(job);
            if (command[0] !== "envoy-gateway" || command[1] !== "certgen") throw new Error(`${job.metadata.name} runs ${command.join(" ")}, not envoy-gateway certgen`);
            execFileSync(path.join(bin, "envoy-gateway"), command.slice(1), { env: env(cp), stdio: ["ignore", "pipe", "pipe"] });
        },
    };
}

export function startController(cp: ControlPlane, bin: string, processes: HostProcesses, dir: string) {
    const config = getJson(cp, "configmap", "-n", NAMESPACE, CONFIG_MAP).data["envoy-gateway.yaml"] as string;
    const configFile = path.join(dir, "envoy-gateway.yaml");
    fs.writeFileSync(configFile, config);
    const certs = path.join(dir, "envoy-gateway-certs");
    fs.mkdirSync(certs, { recursive: true });
    const secret = getJson(cp, "secret", "-n", NAMESPACE, CONTROL_PLANE_SECRET).data as Record<string, string>;
    for (const key of ["tls.crt", "tls.key", "ca.crt"]) fs.writeFileSync(path.join(certs, key), Buffer.from(secret[key], "base64"), { mode: 0o600 });
    if (!fs.existsSync("/certs")) fs.mkdirSync("/certs");
    const unshare = process.getuid?.() === 0 ? ["-m"] : ["-m", "-r"];
    processes.start(PROCESS, "unshare", [...unshare, "sh", "-c", `mount --bind "$0" /certs && exec "$@"`, certs, path.join(bin, "envoy-gateway"), "server", `--config-path=${configFile}`], env(cp));
}

interface Condition {
    type: string;
    status: string;
    reason?: string;
    message?: string;
}

const holds = (type: string) => (conditions: Condition[] | undefined) => (conditions ?? []).some((c) => c.type === type && c.status === "True");
const accepted = holds("Accepted");
const programmed = holds("Programmed");
const describe = (conditions: Condition[] | undefined) => (conditions ?? []).map((c) => `${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ""}${c.message ? `: ${c.message}` : ""}`).join("; ") || "no conditions";

/** The controller's status on what the program created: every one Accepted. */
export async function checkAccepted(cp: ControlPlane, processes: HostProcesses, gatewayClass: string, gateway: string, say: (line: string) => void) {
    const get = (kind: string, name: string, namespace?: string) => getJson(cp, kind, name, ...(namespace ? ["-n", namespace] : []));
    const routes = () => getJson(cp, "httproutes", "-n", NAMESPACE).items as { metadata: { name: string }; status?: { parents?: { conditions?: Condition[] }[] } }[];
    const patches = () => getJson(cp, "envoypatchpolicies", "-n", NAMESPACE).items as { metadata: { name: string }; status?: { ancestors?: { conditions?: Condition[] }[] } }[];
    let state = "";
    try {
        await waitFor("Envoy Gateway's status on the program's GatewayClass, Gateway, routes and EnvoyPatchPolicy", 120_000, () => {
            processes.checkRunning();
            const cls = get("gatewayclass", gatewayClass).status?.conditions;
            const gw = get("gateway", gateway, NAMESPACE).status?.conditions;
            const r = routes();
            const p = patches();
            state = [
                `GatewayClass ${gatewayClass}: ${describe(cls)}`,
                `Gateway ${gateway}: ${describe(gw)}`,
                ...r.map((x) => `HTTPRoute ${x.metadata.name}: ${describe(x.status?.parents?.flatMap((a) => a.conditions ?? []))}`),
                ...p.map((x) => `EnvoyPatchPolicy ${x.metadata.name}: ${describe(x.status?.ancestors?.flatMap((a) => a.conditions ?? []))}`),
            ].join("\n");
            const routesOk = r.length > 0 && r.every((x) => (x.status?.parents ?? []).length > 0 && x.status!.parents!.every((a) => accepted(a.conditions)));
            // Programmed: Envoy Gateway found the listeners the patch names and applied it to their xDS.
            const patchesOk = p.length > 0 && p.every((x) => (x.status?.ancestors ?? []).length > 0 && x.status!.ancestors!.every((a) => accepted(a.conditions) && programmed(a.conditions)));
            return accepted(cls) && accepted(gw) && routesOk && patchesOk;
        });
    } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : e}\n${state}`);
    }
    say(state);
}
