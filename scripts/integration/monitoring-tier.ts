/**
 * kube-prometheus-stack 88.6.1 in the platform tier: its admission-webhook hook Jobs done on
 * this machine, and what the program creates beside the chart read back from the API server.
 *
 * The chart's two hook Jobs run ghcr.io/jkroepke/kube-webhook-certgen 1.8.8, whose module the
 * Go proxy refuses at every version (docs/integration.md), so the tier does their work as
 * upstream's code does it (cmd/create.go, cmd/patch.go, pkg/certs, pkg/k8s): `create` makes a
 * P-256 CA and a serving certificate for the `--host` names, valid 100 years, into an Opaque
 * Secret with the keys `ca`, `cert`, `key` (unless that Secret exists); `patch` sets every
 * webhook's caBundle in the Validating- and MutatingWebhookConfiguration `--webhook-name` by
 * server-side apply (field manager kube-webhook-certgen), and the failure policy only for
 * `--patch-failure-policy=Fail` (upstream's switch leaves it alone for "" and for "Ignore").
 * Each reads the Job's own arguments and refuses a Job that runs something else.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { HookDecision, Job, jobCommand } from "./chart-hooks";
import { getJson } from "./checks";
import { ControlPlane } from "./control-plane";

export const NAMESPACE = "monitoring";
export const RELEASE = "kube-prometheus-stack";
export const ADMISSION = `${RELEASE}-admission`;
const CERTGEN_IMAGE = "ghcr.io/jkroepke/kube-webhook-certgen:";
const WEBHOOK_KINDS = ["validatingwebhookconfiguration", "mutatingwebhookconfiguration"] as const;

/**
 * `platform:grafanaAdminPassword` as a secret of the stack (no random provider here): a fresh
 * value, set through the CLI as `pulumi config set --secret` does; the stack file must hold it
 * encrypted only. Returns the value, which Grafana's admin Secret must then hold.
 */
export async function setGrafanaPassword(stack: Stack, stackFile: string): Promise<string> {
    const password = crypto.randomBytes(16).toString("hex");
    await stack.setConfig("platform:grafanaAdminPassword", { value: password, secret: true });
    const text = fs.readFileSync(stackFile, "utf8");
    if (text.includes(password) || !/grafanaAdminPassword:\s*\n\s*secure: v1:/.test(text)) throw new Error(`${stackFile} does not hold platform:grafanaAdminPassword encrypted only`);
    return password;
}

/** The Job's `--name=value` arguments after its subcommand; throws unless it is kube-webhook-certgen `<subcommand>`. */
function certgenArgs(job: Job, subcommand: "create" | "patch"): Map<string, string> {
    const image = job.spec.template.spec.containers[0].image;
    const args = jobCommand(job);
    if (!image?.startsWith(CERTGEN_IMAGE) || args[0] !== subcommand) {
        throw new Error(`${job.metadata.name} runs ${image} ${args.join(" ")}, not kube-webhook-certgen ${subcommand}`);
    }
    const flags = new Map<string, string>();
    for (const arg of args.slice(1)) {
        const m = /^--([a-z-]+)=(.*)$/.exec(arg);
        if (!m) throw new Error(`${job.metadata.name}: argument ${arg} is not --name=value`);
        flags.set(m[1], m[2]);
    }
    return flags;
}

function required(flags: Map<string, string>, name: string, job: Job): string {
    const value = flags.get(name);
    if (!value) throw new Error(`${job.metadata.name}: no --${name}`);
    return value;
}

const openssl = (...args: string[]) => execFileSync("/usr/bin/openssl", args, { stdio: ["ignore", "pipe", "pipe"] });

/** pkg/certs GenerateCerts: a CA and a leaf for `hosts` (IPs as IP SANs), EC P-256, SEC1 keys, 100 years. */
function generateCerts(hosts: string[], dir: string): { ca: string; cert: string; key: string } {
    fs.mkdirSync(dir, { recursive: true });
    const file = (name: string) => path.join(dir, name);
    const days = String(100 * 365);
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file("ca.key"));
    openssl("req", "-x509", "-new", "-key", file("ca.key"), "-subj", "/O=nil1", "-days", days, "-out", file("ca"),
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", "-addext", "extendedKeyUsage=serverAuth");
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file("key"));
    openssl("req", "-new", "-key", file("key"), "-subj", "/O=nil2", "-out", file("csr"));
    const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(",");
    fs.writeFileSync(file("ext"), `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
    openssl("x509", "-req", "-in", file("csr"), "-CA", file("ca"), "-CAkey", file("ca.key"), "-set_serial", `0x${execFileSync("/usr/bin/openssl", ["rand", "-hex", "16"]).toString().trim()}`,
        "-days", days, "-extfile", file("ext"), "-out", file("cert"));
    return { ca: file("ca"), cert: file("cert"), key: file("key") };
}

/** The chart's templates/prometheus-operator/admission-webhooks/job-patch Jobs, done here. */
export function admissionHooks(cp: ControlPlane, dir: string): HookDecision[] {
    return [
        {
            job: `${NAMESPACE}/${ADMISSION}-create`,
            reason: "kube-webhook-certgen create (pre-install, pre-upgrade): a CA and a serving certificate for the operator's Service names, in the Secret the operator mounts; done here with openssl as upstream's code does it",
            work: (job) => {
                const flags = certgenArgs(job, "create");
                const [secret, namespace] = [required(flags, "secret-name", job), required(flags, "namespace", job)];
                // cmd/create.go: an existing Secret is kept (an upgrade does not re-issue).
                if (cp.kubectl("get", "secret", "-n", namespace, secret, "--ignore-not-found", "-o", "name").trim()) return;
                const files = generateCerts(required(flags, "host", job).split(","), path.join(dir, "kube-webhook-certgen"));
                cp.kubectl("create", "secret", "generic", secret, "-n", namespace, `--from-file=ca=${files.ca}`, `--from-file=cert=${files.cert}`, `--from-file=key=${files.key}`);
            },
        },
        {
            job: `${NAMESPACE}/${ADMISSION}-patch`,
            reason: "kube-webhook-certgen patch (post-install, post-upgrade): the Secret's CA as caBundle of the operator's webhook configurations, and their failure policy when the Job asks for Fail; done here by server-side apply as upstream does",
            work: (job) => {
                const flags = certgenArgs(job, "patch");
                const [webhook, secret, namespace] = [required(flags, "webhook-name", job), required(flags, "secret-name", job), required(flags, "namespace", job)];
                const policy = flags.get("patch-failure-policy") ?? "";
                if (!["", "Ignore", "Fail"].includes(policy)) throw new Error(`${job.metadata.name}: patch-failure-policy ${policy} is not valid`);
                const ca = getJson(cp, "secret", "-n", namespace, secret).data?.ca as string | undefined;
                if (!ca) throw new Error(`${job.metadata.name}: secret ${namespace}/${secret} has no ca`);
                for (const kind of WEBHOOK_KINDS) {
                    const names = (getJson(cp, kind, webhook).webhooks as { name: string }[]).map((w) => w.name);
                    const apply = {
                        apiVersion: "admissionregistration.k8s.io/v1",
                        kind: kind === "validatingwebhookconfiguration" ? "ValidatingWebhookConfiguration" : "MutatingWebhookConfiguration",
                        metadata: { name: webhook },
                        webhooks: names.map((name) => ({ name, clientConfig: { caBundle: ca }, ...(policy === "Fail" ? { failurePolicy: policy } : {}) })),
                    };
                    const file = path.join(dir, `certgen-patch-${kind}.json`);
                    fs.writeFileSync(file, JSON.stringify(apply));
                    cp.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=kube-webhook-certgen", "-f", file);
                }
            },
        },
    ];
}

/** What the program must create for the platform tier's stack (cert-manager, Envoy Gateway, Kyverno, monitoring on), written out here, not taken from its registry. */
export const EXPECTED_POD_MONITORS: Record<string, { namespace: string; labels: Record<string, string>; port: string; path: string }> = {
    "cert-manager": { namespace: "cert-manager", labels: { "app.kubernetes.io/instance": "cert-manager" }, port: "http-metrics", path: "/metrics" },
    "envoy-gateway": { namespace: "gateway-system", labels: { "control-plane": "envoy-gateway" }, port: "metrics", path: "/metrics" },
    "envoy-proxy": {
        namespace: "gateway-system",
        labels: { "app.kubernetes.io/component": "proxy", "app.kubernetes.io/managed-by": "envoy-gateway", "app.kubernetes.io/name": "envoy" },
        port: "metrics",
        path: "/stats/prometheus",
    },
};
/** alert-rules.ts's groups, in order. */
export const ALERT_GROUPS = ["node-health", "pod-health", "api-performance", "storage", "gateway", "certificates", "backups"];
/** The create Job's --host: the operator Service's names. */
const SERVING_NAMES = [`DNS:${RELEASE}-operator`, `DNS:${RELEASE}-operator.${NAMESPACE}.svc`];

interface Workload {
    metadata: { name: string };
    kind: string;
    spec: { template: { metadata: { labels?: Record<string, string> }; spec: { containers: { ports?: { name?: string }[] }[] } } };
}

const canonical = (o: unknown): string => JSON.stringify(o, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));

/**
 * After `up`: exactly the expected PodMonitors, each selecting a workload of its add-on that
 * has the port it scrapes; PrometheusRule platform-alerts with every group; the hooks' work
 * (the serving certificate, the caBundle); no `helm test` hook created; Grafana's admin Secret
 * holds the configured password.
 */
export function checkObjects(cp: ControlPlane, grafanaPassword: string, dir: string, say: (line: string) => void) {
    const problems: string[] = [];
    const monitors = getJson(cp, "podmonitors", "-n", NAMESPACE).items as { metadata: { name: string }; spec: any }[];
    const actual = Object.fromEntries(
        monitors.map((m) => [m.metadata.name, { namespace: m.spec.namespaceSelector?.matchNames, labels: m.spec.selector?.matchLabels, endpoints: m.spec.podMetricsEndpoints }]),
    );
    const expected = Object.fromEntries(Object.entries(EXPECTED_POD_MONITORS).map(([name, e]) => [name, { namespace: [e.namespace], labels: e.labels, endpoints: [{ path: e.path, port: e.port }] }]));
    if (canonical(actual) !== canonical(expected)) problems.push(`PodMonitors in ${NAMESPACE}: expected ${canonical(expected)}, got ${canonical(actual)}`);
    for (const [name, e] of Object.entries(EXPECTED_POD_MONITORS)) {
        const workloads = (getJson(cp, "deployments,daemonsets", "-n", e.namespace).items as Workload[]).filter(
            (w) => Object.entries(e.labels).every(([k, v]) => w.spec.template.metadata.labels?.[k] === v) && w.spec.template.spec.containers.some((c) => (c.ports ?? []).some((p) => p.name === e.port)),
        );
        if (!workloads.length) problems.push(`PodMonitor ${name}: no Deployment or DaemonSet in ${e.namespace} has pods labelled ${canonical(e.labels)} with a port ${e.port}`);
        else say(`PodMonitor ${name} selects ${workloads.map((w) => `${w.kind} ${e.namespace}/${w.metadata.name}`).join(", ")} (port ${e.port})`);
    }

    const rule = getJson(cp, "prometheusrule", "-n", NAMESPACE, "platform-alerts");
    const groups = (rule.spec.groups as { name: string; rules: unknown[] }[]).map((g) => g.name);
    if (canonical(groups) !== canonical(ALERT_GROUPS)) problems.push(`PrometheusRule platform-alerts groups: expected ${ALERT_GROUPS.join(", ")}, got ${groups.join(", ")}`);

    const secret = getJson(cp, "secret", "-n", NAMESPACE, ADMISSION);
    const keys = Object.keys(secret.data ?? {}).sort();
    if (canonical(keys) !== canonical(["ca", "cert", "key"])) problems.push(`Secret ${ADMISSION}: keys ${keys.join(", ")}, expected ca, cert, key`);
    const file = (name: string) => path.join(dir, `admission-${name}`);
    for (const key of keys) fs.writeFileSync(file(key), Buffer.from(secret.data[key], "base64"));
    const verified = (() => {
        try {
            return openssl("verify", "-CAfile", file("ca"), file("cert")).toString().trim();
        } catch (e) {
            return String((e as { stdout?: Buffer }).stdout ?? e);
        }
    })();
    if (!verified.endsWith(": OK")) problems.push(`Secret ${ADMISSION}: cert does not verify against ca: ${verified}`);
    const sans = openssl("x509", "-in", file("cert"), "-noout", "-ext", "subjectAltName").toString().split("\n")[1]?.trim().split(/,\s*/) ?? [];
    if (canonical(sans) !== canonical(SERVING_NAMES)) problems.push(`Secret ${ADMISSION}: cert names ${sans.join(", ")}, expected ${SERVING_NAMES.join(", ")}`);
    for (const kind of WEBHOOK_KINDS) {
        for (const w of getJson(cp, kind, ADMISSION).webhooks as { name: string; failurePolicy: string; clientConfig: { caBundle?: string } }[]) {
            if (w.clientConfig.caBundle !== secret.data.ca) problems.push(`${kind} ${ADMISSION} ${w.name}: caBundle is not the Secret's ca`);
            // The chart's patch Job passes --patch-failure-policy= (failurePolicy "" in its values): the chart's Ignore stays.
            if (w.failurePolicy !== "Ignore") problems.push(`${kind} ${ADMISSION} ${w.name}: failurePolicy ${w.failurePolicy}, expected Ignore`);
        }
    }
    const pods = (getJson(cp, "pods", "-n", NAMESPACE).items as { metadata: { name: string } }[]).map((p) => p.metadata.name);
    if (pods.length) problems.push(`pods in ${NAMESPACE} (a \`helm test\` hook such as grafana-test must not be created by an install): ${pods.join(", ")}`);
    const jobs = (getJson(cp, "jobs", "-n", NAMESPACE).items as { metadata: { name: string } }[]).map((j) => j.metadata.name);
    if (jobs.length) problems.push(`hook Jobs left in ${NAMESPACE} (hook-delete-policy hook-succeeded): ${jobs.join(", ")}`);
    const password = Buffer.from(getJson(cp, "secret", "-n", NAMESPACE, "grafana-admin").data["admin-password"], "base64").toString();
    if (password !== grafanaPassword) problems.push("Secret grafana-admin: admin-password is not the stack's platform:grafanaAdminPassword");
    if (problems.length) throw new Error(`kube-prometheus-stack and the program's monitoring objects:\n  - ${problems.join("\n  - ")}`);
    say(`PodMonitors ${Object.keys(EXPECTED_POD_MONITORS).join(", ")}; PrometheusRule platform-alerts with ${groups.length} groups`);
    say(`Secret ${ADMISSION}: cert for ${sans.join(", ")} verifies against its ca (${verified}); both webhook configurations carry that caBundle, failurePolicy Ignore`);
    say(`no pods or Jobs in ${NAMESPACE}; grafana-admin holds the configured password`);
}
