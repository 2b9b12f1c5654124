import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse, parseAllDocuments } from "yaml";

// README's local setup applies docs/local-minio.yaml before `pulumi up -s local`: it must serve
// exactly the store Pulumi.local.yaml points Velero at. (The root key itself is compared with
// the stack's decrypted backupCredentials in the integration tier, which has the CLI.)
const ROOT = path.join(__dirname, "..", "..");
type Manifest = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; stringData?: Record<string, string> };
const manifests = parseAllDocuments(fs.readFileSync(path.join(ROOT, "docs", "local-minio.yaml"), "utf8")).map((d) => d.toJS() as Manifest);
const only = (kind: string) => {
    const found = manifests.filter((m) => m.kind === kind);
    assert.equal(found.length, 1, `one ${kind} in docs/local-minio.yaml`);
    return found[0];
};
const localStack = parse(fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8")).config;
const backup = localStack["platform:clusters"][0].backup as { endpoint: string; bucket: string };

describe("docs/local-minio.yaml (the local stack's backup store)", () => {
    it("is the Service and port Pulumi.local.yaml's backup endpoint names", () => {
        const endpoint = new URL(backup.endpoint);
        assert.equal(endpoint.hostname, "minio.minio.svc.cluster.local");
        const service = only("Service");
        assert.equal(`${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`, endpoint.hostname);
        assert.deepEqual(service.spec.ports.map((p: { port: number }) => p.port), [Number(endpoint.port)]);
        const deployment = only("Deployment");
        assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
        const [container] = deployment.spec.template.spec.containers;
        assert.match(container.command.join(" "), new RegExp(`minio server /data --address :${endpoint.port}$`));
    });

    it("creates the stack's bucket, on a volume that outlives the pod", () => {
        const deployment = only("Deployment");
        const [container] = deployment.spec.template.spec.containers;
        assert.equal(backup.bucket, "velero");
        assert.match(container.command.join(" "), new RegExp(`mkdir -p /data/${backup.bucket} && exec minio server /data`));
        assert.deepEqual(container.volumeMounts, [{ name: "data", mountPath: "/data" }]);
        assert.deepEqual(deployment.spec.template.spec.volumes, [{ name: "data", persistentVolumeClaim: { claimName: only("PersistentVolumeClaim").metadata.name } }]);
        assert.equal(deployment.spec.strategy.type, "Recreate");
    });

    it("pins a released image and runs under the restricted Pod Security level its namespace enforces", () => {
        assert.equal(only("Namespace").metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted");
        const pod = only("Deployment").spec.template.spec;
        const [container] = pod.containers;
        assert.equal(container.image, "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z");
        assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.deepEqual(container.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
        assert.deepEqual(Object.keys(only("Secret").stringData ?? {}).sort(), ["MINIO_ROOT_PASSWORD", "MINIO_ROOT_USER"]);
        assert.deepEqual(container.envFrom, [{ secretRef: { name: only("Secret").metadata.name } }]);
    });
});
