/**
 * The tenancy tier (`npm run test:integration:tenancy`, the first of `npm run test:integration`):
 * the real Pulumi engine, the real
 * Kubernetes provider and a real API server on 127.0.0.1, nothing from the network.
 *
 * Tools come from .tools/bin (scripts/bootstrap-tools.sh). pulumi-language-nodejs cannot
 * be built here (see docs/integration.md), so the program runs through the Automation
 * API's inline-program host (the Node.js SDK's own language runtime server, which the CLI
 * reaches with `--client`): `stack.up()` is `pulumi up --yes --skip-preview --client=...`.
 *
 * Phases: control plane -> stack -> up -> kubectl checks -> zero-diff preview ->
 * one quota change = one update -> policy pack (passes here, stops a rogue stack) ->
 * destroy -> nothing left; plus: Pulumi.local.yaml's secrets decrypt with "local".
 */
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { ControlPlane, startControlPlane } from "./control-plane";
import { assert, BIN, changes, createPlatformStack, makeWorkDirs, pulumiCommand as toolsPulumi, recorder, requireTools, ROOT, stopOnSignals, useEngineEnvironment } from "./engine";
import { editStackConfig, expectedTenants, integrationConfig, METADATA_CIDR, NETWORK_POLICIES } from "./stack-config";
import { checkNothingLeft, checkTenants } from "./checks";
import { parseCommandLine } from "../cli";
import { phase, printOutput, say, summary } from "./phases";

const STACK = "integration";

const USAGE = `usage: npm run test:integration:tenancy

The tenancy tier: a real kube-apiserver on 127.0.0.1, the real Pulumi engine and
Kubernetes provider from .tools/bin (bash scripts/bootstrap-tools.sh first), up, checks,
zero-diff re-run, one change, the policy pack, destroy (docs/integration.md). No arguments.
`;

async function main() {
    parseCommandLine("integration", USAGE, { options: {} });
    requireTools(["pulumi-analyzer-policy-nodejs"]);
    const dirs = makeWorkDirs("platform-integration-");
    const work = dirs.work;
    say(`work directory: ${work}`);
    useEngineEnvironment(dirs, "integration");

    let plane: ControlPlane | undefined;
    const stopAll = async () => {
        if (plane) await plane.stop();
    };
    stopOnSignals(stopAll, work);

    let failed = false;
    try {
        const pulumiCommand = await toolsPulumi();
        say(`pulumi ${pulumiCommand.version} from ${BIN}`);

        const cp = await phase("control plane: etcd + kube-apiserver + kube-controller-manager on 127.0.0.1", async () => {
            plane = await startControlPlane(dirs.cluster, BIN, say);
            say(`API server ${plane.server}, kubectl --kubeconfig ${plane.kubeconfig}`);
            say(plane.kubectl("version").trim());
            return plane;
        });

        await phase("Pulumi.local.yaml: secure values decrypt with the documented passphrase, and are docs/local-minio.yaml's key", () => checkLocalStackSecrets(pulumiCommand, work));

        const { stack, stackFile } = await phase(`stack ${STACK}: file backend, passphrase secrets, existing cluster, tenants on, add-ons off`, async () => {
            const created = await createPlatformStack(STACK, dirs, pulumiCommand, integrationConfig(cp.kubeconfig, cp.context));
            say(fs.readFileSync(created.stackFile, "utf8").replace(/certificate-authority-data: \S+/, "..."));
            return created;
        });

        await phase("pulumi up --yes", async () => {
            const up = await stack.up({ onOutput: printOutput, color: "never" });
            assert(up.summary.result === "succeeded", `up: ${up.summary.result}`);
            const created = up.summary.resourceChanges?.create ?? 0;
            assert(created > 0, `up created nothing: ${JSON.stringify(up.summary.resourceChanges)}`);
            say(`resource changes: ${JSON.stringify(up.summary.resourceChanges)}`);
        });

        await phase("kubectl: namespaces, quotas, limit ranges, network policies, role bindings as configured", () => {
            checkTenants(cp, expectedTenants, NETWORK_POLICIES, METADATA_CIDR, say);
        });

        await phase("pulumi preview --expect-no-changes", async () => {
            const rec = recorder();
            const preview = await stack.preview({ expectNoChanges: true, onEvent: rec.onEvent, color: "never" });
            assert(changes(preview.changeSummary).length === 0, `perpetual diff: ${JSON.stringify(preview.changeSummary)} ${JSON.stringify(rec.ops)}`);
            say(`change summary: ${JSON.stringify(preview.changeSummary)}`);
        });

        await phase("one tenant's quota changed: the preview shows exactly one update, of that quota", async () => {
            const original = fs.readFileSync(stackFile, "utf8");
            editStackConfig(stackFile, (config) => {
                config["platform:tenants"][1].quota["requests.cpu"] = "3";
            });
            try {
                const rec = recorder();
                const preview = await stack.preview({ onEvent: rec.onEvent, color: "never" });
                say(`change summary: ${JSON.stringify(preview.changeSummary)}`);
                say(`changes: ${JSON.stringify(rec.ops)}`);
                const changed = changes(preview.changeSummary);
                assert(changed.length === 1 && changed[0][0] === "update" && changed[0][1] === 1, `expected exactly one update, got ${JSON.stringify(preview.changeSummary)}`);
                assert(rec.ops.length === 1 && rec.ops[0].type === "kubernetes:core/v1:ResourceQuota" && rec.ops[0].urn.includes("team-beta"), `the update is not team-beta's quota: ${JSON.stringify(rec.ops)}`);
            } finally {
                fs.writeFileSync(stackFile, original);
            }
        });

        await phase("pulumi preview --policy-pack policy: the integration stack passes (mandatory level)", async () => {
            const rec = recorder();
            const preview = await stack.preview({ policyPacks: [path.join(ROOT, "policy")], onEvent: rec.onEvent, color: "never" });
            say(`policy events: ${rec.policy.length ? JSON.stringify(rec.policy) : "none"}`);
            const passed = preview.stdout.split("\n").find((line) => /✅ platform@v\S+ \(local: /.test(line));
            assert(passed, `the CLI did not report the platform pack as passed:\n${preview.stdout.slice(-1500)}`);
            say(`the CLI reports: ${passed.trim()}`);
            assert(!rec.policy.some((p) => p.level === "mandatory"), "a mandatory policy fired on the integration stack");
        });

        await phase("pulumi preview --policy-pack policy: a rogue tenant namespace is stopped by a mandatory policy", () => roguePreview(pulumiCommand, dirs.project, cp));

        await phase("pulumi destroy --yes", async () => {
            const destroy = await stack.destroy({ onOutput: printOutput, color: "never" });
            assert(destroy.summary.result === "succeeded", `destroy: ${destroy.summary.result}`);
            const state = await stack.exportStack();
            const left = (state.deployment?.resources ?? []).filter((r: { type: string }) => r.type !== "pulumi:pulumi:Stack");
            assert(left.length === 0, `the state still holds ${left.length} resources`);
        });

        await phase("kubectl: nothing is left", () => checkNothingLeft(cp, expectedTenants.map((t) => t.name), say));
        await stack.workspace.removeStack(STACK);
    } catch (e) {
        failed = true;
        console.error(`\n${e instanceof Error ? e.message : e}`);
    } finally {
        await phase("stop the control plane", stopAll).catch(() => (failed = true));
    }

    if (summary("integration") > 0) failed = true;
    if (failed) console.log(`logs kept in ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
    process.exit(failed ? 1 : 0);
}

/** The stack file as committed decrypts with "local", in a throwaway backend; a wrong passphrase does not. */
/** The Secret of docs/local-minio.yaml that holds MinIO's root key. */
function localMinioRoot(): Record<string, string> {
    const secret = parseAllDocuments(fs.readFileSync(path.join(ROOT, "docs", "local-minio.yaml"), "utf8"))
        .map((d) => d.toJS() as { kind?: string; stringData?: Record<string, string> })
        .find((d) => d.kind === "Secret");
    return secret?.stringData ?? {};
}

async function checkLocalStackSecrets(pulumiCommand: PulumiCommand, work: string) {
    const dir = path.join(work, "local-secrets");
    fs.mkdirSync(dir);
    for (const f of ["Pulumi.yaml", "Pulumi.local.yaml"]) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
    const envVars = { PULUMI_BACKEND_URL: `file://${path.join(work, "local-secrets-state")}`, PULUMI_CONFIG_PASSPHRASE: "local" };
    fs.mkdirSync(path.join(work, "local-secrets-state"));
    const ws = await LocalWorkspace.create({ workDir: dir, pulumiCommand, envVars });
    await ws.createStack("local");
    assert(fs.readFileSync(path.join(dir, "Pulumi.local.yaml"), "utf8") === fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8"), "stack init rewrote Pulumi.local.yaml");
    const config = await ws.getAllConfig("local"); // --show-secrets
    const secure = Object.entries(config).filter(([, v]) => v.secret);
    assert(secure.length > 0, "Pulumi.local.yaml has no secure values");
    for (const [key, v] of secure) {
        assert(typeof v.value === "string" && v.value.length > 0 && !v.value.startsWith("v1:"), `${key} did not decrypt`);
        say(`${key}: decrypted (${Object.keys(JSON.parse(v.value)).join(", ")})`);
    }
    // The MinIO the README applies on kind must accept the key the stack gives Velero.
    const credentials = JSON.parse(config["platform:backupCredentials"]?.value ?? "{}") as { accessKeyId?: string; secretAccessKey?: string };
    const root = localMinioRoot();
    assert(credentials.accessKeyId === root.MINIO_ROOT_USER && credentials.secretAccessKey === root.MINIO_ROOT_PASSWORD, "docs/local-minio.yaml's root key is not Pulumi.local.yaml's backupCredentials");
    say("docs/local-minio.yaml's root key is the stack's backupCredentials");
    const wrong = await LocalWorkspace.create({ workDir: dir, pulumiCommand, envVars: { ...envVars, PULUMI_CONFIG_PASSPHRASE: "not-local" } });
    const refused = await wrong.getAllConfig("local").then(
        () => false,
        (e: Error) => /passphrase|decrypt/i.test(e.message),
    );
    assert(refused, "a wrong passphrase was not refused");
    say("a wrong passphrase is refused");
}

/**
 * No stack configuration of the platform program can leave a tenant namespace without its
 * quota, limit range and default-deny policy (the schema and the Tenant component see to
 * that), so the mandatory case uses a tiny rogue program: a tenant-labelled namespace and
 * nothing else, on the same API server, in a stack the pack treats as mandatory.
 */
async function roguePreview(pulumiCommand: PulumiCommand, projectDir: string, cp: ControlPlane) {
    const k8s = await import("@pulumi/kubernetes");
    const rogue = await LocalWorkspace.createStack(
        {
            stackName: "integration-rogue",
            projectName: "platform",
            program: async () => {
                const provider = new k8s.Provider("rogue", { kubeconfig: cp.kubeconfig, context: cp.context });
                new k8s.core.v1.Namespace("rogue", { metadata: { name: "rogue", labels: { "platform.example.io/tenant": "rogue" } } }, { provider });
            },
        },
        { workDir: projectDir, pulumiCommand },
    );
    try {
        const rec = recorder();
        const outcome = await rogue.preview({ policyPacks: [path.join(ROOT, "policy")], onEvent: rec.onEvent, color: "never" }).then(
            () => undefined,
            (e: Error) => e,
        );
        say(`policy events: ${JSON.stringify(rec.policy)}`);
        assert(outcome, "the preview of the rogue stack succeeded");
        const stopped = rec.policy.find((p) => p.level === "mandatory" && p.name === "tenant-namespace-isolated");
        assert(stopped, `the preview failed, but not on a mandatory tenant-namespace-isolated violation: ${outcome.message.slice(-2000)}`);
        assert(/mandatory/.test(outcome.message), "the CLI did not report the mandatory violation");
    } finally {
        await rogue.workspace.removeStack("integration-rogue");
        cp.kubectl("get", "namespace", "rogue", "--ignore-not-found") === "" || assert(false, "the preview created the rogue namespace");
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
