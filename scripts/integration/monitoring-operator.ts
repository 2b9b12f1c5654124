/**
 * prometheus-operator v0.93.1 (.tools/bin/prometheus-operator, the chart's app version) as a
 * host process beside kube-prometheus-stack: the chart's operator Deployment's own arguments,
 * its admission webhook served with the certificate the chart's `create` hook wrote (Secret
 * `kube-prometheus-stack-admission`, keys `cert` and `key`, which the Deployment mounts at
 * /cert) on this machine's address, behind the operator Service's endpoints (written by hand,
 * as cert-manager-tier.ts does for cert-manager's webhook). It talks to the API server with
 * the admin kubeconfig (KUBECONFIG; it has no in-cluster account here).
 *
 * Checked: the real webhook validates PrometheusRules (a rule with broken PromQL is refused
 * through the API server with the operator's message, which its log records; platform-alerts is allowed when sent
 * to the webhook itself), and the operator turns the chart's Prometheus and the program's
 * PodMonitors and PrometheusRule into Prometheus' configuration: one scrape job per
 * PodMonitor in the generated config Secret, platform-alerts in the rule-files ConfigMap.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import * as YAML from "yaml";
import { hostAddress } from "./cert-manager-tier";
import { getJson } from "./checks";
import { ControlPlane } from "./control-plane";
import { HostProcesses, waitFor } from "./host-processes";
import { ADMISSION, ALERT_GROUPS, EXPECTED_POD_MONITORS, NAMESPACE, RELEASE } from "./monitoring-tier";

export const PROCESS = "prometheus-operator";
const SERVICE = `${RELEASE}-operator`;
const SERVICE_HOST = `${SERVICE}.${NAMESPACE}.svc`;
/** The Secret and the rule-files ConfigMap the operator generates for the chart's Prometheus `kube-prometheus-stack-prometheus`. */
const CONFIG_SECRET = `prometheus-${RELEASE}-prometheus`;
const RULE_FILES = `prometheus-${RELEASE}-prometheus-rulefiles-0`;

/** The Deployment's arguments with the certificate files and listen address of this machine; throws if it does not serve TLS from the admission Secret. */
function operatorArgs(cp: ControlPlane, certs: string, listen: string): string[] {
    const deployment = getJson(cp, "deployment", "-n", NAMESPACE, SERVICE);
    const [container] = deployment.spec.template.spec.containers as { args: string[]; volumeMounts?: { name: string; mountPath: string }[] }[];
    const volumes = deployment.spec.template.spec.volumes as { name: string; secret?: { secretName: string } }[];
    const mount = container.volumeMounts?.find((m) => volumes.find((v) => v.name === m.name)?.secret?.secretName === ADMISSION);
    if (!mount || !container.args.includes("--web.enable-tls=true")) throw new Error(`the chart's operator does not serve TLS from Secret ${ADMISSION}: ${container.args.join(" ")}`);
    const local = (file: string) => {
        if (path.dirname(file) !== mount.mountPath) throw new Error(`${file} is not in the admission Secret's mount ${mount.mountPath}`);
        return path.join(certs, path.basename(file));
    };
    return container.args.map((arg) => {
        const [flag, value] = arg.split(/=(.*)/s, 2);
        if (flag === "--web.cert-file" || flag === "--web.key-file") return `${flag}=${local(value)}`;
        if (flag === "--web.listen-address") return `${flag}=${listen}`;
        return arg;
    });
}

/** Starts the operator behind its Service's endpoints and waits until its webhook answers over TLS for the Service's name. */
export async function startOperator(cp: ControlPlane, bin: string, processes: HostProcesses, port: number, dir: string) {
    const ip = hostAddress();
    const certs = path.join(dir, "prometheus-operator-certs");
    fs.mkdirSync(certs, { recursive: true });
    const secret = getJson(cp, "secret", "-n", NAMESPACE, ADMISSION).data as Record<string, string>;
    for (const key of Object.keys(secret)) fs.writeFileSync(path.join(certs, key), Buffer.from(secret[key], "base64"), { mode: 0o600 });
    const args = operatorArgs(cp, certs, `${ip}:${port}`);
    const endpoints = path.join(dir, "operator-endpoints.json");
    // The chart's Service port is named https (443 -> the pod's 10250).
    fs.writeFileSync(endpoints, JSON.stringify({ apiVersion: "v1", kind: "Endpoints", metadata: { name: SERVICE, namespace: NAMESPACE }, subsets: [{ addresses: [{ ip }], ports: [{ name: "https", port }] }] }));
    cp.kubectl("apply", "-f", endpoints);
    processes.start(PROCESS, path.join(bin, "prometheus-operator"), args, { ...process.env, KUBECONFIG: cp.kubeconfig });
    await waitFor(`the operator's webhook on ${ip}:${port}`, 60_000, () => {
        processes.checkRunning();
        curl(certs, ip, port, "/healthz");
        return true;
    });
    return { ip, certs };
}

/** HTTPS to the operator as the API server reaches it: its Service name, verified against the admission Secret's CA. */
function curl(certs: string, ip: string, port: number, urlPath: string, body?: string): string {
    const data = body === undefined ? [] : ["-H", "Content-Type: application/json", "--data-binary", "@-"];
    return execFileSync("curl", ["-sS", "--fail", "--cacert", path.join(certs, "ca"), "--resolve", `${SERVICE_HOST}:${port}:${ip}`, ...data, `https://${SERVICE_HOST}:${port}${urlPath}`], {
        encoding: "utf8",
        input: body,
        stdio: ["pipe", "pipe", "pipe"],
    });
}

const BROKEN_RULE = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "broken-promql", namespace: NAMESPACE },
    spec: { groups: [{ name: "broken", rules: [{ alert: "Broken", expr: "sum(rate(http_requests_total[5m]) by" }] }] },
};

/** The operator's answer to an AdmissionReview of `object`, posted to its validating path. */
function review(at: { ip: string; certs: string }, port: number, object: object): { allowed: boolean; status?: { message?: string } } {
    const request = { uid: "00000000-0000-0000-0000-000000000001", kind: { group: "monitoring.coreos.com", version: "v1", kind: "PrometheusRule" }, resource: { group: "monitoring.coreos.com", version: "v1", resource: "prometheusrules" }, operation: "CREATE", object };
    return JSON.parse(curl(at.certs, at.ip, port, "/admission-prometheusrules/validate", JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request }))).response;
}

/** (a) The webhook: the broken rule refused through the API server; platform-alerts allowed by the webhook itself, the broken one not. */
export function checkWebhook(cp: ControlPlane, processes: HostProcesses, at: { ip: string; certs: string }, port: number, dir: string, say: (line: string) => void) {
    const file = path.join(dir, "broken-promql.json");
    fs.writeFileSync(file, JSON.stringify(BROKEN_RULE));
    let refused: string | undefined;
    try {
        cp.kubectl("create", "-f", file);
    } catch (e) {
        refused = String((e as { stderr?: string }).stderr ?? e);
    }
    // The webhook answers 422 Invalid with its own status, which the API server passes on as is
    // (`The "prometheusrules" is invalid: ...`); the operator logs each rule it refuses.
    if (!refused || !refused.includes(`"Broken": could not parse expression`) || !processes.logOf(PROCESS, 200).includes('msg="Invalid rule" component=admissionwebhook')) {
        cp.kubectl("delete", "-f", file, "--ignore-not-found");
        throw new Error(`a PrometheusRule with broken PromQL was not refused by the operator's webhook: ${refused ?? "it was created"}\n${processes.logOf(PROCESS)}`);
    }
    say(`a PrometheusRule with broken PromQL, through the API server: ${refused.trim().split("\n")[0].slice(0, 300)}`);
    const live = getJson(cp, "prometheusrule", "-n", NAMESPACE, "platform-alerts");
    const answer = review(at, port, live);
    if (answer.allowed !== true) throw new Error(`the operator's webhook refuses platform-alerts: ${JSON.stringify(answer.status)}`);
    const broken = review(at, port, BROKEN_RULE);
    if (broken.allowed !== false) throw new Error("the operator's webhook, asked directly, allows the broken rule");
    say(`the webhook itself: platform-alerts allowed; the broken rule refused (${broken.status?.message?.slice(0, 200)})`);
}

/** (b) Prometheus' configuration as the operator generates it from the chart's Prometheus and the program's objects. */
export async function checkGeneratedConfig(cp: ControlPlane, processes: HostProcesses, say: (line: string) => void) {
    const byJob = (a: { job: string }, b: { job: string }) => a.job.localeCompare(b.job);
    const expectedJobs = Object.entries(EXPECTED_POD_MONITORS).map(([name, e]) => ({ job: `podMonitor/${NAMESPACE}/${name}/0`, namespaces: [e.namespace] })).sort(byJob);
    let state = "";
    await waitFor(`Secret ${NAMESPACE}/${CONFIG_SECRET} with a scrape job per PodMonitor, and ConfigMap ${RULE_FILES} with platform-alerts`, 120_000, () => {
        processes.checkRunning();
        const gz = cp.kubectl("get", "secret", "-n", NAMESPACE, CONFIG_SECRET, "--ignore-not-found", "-o", "jsonpath={.data.prometheus\\.yaml\\.gz}").trim();
        if (!gz) return !(state = "no config Secret yet");
        const config = YAML.parse(zlib.gunzipSync(Buffer.from(gz, "base64")).toString("utf8"));
        const jobs = (config.scrape_configs ?? []) as { job_name: string; kubernetes_sd_configs?: { role: string; namespaces?: { names?: string[] } }[] }[];
        const podJobs = jobs.filter((j) => j.job_name.startsWith("podMonitor/")).map((j) => ({ job: j.job_name, namespaces: j.kubernetes_sd_configs?.[0]?.namespaces?.names }));
        const rules = cp.kubectl("get", "configmap", "-n", NAMESPACE, RULE_FILES, "--ignore-not-found", "-o", "json").trim();
        const files = rules ? Object.entries(JSON.parse(rules).data as Record<string, string>).filter(([key]) => key.startsWith(`${NAMESPACE}-platform-alerts-`)) : [];
        const groups = files.length === 1 ? (YAML.parse(files[0][1]).groups as { name: string }[]).map((g) => g.name) : [];
        state = `podMonitor jobs ${JSON.stringify(podJobs)}; ${jobs.length} scrape jobs in all; platform-alerts rule files ${files.map(([k]) => k).join(", ") || "none"} with groups ${groups.join(", ")}`;
        return JSON.stringify(podJobs.sort(byJob)) === JSON.stringify(expectedJobs) && JSON.stringify(groups) === JSON.stringify(ALERT_GROUPS);
    }).catch((e) => {
        throw new Error(`${e instanceof Error ? e.message : e}\nlast seen: ${state}\n${processes.logOf(PROCESS)}`);
    });
    say(state);
}
