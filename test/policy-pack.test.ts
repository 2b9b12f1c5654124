/**
 * The pack runs the way the Pulumi CLI runs it: `@pulumi/pulumi/cmd/run-policy-pack` started
 * in policy/ (the engine's working directory for a Node.js pack), loading policy/index.js and
 * the compiled dist/policy/pack.js, serving the analyzer over gRPC. The engine's requests are
 * made here with the SDK's own protobuf client; no CLI, no cloud.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { projectRoot } from "../scripts/render-program";

// Loaded by path: these generated modules have no type declarations we can import cleanly.
/* eslint-disable @typescript-eslint/no-require-imports */
const grpc = require("@grpc/grpc-js");
const analyzerRpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb");

const LEVEL = { advisory: 0, mandatory: 1 } as const;

interface Pack {
    process: ChildProcess;
    client: any;
}

/** Starts the pack for a stack, as the engine does (PULUMI_NODEJS_STACK), and connects to it. */
function startPack(stack: string): Promise<Pack> {
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [projectRoot] });
    const child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], {
        cwd: path.join(projectRoot, "policy"),
        env: { ...process.env, PULUMI_NODEJS_STACK: stack, PULUMI_NODEJS_PROJECT: "platform" },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    return new Promise((resolve, reject) => {
        child.stdout!.once("data", (d) => {
            const port = Number(String(d).trim().split("\n")[0]);
            resolve({ process: child, client: new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) });
        });
        child.once("exit", (code) => reject(new Error(`policy pack exited (${code}) before serving:\n${stderr}`)));
    });
}

const call = <T>(client: any, method: string, request: unknown): Promise<T> =>
    new Promise((resolve, reject) => client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));

function analyzeRequest(type: string, name: string, props: object) {
    const req = new analyzerPb.AnalyzeRequest();
    req.setType(type);
    req.setName(name);
    req.setUrn(`urn:pulumi:s::platform::${type}::${name}`);
    req.setProperties(Struct.fromJavaScript(props));
    const opts = new analyzerPb.AnalyzerResourceOptions();
    opts.setCustomtimeouts(new analyzerPb.AnalyzerResourceOptions.CustomTimeouts());
    req.setOptions(opts);
    return req;
}

describe("policy pack: runnable by the Pulumi CLI from compiled JavaScript", function () {
    this.timeout(60000);
    const started: Pack[] = [];
    after(() => started.forEach((p) => p.process.kill()));

    for (const [stack, level] of [["production", "mandatory"], ["staging", "advisory"]] as const) {
        it(`serves every policy at ${level} level for the ${stack} stack and reports a violation`, async () => {
            const pack = await startPack(stack);
            started.push(pack);
            const info: any = await call(pack.client, "getAnalyzerInfo", new Empty());
            assert.equal(info.getName(), "platform");
            const levels = info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()]);
            assert.deepEqual(levels.map((l: unknown[]) => l[0]), [
                "helm-chart-version-exact",
                "cluster-private-endpoint-encrypted",
                "node-pool-bounded-autoscaling",
                "backup-bucket-settings",
                "backup-bucket-complete",
                "backup-copy-outside-region",
                "backup-access-logged",
                "backup-customer-managed-key",
                "velero-snapshots-through-csi",
                "tenant-namespace-isolated",
                "cluster-role-binding-accounts",
                "identity-grant-no-wildcard",
                "eks-node-imdsv2",
                "node-no-public-ip",
                "kms-key-policy-explicit",
                "log-group-encrypted-retained",
                "vpc-flow-logs-default-sg",
                "default-security-group-closed",
                "image-signatures-verified",
                "gke-intranode-visibility",
                "aks-encryption-at-host",
                "azure-data-private",
                "resource-type-known",
            ]);
            assert.ok(levels.every(([, l]: [string, number]) => l === LEVEL[level]), JSON.stringify(levels));

            const bad: any = await call(pack.client, "analyze", analyzeRequest("kubernetes:helm.sh/v3:Release", "r", { chart: "velero", version: "~11.0" }));
            const diagnostics = bad.getDiagnosticsList().map((d: any) => [d.getPolicyname(), d.getEnforcementlevel()]);
            assert.deepEqual(diagnostics, [["helm-chart-version-exact", LEVEL[level]]]);
            const good: any = await call(pack.client, "analyze", analyzeRequest("kubernetes:helm.sh/v3:Release", "r", { chart: "velero", version: "11.0.0" }));
            assert.deepEqual(good.getDiagnosticsList(), []);
        });
    }
});
