/**
 * Kyverno's admission controller (.tools/bin/kyverno, built from kyverno v1.19.0, the app of
 * the pinned chart 3.9.0) as a host process beside the chart and the ClusterPolicies the
 * program installs.
 *
 * Out of cluster, Kyverno is told where it runs with `--serverIP=<host:port>`
 * (cmd/kyverno/main.go): the webhook configurations it registers then call
 * `https://<host:port>/...` by URL instead of its Service (pkg/controllers/webhook/utils.go
 * newClientConfig), and the serving certificate it issues itself carries that IP
 * (pkg/tls/keypair.go). Its other settings are the chart's Deployment's (env and flags).
 * The API server calls a webhook URL on loopback, so no endpoints are needed.
 *
 * The checks use the program's policies as the API server holds them after `pulumi up`, and
 * for the rebuild the ClusterPolicies of the offline render of the same stack with the
 * cluster's `restore` block, applied over them.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ControlPlane } from "./control-plane";
import { ROOT } from "./engine";
import { HostProcesses, waitFor } from "./host-processes";
import { writeStackConfig } from "./stack-config";
import { getJson } from "./checks";

const NAMESPACE = "kyverno";
export const PROCESS = "kyverno-admission-controller";
/** The webhook configuration Kyverno fills with its policies' resource rules. */
const RESOURCE_WEBHOOKS = "kyverno-resource-validating-webhook-cfg";
/** The program's validating ClusterPolicies (kyverno.ts), written out here; verify-image-signatures governs no image these pods use. */
export const VALIDATING_POLICIES = ["disallow-latest-tag", "pod-security", "require-labels", "restrict-registries"];
/**
 * The rules the non-compliant pod breaks: it names `nginx` (no registry, no tag) and carries no
 * labels, but meets the restricted Pod Security Standard, which the tenant namespace's own Pod
 * Security Admission label enforces before any webhook is called.
 */
const BROKEN_RULES = ["restrict-registries/allowed-registries", "disallow-latest-tag/require-image-tag", "require-labels/required-labels"];

/** The chart's admission-controller Deployment's environment (templates/admission-controller/deployment.yaml, rendered). */
const CHART_ENV = {
    KYVERNO_NAMESPACE: NAMESPACE,
    KYVERNO_SERVICEACCOUNT_NAME: "kyverno-admission-controller",
    KYVERNO_ROLE_NAME: "kyverno:admission-controller",
    KYVERNO_DEPLOYMENT: "kyverno-admission-controller",
    KYVERNO_SVC: "kyverno-svc",
    INIT_CONFIG: "kyverno",
    METRICS_CONFIG: "kyverno-metrics",
    KYVERNO_POD_NAME: "kyverno-host-process",
};

/** After `pulumi up` (the chart's CRDs and ConfigMaps, the program's policies). */
export function startAdmissionController(cp: ControlPlane, bin: string, processes: HostProcesses, port: number, dir: string) {
    const svc = `${CHART_ENV.KYVERNO_SVC}.${NAMESPACE}.svc`;
    processes.start(
        PROCESS,
        path.join(bin, "kyverno"),
        [
            `--kubeconfig=${cp.kubeconfig}`,
            `--serverIP=127.0.0.1:${port}`,
            "--webhookServerHost=127.0.0.1",
            `--webhookServerPort=${port}`,
            // The chart's flags (rendered with the program's values), but metrics, which would take fixed ports.
            `--caSecretName=${svc}.kyverno-tls-ca`,
            `--tlsSecretName=${svc}.kyverno-tls-pair`,
            `--backgroundServiceAccountName=system:serviceaccount:${NAMESPACE}:kyverno-background-controller`,
            `--reportsServiceAccountName=system:serviceaccount:${NAMESPACE}:kyverno-reports-controller`,
            "--disableMetrics=true",
            "--controllerRuntimeMetricsAddress=0",
            "--admissionReports=true",
            "--autoUpdateWebhooks=true",
            "--enablePolicyException=false",
            "--omitEvents=PolicyApplied,PolicySkipped",
            "--protectManagedResources=false",
            "--loggingFormat=text",
        ],
        { ...process.env, ...CHART_ENV, TUF_ROOT: path.join(dir, "sigstore") },
    );
}

interface Webhook {
    name: string;
    clientConfig: { url?: string };
    rules?: { resources: string[]; operations: string[] }[];
}

/** The resource webhook Kyverno registered for pods, by failure policy ("fail" when enforcing, "ignore" when auditing). */
function podWebhooks(cp: ControlPlane): Webhook[] {
    const out = cp.kubectl("get", "validatingwebhookconfiguration", RESOURCE_WEBHOOKS, "--ignore-not-found", "-o", "json").trim();
    if (!out) return [];
    return ((JSON.parse(out).webhooks ?? []) as Webhook[]).filter((w) => (w.rules ?? []).some((r) => r.resources.includes("pods") && r.operations.includes("CREATE")));
}

/** Kyverno has the policies Ready and sends pod admissions to itself, with the given failure policy only. */
export async function waitForPodWebhook(cp: ControlPlane, processes: HostProcesses, port: number, failurePolicy: "fail" | "ignore", namespace: string, dir: string) {
    const want = `validate.kyverno.svc-${failurePolicy}`;
    await waitFor(`Kyverno's pod webhook ${want} at https://127.0.0.1:${port} and its policies Ready`, 120_000, () => {
        processes.checkRunning();
        const hooks = podWebhooks(cp);
        const policies = getJson(cp, "clusterpolicies").items as { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
        const ready = VALIDATING_POLICIES.every((name) => policies.find((p) => p.metadata.name === name)?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
        return ready && hooks.length === 1 && hooks[0].name === want && hooks[0].clientConfig.url === `https://127.0.0.1:${port}/validate/${failurePolicy}`;
    });
    // Kyverno registers its webhooks before it has written its serving certificate ("TLS handshake error ... secret not found").
    defaultServiceAccount(cp, namespace);
    await waitFor("Kyverno's webhook server to answer the API server", 60_000, () => {
        const answer = submit(cp, dir, "probe", namespace, true);
        return answer === undefined || !answer.includes("failed calling webhook");
    });
}

const pod = (name: string, namespace: string, compliant: boolean) =>
    JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace, ...(compliant ? { labels: { "app.kubernetes.io/name": name } } : {}) },
        spec: {
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            containers: [{ name: "app", image: compliant ? "registry.k8s.io/pause:3.10" : "nginx", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }],
        },
    });

/** Creates the pod (server-side dry run unless `keep`); the API server's refusal, or undefined if admitted. */
function submit(cp: ControlPlane, dir: string, name: string, namespace: string, compliant: boolean, keep = false): string | undefined {
    const file = path.join(dir, `pod-${namespace}-${name}.json`);
    fs.writeFileSync(file, pod(name, namespace, compliant));
    try {
        cp.kubectl("create", "-f", file, ...(keep ? [] : ["--dry-run=server"]));
        return undefined;
    } catch (e) {
        return String((e as { stderr?: string }).stderr ?? e);
    }
}

/** Pods need their namespace's `default` ServiceAccount, which the serviceaccount controller (not run here) would create. */
function defaultServiceAccount(cp: ControlPlane, namespace: string) {
    if (!cp.kubectl("get", "serviceaccount", "default", "-n", namespace, "--ignore-not-found", "-o", "name").trim()) cp.kubectl("create", "serviceaccount", "default", "-n", namespace);
}

/** Enforcing: a non-compliant pod in the tenant's namespace is refused by every policy it breaks; a compliant one and a platform namespace's are admitted. */
export function checkEnforced(cp: ControlPlane, tenant: string, platformNamespace: string, dir: string, say: (line: string) => void) {
    defaultServiceAccount(cp, tenant);
    defaultServiceAccount(cp, platformNamespace);
    const refused = submit(cp, dir, "non-compliant", tenant, false);
    if (!refused) throw new Error(`a non-compliant pod in ${tenant} was admitted while the policies enforce`);
    const missing = BROKEN_RULES.filter((rule) => !refused.includes(`${rule.split("/")[0]}:\n  ${rule.split("/")[1]}:`));
    if (!refused.includes(`admission webhook "validate.kyverno.svc-fail" denied the request`) || missing.length) {
        throw new Error(`the non-compliant pod was refused, but not by Kyverno for ${missing.join(", ") || "the expected rules"}:\n${refused}`);
    }
    say(`non-compliant pod in ${tenant}: refused by Kyverno's webhook for ${BROKEN_RULES.join(", ")}`);
    const compliant = submit(cp, dir, "compliant", tenant, true);
    if (compliant) throw new Error(`a compliant pod in ${tenant} was refused:\n${compliant}`);
    say(`compliant pod in ${tenant}: admitted`);
    const platform = submit(cp, dir, "non-compliant", platformNamespace, false);
    if (platform) throw new Error(`a pod in the platform namespace ${platformNamespace} was refused (the policies exclude it):\n${platform}`);
    say(`the same non-compliant pod in the platform namespace ${platformNamespace}: admitted (the policies exclude it)`);
}

/** The ClusterPolicies of the offline render (`node dist/scripts/render.js`) of `config`. */
export function renderedClusterPolicies(config: Record<string, unknown>, dir: string): Record<string, any>[] {
    const file = path.join(dir, "Pulumi.restoring.yaml");
    writeStackConfig(file, config);
    const render = JSON.parse(
        execFileSync("node", [path.join(ROOT, "dist", "scripts", "render.js"), "--stack", "restoring", "--config-file", file, "--format", "json"], { cwd: ROOT, encoding: "utf8", maxBuffer: 256 << 20 }),
    );
    return render.resources.filter((r: { type: string; inputs: { kind?: string } }) => r.type === "kubernetes:kyverno.io/v1:ClusterPolicy").map((r: { inputs: object }) => r.inputs);
}

interface Report {
    metadata: { labels?: Record<string, string> };
    spec: { results?: { policy: string; rule: string; result: string }[] };
}

/**
 * Restoring: the render's policies applied over the live ones; the same non-compliant pod is
 * admitted, and Kyverno reports each broken rule as a failed result of that pod.
 */
export async function checkAuditWhileRestoring(cp: ControlPlane, processes: HostProcesses, port: number, policies: Record<string, any>[], tenant: string, dir: string, say: (line: string) => void) {
    const names = policies.map((p) => p.metadata.name as string);
    const absent = VALIDATING_POLICIES.filter((name) => !names.includes(name));
    if (absent.length) throw new Error(`the restoring render lacks the ClusterPolicies ${absent.join(", ")} (it has ${names.join(", ")})`);
    const file = path.join(dir, "restoring-policies.json");
    fs.writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: policies }));
    cp.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=restoring-render", "-f", file);
    say(`applied the restoring render's ClusterPolicies: ${names.join(", ")}`);
    await waitForPodWebhook(cp, processes, port, "ignore", tenant, dir);

    const refused = submit(cp, dir, "restored", tenant, false, true);
    if (refused) throw new Error(`while restoring, the non-compliant pod was refused:\n${refused}`);
    say(`while restoring, the non-compliant pod in ${tenant}: admitted`);
    const uid = cp.kubectl("get", "pod", "-n", tenant, "restored", "-o", "jsonpath={.metadata.uid}").trim();
    let failed: string[] = [];
    await waitFor(`Kyverno's admission report of ${tenant}/restored`, 60_000, () => {
        processes.checkRunning();
        const reports = getJson(cp, "ephemeralreports.reports.kyverno.io", "-n", tenant).items as Report[];
        // Admission reports name the pod by its UID (it has none yet when Kyverno sees the request, so no owner).
        const mine = reports.filter((r) => r.metadata.labels?.["audit.kyverno.io/resource.uid"] === uid);
        failed = mine.flatMap((r) => (r.spec.results ?? []).filter((x) => x.result === "fail").map((x) => `${x.policy}/${x.rule}`));
        return failed.length > 0;
    });
    const sorted = (list: string[]) => [...list].sort().join(", ");
    if (sorted(failed) !== sorted(BROKEN_RULES)) throw new Error(`the admission report's failed rules are ${sorted(failed)}; expected ${sorted(BROKEN_RULES)}`);
    say(`audit result: admission report of ${tenant}/restored, failed ${sorted(failed)}`);
    cp.kubectl("delete", "pod", "-n", tenant, "restored", "--wait=false");
}
