/**
 * cert-manager's controller, webhook and CA injector (.tools/bin, built from cert-manager
 * v1.21.1) as host processes beside the chart the program installs.
 *
 * The chart's webhook configurations name the Service `cert-manager-webhook`, whose pods
 * cannot run here. The API server (with `--enable-aggregator-routing`) calls a webhook at
 * its Service's endpoints; the tier writes those endpoints by hand (the endpoints controller
 * does not run) to this machine's address, where the webhook process serves a certificate
 * for the Service's DNS names, and the CA injector fills in the configurations' caBundle from
 * the webhook's CA Secret, as it does in a cluster. Loopback addresses are not allowed in
 * endpoints, so the tier needs one non-loopback IPv4 address.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { ControlPlane } from "./control-plane";
import { HostProcesses, waitFor } from "./host-processes";
import { getJson } from "./checks";

export const NAMESPACE = "cert-manager";
const WEBHOOK_SERVICE = "cert-manager-webhook";
/** The chart's Secret for the webhook's serving CA (its configurations' inject-ca-from-secret annotation). */
const WEBHOOK_CA_SECRET = "cert-manager-webhook-ca";

/** The first non-loopback IPv4 address of this machine. */
export function hostAddress(): string {
    const address = Object.values(os.networkInterfaces())
        .flat()
        .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    if (!address) throw new Error("no non-loopback IPv4 address: the API server cannot reach a webhook on loopback (endpoints may not be 127.0.0.0/8)");
    return address;
}

const json = (o: object) => JSON.stringify(o);

/**
 * Before `pulumi up`: the namespace (the program adopts it: its provider applies server-side),
 * the webhook Service's endpoints, and the webhook and CA injector, so that the first
 * ClusterIssuer the program creates after the release passes the webhook.
 */
export async function startWebhook(cp: ControlPlane, bin: string, processes: HostProcesses, port: number, healthPorts: number[], dir: string) {
    const ip = hostAddress();
    const manifest = path.join(dir, "webhook-endpoints.yaml");
    fs.writeFileSync(
        manifest,
        [
            json({ apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } }),
            // The chart's Service port is named https (443 -> the pods' 10250); the API server looks up the endpoint port of that name.
            json({ apiVersion: "v1", kind: "Endpoints", metadata: { name: WEBHOOK_SERVICE, namespace: NAMESPACE }, subsets: [{ addresses: [{ ip }], ports: [{ name: "https", port }] }] }),
        ].join("\n---\n"),
    );
    cp.kubectl("apply", "-f", manifest);
    processes.start("cert-manager-webhook", path.join(bin, "cert-manager-webhook"), [
        `--kubeconfig=${cp.kubeconfig}`,
        `--secure-port=${port}`,
        `--healthz-port=${healthPorts[0]}`,
        "--metrics-listen-address=0",
        `--dynamic-serving-ca-secret-namespace=${NAMESPACE}`,
        `--dynamic-serving-ca-secret-name=${WEBHOOK_CA_SECRET}`,
        `--dynamic-serving-dns-names=${WEBHOOK_SERVICE},${WEBHOOK_SERVICE}.${NAMESPACE},${WEBHOOK_SERVICE}.${NAMESPACE}.svc`,
    ]);
    // From Secrets only: the Certificate CRD does not exist until the chart is installed.
    processes.start("cert-manager-cainjector", path.join(bin, "cert-manager-cainjector"), [`--kubeconfig=${cp.kubeconfig}`, "--enable-certificates-data-source=false"]);
    await waitFor(`the webhook's CA Secret ${NAMESPACE}/${WEBHOOK_CA_SECRET}`, 60_000, () => {
        processes.checkRunning();
        return cp.kubectl("get", "secret", "-n", NAMESPACE, WEBHOOK_CA_SECRET, "--ignore-not-found", "-o", "name").trim() !== "";
    });
    return ip;
}

/** After `pulumi up` (its CRDs are the chart's): the controller that issues. */
export function startController(cp: ControlPlane, bin: string, processes: HostProcesses) {
    processes.start("cert-manager-controller", path.join(bin, "cert-manager-controller"), [`--kubeconfig=${cp.kubeconfig}`, `--cluster-resource-namespace=${NAMESPACE}`]);
}

interface Condition {
    type: string;
    status: string;
    message?: string;
}

function ready(cp: ControlPlane, kind: string, name: string, namespace?: string): boolean {
    const obj = getJson(cp, kind, name, ...(namespace ? ["-n", namespace] : []));
    return (obj.status?.conditions ?? []).some((c: Condition) => c.type === "Ready" && c.status === "True");
}

function secretFile(cp: ControlPlane, namespace: string, name: string, key: string, file: string) {
    const data = getJson(cp, "secret", "-n", namespace, name).data?.[key];
    if (!data) throw new Error(`secret ${namespace}/${name} has no ${key}`);
    fs.writeFileSync(file, Buffer.from(data, "base64"));
}

/**
 * The program's local CA chain issues: its CA Certificate and ClusterIssuer become Ready, a
 * tenant's Certificate from that issuer becomes Ready with a key pair the CA signed for the
 * names asked, and the chart's webhook (reached through the API server) rejects an invalid one.
 */
export async function checkIssuance(cp: ControlPlane, processes: HostProcesses, caIssuer: string, tenant: string, dir: string, say: (line: string) => void) {
    await waitFor(`Certificate ${NAMESPACE}/${caIssuer} and ClusterIssuer ${caIssuer} Ready`, 180_000, () => {
        processes.checkRunning();
        return ready(cp, "certificate", caIssuer, NAMESPACE) && ready(cp, "clusterissuer", caIssuer);
    });
    say(`the program's CA Certificate ${NAMESPACE}/${caIssuer} and ClusterIssuer ${caIssuer}: Ready`);

    const dnsName = `app.${tenant}.example.test`;
    const certificate = (name: string, spec: object) => json({ apiVersion: "cert-manager.io/v1", kind: "Certificate", metadata: { name, namespace: tenant }, spec });
    fs.writeFileSync(path.join(dir, "tenant-certificate.json"), certificate("app-tls", { secretName: "app-tls", dnsNames: [dnsName], issuerRef: { kind: "ClusterIssuer", name: caIssuer } }));
    cp.kubectl("apply", "-f", path.join(dir, "tenant-certificate.json"));
    await waitFor(`Certificate ${tenant}/app-tls Ready`, 180_000, () => {
        processes.checkRunning();
        return ready(cp, "certificate", "app-tls", tenant);
    });
    secretFile(cp, NAMESPACE, caIssuer, "tls.crt", path.join(dir, "ca.crt"));
    secretFile(cp, tenant, "app-tls", "tls.crt", path.join(dir, "app.crt"));
    const verified = execFileSync("openssl", ["verify", "-CAfile", path.join(dir, "ca.crt"), path.join(dir, "app.crt")], { encoding: "utf8" }).trim();
    const names = execFileSync("openssl", ["x509", "-in", path.join(dir, "app.crt"), "-noout", "-ext", "subjectAltName"], { encoding: "utf8" });
    if (!verified.endsWith(": OK")) throw new Error(`the tenant's certificate does not verify against the program's CA: ${verified}`);
    if (!names.includes(`DNS:${dnsName}`)) throw new Error(`the tenant's certificate lacks DNS:${dnsName}: ${names}`);
    say(`${tenant}/app-tls: Ready, signed by the program's CA (openssl verify: OK), ${names.trim().split("\n").pop()!.trim()}`);

    fs.writeFileSync(path.join(dir, "invalid-certificate.json"), certificate("invalid", { secretName: "invalid", issuerRef: { kind: "ClusterIssuer", name: caIssuer } }));
    const denied = (() => {
        try {
            cp.kubectl("apply", "-f", path.join(dir, "invalid-certificate.json"));
            return undefined;
        } catch (e) {
            return String((e as { stderr?: string }).stderr ?? e);
        }
    })();
    if (!denied || !denied.includes("webhook.cert-manager.io") || !/at least one of commonName/.test(denied)) {
        throw new Error(`the chart's webhook did not reject a Certificate without names: ${denied ?? "it was created"}`);
    }
    say(`a Certificate without names: denied by the chart's webhook (${denied.trim().split("\n")[0].slice(0, 200)})`);
}
