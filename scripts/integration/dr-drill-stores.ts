/**
 * The drill's backup store and backup server, as host processes: MinIO (built from its Go
 * module) serving the bucket on 127.0.0.1, and the Velero server with velero-plugin-for-aws
 * standing in for the pod of the Deployment the program's Velero release creates.
 *
 * The bucket is read and made through the S3 API with curl's own SigV4 signing
 * (`--aws-sigv4`), as any S3 client would, so the drill needs no S3 library.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ControlPlane, freePort } from "./control-plane";
import { HostProcesses, StopWaiting, waitFor } from "./host-processes";
import { getJson } from "./checks";

export interface Minio {
    readonly endpoint: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    /** Keys of the objects under `prefix` in `bucket` (ListObjectsV2, every page). */
    list(bucket: string, prefix: string): string[];
    /** One object's content. */
    get(bucket: string, key: string): Buffer;
}

/** curl against MinIO, signed with the root credentials; returns the body, throws on an HTTP error. */
function s3(endpoint: string, user: string, password: string, method: string, url: string): Buffer {
    return execFileSync("curl", ["--silent", "--show-error", "--fail-with-body", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", `${user}:${password}`, "-X", method, `${endpoint}${url}`], {
        stdio: ["ignore", "pipe", "pipe"],
    });
}

const xmlValues = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]);

/** MinIO on a free 127.0.0.1 port, one drive under `dir`, with `bucket` made through the S3 API. */
export async function startMinio(bin: string, dir: string, processes: HostProcesses, bucket: string): Promise<Minio> {
    const [port, consolePort] = [await freePort(), await freePort()];
    const endpoint = `http://127.0.0.1:${port}`;
    const accessKeyId = `drill-${crypto.randomBytes(4).toString("hex")}`;
    const secretAccessKey = crypto.randomBytes(24).toString("hex");
    fs.mkdirSync(path.join(dir, "minio-data"), { recursive: true });
    processes.start("minio", path.join(bin, "minio"), ["server", path.join(dir, "minio-data"), "--address", `127.0.0.1:${port}`, "--console-address", `127.0.0.1:${consolePort}`, "--quiet"], {
        ...process.env,
        MINIO_ROOT_USER: accessKeyId,
        MINIO_ROOT_PASSWORD: secretAccessKey,
        MINIO_BROWSER: "off",
        MINIO_UPDATE: "off",
    });
    await waitFor("MinIO to be ready", 60_000, () => {
        processes.checkRunning();
        execFileSync("curl", ["--silent", "--fail", `${endpoint}/minio/health/ready`]);
        return true;
    });
    s3(endpoint, accessKeyId, secretAccessKey, "PUT", `/${bucket}`);
    const list = (b: string, prefix: string) => {
        const keys: string[] = [];
        let token: string | undefined;
        do {
            const query = `list-type=2&prefix=${encodeURIComponent(prefix)}${token ? `&continuation-token=${encodeURIComponent(token)}` : ""}`;
            const xml = s3(endpoint, accessKeyId, secretAccessKey, "GET", `/${b}?${query}`).toString("utf8");
            keys.push(...xmlValues(xml, "Key"));
            token = xmlValues(xml, "NextContinuationToken")[0];
        } while (token);
        return keys;
    };
    const get = (b: string, key: string) => s3(endpoint, accessKeyId, secretAccessKey, "GET", `/${b}/${key.split("/").map(encodeURIComponent).join("/")}`);
    return { endpoint, accessKeyId, secretAccessKey, list, get };
}

interface Deployment {
    metadata: { namespace: string };
    spec: { template: { spec: { containers: { name: string; args?: string[]; env?: { name: string; value?: string }[] }[] } } };
}

/**
 * Waits for the Deployment `velero` the program's release creates, then runs its container's
 * command (`velero server` and the chart's flags) on this machine, as the pod would: the
 * kubeconfig instead of the in-cluster service account, the plugin directory holding
 * velero-plugin-for-aws (the init container's copy), loopback addresses for metrics and the
 * profiler, scratch and credentials directories in `dir`. Returns the arguments it ran with.
 */
export async function startVeleroServer(cp: ControlPlane, bin: string, dir: string, processes: HostProcesses, namespace: string, name: string, timeoutMs: number, cancelled: () => boolean): Promise<string[]> {
    let deployment: Deployment | undefined;
    await waitFor(`the Deployment ${namespace}/${name} (the program's Velero release)`, timeoutMs, () => {
        if (cancelled()) throw new StopWaiting("cancelled");
        deployment = getJson(cp, "deployment", name, "-n", namespace) as Deployment;
        return true;
    });
    const container = deployment!.spec.template.spec.containers.find((c) => c.name === "velero");
    if (!container?.args || container.args[0] !== "server") throw new Error(`the Deployment's velero container does not run \`velero server\`: ${JSON.stringify(container)}`);
    const plugins = path.join(dir, "velero-plugins");
    fs.mkdirSync(plugins, { recursive: true });
    const plugin = path.join(plugins, "velero-plugin-for-aws");
    if (!fs.existsSync(plugin)) fs.copyFileSync(path.join(bin, "velero-plugin-for-aws"), plugin);
    fs.chmodSync(plugin, 0o755);
    const scratch = path.join(dir, "velero-scratch");
    fs.mkdirSync(scratch, { recursive: true });
    const args = [
        ...container.args,
        `--kubeconfig=${cp.kubeconfig}`,
        `--namespace=${deployment!.metadata.namespace}`,
        `--plugin-dir=${plugins}`,
        `--metrics-address=127.0.0.1:${await freePort()}`,
        `--profiler-address=127.0.0.1:${await freePort()}`,
    ];
    // The Deployment's plain env (scratch dir, credential file paths) minus what only makes sense in the pod.
    const env: NodeJS.ProcessEnv = { ...process.env, VELERO_SCRATCH_DIR: scratch, VELERO_NAMESPACE: deployment!.metadata.namespace, HOME: dir };
    processes.start("velero", path.join(bin, "velero"), args, env);
    return args;
}

/** `phase` of a Velero object, or undefined while it has none. */
export function veleroPhase(cp: ControlPlane, namespace: string, kind: string, name: string): string | undefined {
    const out = cp.kubectl("get", kind, name, "-n", namespace, "-o", "jsonpath={.status.phase}").trim();
    return out || undefined;
}

/** Waits until `kind/name` reaches `phase`; throws at once on Failed/PartiallyFailed/FailedValidation, with the status. */
export async function waitForPhase(cp: ControlPlane, processes: HostProcesses, namespace: string, kind: string, name: string, phase: string, timeoutMs: number) {
    await waitFor(`${kind} ${name} to reach ${phase}`, timeoutMs, () => {
        processes.checkRunning();
        const now = veleroPhase(cp, namespace, kind, name);
        if (now && /Failed/.test(now)) {
            throw new StopWaiting(`${kind} ${name} is ${now}: ${cp.kubectl("get", kind, name, "-n", namespace, "-o", "jsonpath={.status}")}\n${processes.logOf("velero", 40)}`);
        }
        return now === phase;
    });
}
