/**
 * A throwaway Kubernetes control plane on 127.0.0.1 for the integration tier: etcd,
 * kube-apiserver and kube-controller-manager (only the namespace, resource quota, cluster
 * role aggregation and garbage collector controllers) from .tools/bin, on free ports, with certificates made
 * by openssl and a static token for the program. No kubelet, no nodes: the platform's
 * tenancy objects are API objects, and that is what the tier checks.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { HostProcesses, waitFor } from "./host-processes";

export interface ControlPlane {
    /** Kubeconfig file (token auth, CA pinned) with a single context `context`. */
    readonly kubeconfig: string;
    readonly context: string;
    readonly server: string;
    /** `kubectl --kubeconfig ... <args>`; throws with kubectl's stderr on failure. */
    kubectl(...args: string[]): string;
    /** Writes a kubeconfig for the same server with another bearer token (e.g. a service account's). */
    writeKubeconfig(file: string, token: string): void;
    /** Stops every process (TERM, then KILL after 10 s). Safe to call twice. */
    stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

function openssl(dir: string, ...args: string[]) {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** CA, API server serving certificate (127.0.0.1), service-account signing key pair. */
function makeCertificates(dir: string) {
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=platform-integration-ca");
    openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "apiserver.key", "-out", "apiserver.csr", "-subj", "/CN=kube-apiserver");
    fs.writeFileSync(
        path.join(dir, "apiserver.ext"),
        "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n" +
            "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n",
    );
    openssl(dir, "x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "apiserver.crt", "-days", "2", "-extfile", "apiserver.ext");
    openssl(dir, "genrsa", "-out", "sa.key", "2048");
    openssl(dir, "rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub");
}

function kubeconfigYaml(server: string, caFile: string, token: string, context: string): string {
    const ca = fs.readFileSync(caFile).toString("base64");
    return [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{ name: ${context}, cluster: { server: "${server}", certificate-authority-data: "${ca}" } }]`,
        `users: [{ name: ${context}-admin, user: { token: "${token}" } }]`,
        `contexts: [{ name: ${context}, context: { cluster: ${context}, user: ${context}-admin } }]`,
        `current-context: ${context}`,
        "",
    ].join("\n");
}

/**
 * Starts the control plane under `dir` and waits until the API server is ready.
 * @param extraApiServerArgs more kube-apiserver flags (the platform tier's webhook routing)
 */
export async function startControlPlane(dir: string, bin: string, log: (line: string) => void, extraApiServerArgs: string[] = []): Promise<ControlPlane> {
    const pki = path.join(dir, "pki");
    fs.mkdirSync(pki, { recursive: true });
    makeCertificates(pki);
    const token = crypto.randomBytes(24).toString("hex");
    fs.writeFileSync(path.join(pki, "tokens.csv"), `${token},platform-integration,platform-integration,"system:masters"\n`, { mode: 0o600 });

    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const server = `https://127.0.0.1:${apiPort}`;
    const context = "platform-integration";
    const kubeconfig = path.join(dir, "kubeconfig");
    fs.writeFileSync(kubeconfig, kubeconfigYaml(server, path.join(pki, "ca.crt"), token, context), { mode: 0o600 });

    const processes = new HostProcesses(dir, log);
    const start = (name: string, args: string[]) => processes.start(name, path.join(bin, name), args);
    const stop = () => processes.stopAll();

    const kubectl = (...args: string[]) => execFileSync("kubectl", ["--kubeconfig", kubeconfig, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

    try {
        const peer = `http://127.0.0.1:${etcdPeer}`;
        start("etcd", [
            "--name=integration",
            `--data-dir=${path.join(dir, "etcd")}`,
            `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
            `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
            `--listen-peer-urls=${peer}`,
            `--initial-advertise-peer-urls=${peer}`,
            `--initial-cluster=integration=${peer}`,
            "--logger=zap",
            "--log-level=warn",
        ]);
        start("kube-apiserver", [
            `--etcd-servers=http://127.0.0.1:${etcdClient}`,
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            `--secure-port=${apiPort}`,
            `--cert-dir=${path.join(dir, "apiserver")}`,
            `--tls-cert-file=${path.join(pki, "apiserver.crt")}`,
            `--tls-private-key-file=${path.join(pki, "apiserver.key")}`,
            `--client-ca-file=${path.join(pki, "ca.crt")}`,
            `--token-auth-file=${path.join(pki, "tokens.csv")}`,
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-account-key-file=${path.join(pki, "sa.pub")}`,
            `--service-account-signing-key-file=${path.join(pki, "sa.key")}`,
            "--service-cluster-ip-range=10.96.0.0/16",
            "--profiling=false",
            ...extraApiServerArgs,
        ]);
        await waitFor("the API server to be ready", 120_000, () => {
            processes.checkRunning();
            return kubectl("get", "--raw", "/readyz").trim() === "ok";
        });
        start("kube-controller-manager", [
            `--kubeconfig=${kubeconfig}`,
            // namespace: finalizes deleted namespaces; resourcequota: fills in a quota's
            // status, which the Kubernetes provider waits for; clusterrole-aggregation: gives
            // the built-in edit/view ClusterRoles (aggregated) their rules; garbagecollector:
            // completes the provider's foreground deletes (finalizer foregroundDeletion).
            "--controllers=namespace,resourcequota,clusterrole-aggregation,garbagecollector",
            "--leader-elect=false",
            "--secure-port=0",
            "--use-service-account-credentials=false",
        ]);
        const writeKubeconfig = (file: string, other: string) =>
            fs.writeFileSync(file, kubeconfigYaml(server, path.join(pki, "ca.crt"), other, context), { mode: 0o600 });
        return { kubeconfig, context, server, kubectl, writeKubeconfig, stop };
    } catch (e) {
        await stop();
        throw e;
    }
}

