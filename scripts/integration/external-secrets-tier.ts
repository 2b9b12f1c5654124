/**
 * External Secrets Operator as a host process (.tools/bin/external-secrets): a tenant's secret
 * synced into its namespace through the tenant's own SecretStore, on the local stack's
 * provider (an existing cluster keeps each prefix's secrets in a namespace of the same
 * cluster and reads them with External Secrets' Kubernetes provider, clusters/existing.ts).
 *
 * What differs from the add-on installed by the program, and why (docs/integration.md):
 * - the pinned chart (external-secrets 2.9.0) and its app are refused by the module proxy;
 *   the operator is v0.20.4 (served) and its CRDs are that module's deploy/crds/bundle.yaml,
 *   so the add-on is off in the tier's `up` and the tenant's store, account, secrets
 *   namespace and its RBAC come from the offline render of the same stack with the add-on
 *   on, applied with kubectl;
 * - no admission webhook (the chart would register it): the operator runs alone;
 * - the store's server is the in-cluster default `https://kubernetes.default` (CRD default,
 *   left unset by the program, as it should be in a cluster). The operator runs in its own
 *   mount namespace whose /etc/hosts maps that name to a loopback address where the tier
 *   relays TCP to the API server (its certificate names kubernetes.default);
 * - `kube-root-ca.crt` (the store's CA source) is written into the tenant namespace as the
 *   root-ca-cert-publisher controller, which does not run here, would.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as YAML from "yaml";
import { ControlPlane } from "./control-plane";
import { ROOT } from "./engine";
import { HostProcesses, waitFor } from "./host-processes";
import { writeStackConfig } from "./stack-config";
import { getJson } from "./checks";

export const CRDS = "external-secrets-crds.yaml";
export const PROCESS = "external-secrets";
/** Written out (components/tenancy/secrets.ts, clusters/existing.ts): the tenant's store and account, the platform's store. */
const TENANT_STORE = "tenant-secrets";
const PLATFORM_STORE = "platform-secrets";
const secretsNamespace = (tenant: string) => `secrets-tenants-${tenant}`;

interface K8sObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
    [key: string]: unknown;
}

/** The tenant's secrets objects and the platform's store, from the offline render of `config` (External Secrets on). */
export function renderedSecretObjects(config: Record<string, unknown>, tenant: string, dir: string): K8sObject[] {
    const file = path.join(dir, "Pulumi.external-secrets.yaml");
    writeStackConfig(file, config);
    const render = JSON.parse(
        execFileSync("node", [path.join(ROOT, "dist", "scripts", "render.js"), "--stack", "external-secrets", "--config-file", file, "--format", "json"], { cwd: ROOT, encoding: "utf8", maxBuffer: 256 << 20 }),
    );
    const objects = (render.resources as { type: string; inputs: K8sObject }[]).filter((r) => r.type.startsWith("kubernetes:") && r.inputs?.kind).map((r) => r.inputs);
    const wanted = (o: K8sObject) =>
        (o.kind === "Namespace" && o.metadata.name.startsWith("secrets-")) ||
        (o.metadata.namespace?.startsWith("secrets-") && o.kind.startsWith("Role")) ||
        (o.metadata.namespace === tenant && ["ServiceAccount", "SecretStore"].includes(o.kind)) ||
        o.kind === "ClusterSecretStore";
    const picked = objects.filter(wanted);
    const kinds = picked.map((o) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`);
    for (const need of [`SecretStore/${tenant}/${TENANT_STORE}`, `ServiceAccount/${tenant}/${TENANT_STORE}`, `Namespace/${secretsNamespace(tenant)}`, `ClusterSecretStore/${PLATFORM_STORE}`]) {
        if (!kinds.includes(need)) throw new Error(`the render has no ${need} (it has ${kinds.join(", ")})`);
    }
    return picked;
}

/** A TCP relay from `address`:443 to the API server. */
export async function startRelay(cp: ControlPlane, address: string): Promise<net.Server> {
    const target = new URL(cp.server);
    const server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port), target.hostname);
        client.pipe(upstream).pipe(client);
        const close = () => {
            client.destroy();
            upstream.destroy();
        };
        client.on("error", close);
        upstream.on("error", close);
    });
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(443, address, resolve));
    return server;
}

/** A loopback address of its own (127.x.y.z) for the relay. */
export const relayAddress = () => `127.${1 + crypto.randomInt(250)}.${crypto.randomInt(250)}.${1 + crypto.randomInt(250)}`;

/** The operator, in a mount namespace whose /etc/hosts sends kubernetes.default to the relay. */
export function startOperator(cp: ControlPlane, bin: string, processes: HostProcesses, dir: string, relay: string) {
    const hosts = path.join(dir, "hosts");
    fs.writeFileSync(hosts, `${fs.readFileSync("/etc/hosts", "utf8")}\n${relay} kubernetes.default kubernetes.default.svc\n`);
    const operator = [path.join(bin, "external-secrets"), "--metrics-addr=0", "--live-addr=127.0.0.1:0", "--enable-leader-election=false", "--loglevel=debug"];
    // As root a mount namespace; otherwise a user namespace too, in which the bind mount is allowed.
    const unshare = process.getuid?.() === 0 ? ["-m"] : ["-m", "-r"];
    processes.start(PROCESS, "unshare", [...unshare, "sh", "-c", `mount --bind "$0" /etc/hosts && exec "$@"`, hosts, ...operator], { ...process.env, KUBECONFIG: cp.kubeconfig });
}

interface Condition {
    type: string;
    status: string;
    reason?: string;
    message?: string;
}

const conditions = (cp: ControlPlane, kind: string, name: string, namespace: string): Condition[] =>
    getJson(cp, kind, name, "-n", namespace).status?.conditions ?? [];

/**
 * Applies the rendered objects, a secret under the tenant's prefix and an ExternalSecret in the
 * tenant namespace through its store: the value arrives; the platform's store refuses the tenant.
 */
export async function checkTenantSync(cp: ControlPlane, processes: HostProcesses, objects: K8sObject[], tenant: string, dir: string, say: (line: string) => void) {
    const apply = (name: string, docs: object[]) => {
        const file = path.join(dir, `${name}.yaml`);
        fs.writeFileSync(file, docs.map((d) => YAML.stringify(d)).join("---\n"));
        cp.kubectl("apply", "--server-side", "-f", file);
    };
    apply("rendered-secret-objects", objects);
    say(`applied from the render: ${objects.map((o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`).join(", ")}`);
    const ca = YAML.parse(fs.readFileSync(cp.kubeconfig, "utf8")).clusters[0].cluster["certificate-authority-data"];
    const value = crypto.randomBytes(12).toString("hex");
    apply("tenant-secret", [
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kube-root-ca.crt", namespace: tenant }, data: { "ca.crt": Buffer.from(ca, "base64").toString() } },
        { apiVersion: "v1", kind: "Secret", metadata: { name: "database", namespace: secretsNamespace(tenant) }, stringData: { password: value } },
        externalSecret(tenant, "app-database", { kind: "SecretStore", name: TENANT_STORE }),
        externalSecret(tenant, "from-platform-store", { kind: "ClusterSecretStore", name: PLATFORM_STORE }),
    ]);
    await waitFor(`ExternalSecret ${tenant}/app-database Ready through SecretStore ${TENANT_STORE}`, 120_000, () => {
        processes.checkRunning();
        return conditions(cp, "externalsecret", "app-database", tenant).some((c) => c.type === "Ready" && c.status === "True");
    });
    const synced = Buffer.from(getJson(cp, "secret", "app-database", "-n", tenant).data?.password ?? "", "base64").toString();
    if (synced !== value) throw new Error(`secret ${tenant}/app-database holds "${synced}", expected the value written under ${secretsNamespace(tenant)}/database`);
    say(`${tenant}/app-database: synced from ${secretsNamespace(tenant)}/database through the tenant's SecretStore (value matches)`);

    const refusal = `using cluster store "${PLATFORM_STORE}" is not allowed from namespace "${tenant}"`;
    await waitFor(`ExternalSecret ${tenant}/from-platform-store refused by ClusterSecretStore ${PLATFORM_STORE}`, 60_000, () => {
        processes.checkRunning();
        const notReady = conditions(cp, "externalsecret", "from-platform-store", tenant).some((c) => c.type === "Ready" && c.status === "False");
        // The condition says only "could not get secret data from provider"; the reason is in the event.
        const events = getJson(cp, "events", "-n", tenant, "--field-selector", "involvedObject.name=from-platform-store").items as { message: string }[];
        return notReady && events.some((e) => e.message.includes(refusal));
    });
    if (cp.kubectl("get", "secret", "from-platform-store", "-n", tenant, "--ignore-not-found", "-o", "name").trim()) throw new Error(`the platform's store wrote a secret into ${tenant}`);
    say(`the platform's ClusterSecretStore from ${tenant}: refused (${refusal})`);
    cp.kubectl("delete", "externalsecret", "-n", tenant, "app-database", "from-platform-store");
}

const externalSecret = (namespace: string, name: string, store: { kind: string; name: string }) => ({
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: { name, namespace },
    spec: {
        refreshInterval: "1h",
        secretStoreRef: store,
        target: { name },
        data: [{ secretKey: "password", remoteRef: { key: "database", property: "password" } }],
    },
});
