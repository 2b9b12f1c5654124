/**
 * A throwaway Kubernetes control plane on 127.0.0.1 for the integration tier: etcd,
 * kube-apiserver and kube-controller-manager (only the namespace, resource quota, cluster
 * role aggregation and garbage collector controllers) from .tools/bin, on free ports, with certificates made
 * by openssl and a static token for the program. No kubelet, no nodes: the platform's
 * tenancy objects are API objects, and that is what the tier checks.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

export interface ControlPlane {
    /** Kubeconfig file (token auth, CA pinned) with a single context `context`. */
    readonly kubeconfig: string;
    readonly context: string;
    readonly server: string;
    /** `kubectl --kubeconfig ... <args>`; throws with kubectl's stderr on failure. */
    kubectl(...args: string[]): string;
    /** Stops every process (TERM, then KILL after 10 s). Safe to call twice. */
    stop(): Promise<void>;
}

async function freePort(): Promise<number> {
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

function tail(file: string, lines = 25): string {
    try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
        return "(no log)";
    }
}

/** Starts the control plane under `dir` and waits until the API server is ready. */
export async function startControlPlane(dir: string, bin: string, log: (line: string) => void): Promise<ControlPlane> {
    const processes: { name: string; child: ChildProcess; logFile: string }[] = [];
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

    let stopped = false;
    const start = (name: string, args: string[]) => {
        const logFile = path.join(dir, `${name}.log`);
        const out = fs.openSync(logFile, "a");
        const child = spawn(path.join(bin, name), args, { cwd: dir, stdio: ["ignore", out, out] });
        fs.closeSync(out);
        child.on("exit", (code, signal) => {
            if (!stopped) log(`${name} exited unexpectedly (code ${code}, signal ${signal}); last lines of ${logFile}:\n${tail(logFile)}`);
        });
        processes.push({ name, child, logFile });
        log(`started ${name} (pid ${child.pid})`);
    };

    const stop = async () => {
        if (stopped) return;
        stopped = true;
        for (const { name, child } of [...processes].reverse()) {
            if (child.exitCode !== null || child.signalCode !== null) continue;
            const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
            await exited;
            clearTimeout(timer);
            log(`stopped ${name} (pid ${child.pid})`);
        }
    };

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
        ]);
        await waitFor("the API server to be ready", 120_000, () => {
            for (const p of processes) {
                if (p.child.exitCode !== null) throw new Error(`${p.name} exited with code ${p.child.exitCode}:\n${tail(p.logFile)}`);
            }
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
        return { kubeconfig, context, server, kubectl, stop };
    } catch (e) {
        await stop();
        throw e;
    }
}

async function waitFor(what: string, timeoutMs: number, ready: () => boolean) {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
        try {
            if (ready()) return;
        } catch (e) {
            if (e instanceof Error && / exited with code /.test(e.message)) throw e;
            last = e;
        }
        await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
}
