/**
 * What the integration tier and the engine bench share: the tools in .tools/bin, the
 * environment every pulumi command runs in (file backend, passphrase secrets, plugins only
 * from .tools/bin, nothing downloaded), and the compiled program as an inline program.
 *
 * pulumi-language-nodejs cannot be built here (docs/integration.md), so the program runs
 * through the Automation API's inline-program host: the Node.js SDK's own language runtime
 * server, which the CLI reaches with `--client`.
 */
import { EngineEvent, LocalWorkspace, OpMap, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { writeStackConfig } from "./stack-config";

export const ROOT = path.resolve(__dirname, "..", "..", "..");
export const TOOLS = path.join(ROOT, ".tools");
export const BIN = path.join(TOOLS, "bin");

const ENGINE_TOOLS = ["pulumi", "pulumi-resource-kubernetes", "kube-apiserver", "kube-controller-manager", "etcd"];

/** Fails with the fix when a tool or the compiled program is missing. */
export function requireTools(extra: string[] = []) {
    for (const name of [...ENGINE_TOOLS, ...extra]) {
        if (!fs.existsSync(path.join(BIN, name))) throw new Error(`${path.join(BIN, name)} is missing: run scripts/bootstrap-tools.sh first`);
    }
    if (!fs.existsSync(path.join(ROOT, "dist", "index.js"))) throw new Error("dist/index.js is missing: run npm run build first");
}

export interface WorkDirs {
    work: string;
    cluster: string;
    state: string;
    home: string;
    project: string;
}

/** A fresh temporary directory with one subdirectory per concern. */
export function makeWorkDirs(prefix: string): WorkDirs {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const dirs = { work, cluster: path.join(work, "cluster"), state: path.join(work, "state"), home: path.join(work, "pulumi-home"), project: path.join(work, "project") };
    for (const d of [dirs.cluster, dirs.state, dirs.home, dirs.project]) fs.mkdirSync(d, { recursive: true });
    return dirs;
}

/** The environment of every pulumi command (and of the plugins it starts), set on this process. */
export function useEngineEnvironment(dirs: WorkDirs, passphrase: string) {
    Object.assign(process.env, {
        PATH: `${BIN}${path.delimiter}${process.env.PATH}`,
        PULUMI_HOME: dirs.home, // an empty plugin cache: plugins come from .tools/bin on PATH
        PULUMI_BACKEND_URL: `file://${dirs.state}`,
        PULUMI_CONFIG_PASSPHRASE: passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true", // never download a plugin
        PULUMI_SKIP_CONFIRMATIONS: "true",
    });
    delete process.env.KUBECONFIG; // the program must use the kubeconfig its config names
    delete process.env.PULUMI_ACCESS_TOKEN;
}

/** The CLI in .tools/bin. */
export const pulumiCommand = () => PulumiCommand.get({ root: TOOLS });

/** The compiled program, loaded afresh for every engine run (it registers resources at load). */
export function platformProgram() {
    const dist = path.join(ROOT, "dist") + path.sep;
    for (const id of Object.keys(require.cache)) {
        if (id.startsWith(dist) && !id.includes(`${path.sep}node_modules${path.sep}`) && !id.includes(`${path.sep}scripts${path.sep}`)) delete require.cache[id];
    }
    return require(path.join(ROOT, "dist", "index.js"));
}

/**
 * Stack `name` of project `platform` in `dirs.project`, running the compiled program, with
 * `config` as its stack file's config.
 */
export async function createPlatformStack(name: string, dirs: WorkDirs, command: PulumiCommand, config: Record<string, unknown>): Promise<{ stack: Stack; stackFile: string }> {
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dirs.project, "Pulumi.yaml"));
    // The CLI checks that Pulumi.yaml's `main: dist/index.js` exists next to it.
    if (!fs.existsSync(path.join(dirs.project, "dist"))) fs.symlinkSync(path.join(ROOT, "dist"), path.join(dirs.project, "dist"));
    const stack = await LocalWorkspace.createStack(
        { stackName: name, projectName: "platform", program: async () => platformProgram() },
        { workDir: dirs.project, pulumiCommand: command, secretsProvider: "passphrase" },
    );
    const stackFile = path.join(dirs.project, `Pulumi.${name}.yaml`);
    writeStackConfig(stackFile, config);
    return { stack, stackFile };
}

/**
 * Every Tenant component and everything under it, in any stack, as a `--target`/`--exclude`
 * glob (`**` is any text, across the `$`-joined type chain of a child's URN). The same string
 * as docs/performance.md's bulk commands.
 */
export const TENANTS_GLOB = "**platform:tenancy:Tenant**";

/** Operations of a preview or update, and policy events, from the engine's events. */
export function recorder() {
    const ops: { op: string; type: string; urn: string }[] = [];
    const policy: { level: string; name: string; message: string }[] = [];
    const onEvent = (e: EngineEvent) => {
        const m = e.resourcePreEvent?.metadata;
        if (m && m.op !== "same") ops.push({ op: m.op, type: m.type, urn: m.urn });
        if (e.policyEvent) policy.push({ level: e.policyEvent.enforcementLevel, name: e.policyEvent.policyName, message: e.policyEvent.message });
    };
    return { ops, policy, onEvent };
}

/** The non-`same` entries of a change summary. */
export const changes = (summary: OpMap) => Object.entries(summary).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);

/** Runs `stop` once on SIGINT, SIGTERM or SIGHUP, then exits 130. */
export function stopOnSignals(stop: () => Promise<void>, work: string) {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.once(signal, () => {
            console.error(`\n${signal}: stopping the control plane (logs kept in ${work})`);
            stop().finally(() => process.exit(130));
        });
    }
}

export function assert(condition: unknown, message: string): asserts condition {
    if (!condition) throw new Error(message);
}
