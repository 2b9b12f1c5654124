/**
 * npm run test:recovery [-- --tenants N]
 *
 * The crash test of the bulk tenant commands (docs/performance.md): `up` and `destroy` of the
 * tenants only (`--target` the Tenant components and everything under them) with
 * PULUMI_SKIP_CHECKPOINTS=true, which writes the state once, at the end. Each command is
 * killed midway (SIGKILL to every process of its session at once: CLI, provider, program host,
 * as a lost CI runner would), then recovered the documented way (`pulumi cancel`, the same command
 * again), and the end state is checked in both the API server and the state.
 *
 * Real engine, provider and API server, as the integration tier (scripts/integration).
 */
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseCommandLine } from "./cli";
import { benchConfig } from "./engine-bench";
import { readState, tenantResources } from "./engine-bench-state";
import { ControlPlane, startControlPlane } from "./integration/control-plane";
import { assert, BIN, changes, createPlatformStack, makeWorkDirs, platformProgram, pulumiCommand, requireTools, stopOnSignals, TENANTS_GLOB, useEngineEnvironment } from "./integration/engine";

const STACK = "recovery";
const TENANT_LABEL = "platform.example.io/tenant";
/** Per tenant with add-ons off: the component, namespace, quota, limit range, 2 network policies, 2 role bindings. */
const PER_TENANT = { "platform:tenancy:Tenant": 1, "kubernetes:core/v1:Namespace": 1, "kubernetes:core/v1:ResourceQuota": 1, "kubernetes:core/v1:LimitRange": 1, "kubernetes:networking.k8s.io/v1:NetworkPolicy": 2, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": 2 };
const say = (line: string) => console.log(`   ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bulk commands' environment: checkpoints only at the end. */
const BULK_ENV = { PULUMI_SKIP_CHECKPOINTS: "true" };

/** The child: one bulk command on the existing stack, until it ends or is killed. */
async function child(command: "up" | "destroy", projectDir: string) {
    const stack = await LocalWorkspace.selectStack({ stackName: STACK, projectName: "platform", program: async () => platformProgram() }, { workDir: projectDir, pulumiCommand: await pulumiCommand() });
    const log = (text: string) => fs.appendFileSync(path.join(projectDir, "..", `child-${command}.log`), text);
    const options = { target: [TENANTS_GLOB], onOutput: log, color: "never" as const };
    await (command === "up" ? stack.up(options) : stack.destroy(options));
}

/** Objects of `kind` in tenant namespaces, by the tenant label of their namespace. */
function tenantObjects(cp: ControlPlane, kind: string): number {
    if (kind === "namespaces") return lines(cp.kubectl("get", "namespaces", "-l", TENANT_LABEL, "-o", "name"));
    return lines(cp.kubectl("get", kind, "-A", "-o", "jsonpath={range .items[*]}{.metadata.namespace}{\"\\n\"}{end}").split("\n").filter((ns) => ns.startsWith("tenant-")).join("\n"));
}
const lines = (text: string) => text.split("\n").filter((l) => l.trim()).length;

/** Starts a bulk command in its own session and SIGKILLs every process of it once `progressed()` holds. */
async function killMidway(command: "up" | "destroy", dirs: { project: string }, progressed: () => boolean): Promise<void> {
    const proc: ChildProcess = spawn(process.execPath, [__filename, "--child", command, "--project", dirs.project], { detached: true, stdio: "ignore", env: { ...process.env, ...BULK_ENV } });
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    let finished = false;
    void exited.then(() => (finished = true));
    const deadline = Date.now() + 20 * 60_000;
    while (!progressed()) {
        assert(!finished, `the bulk ${command} ended before it could be interrupted: use more tenants`);
        assert(Date.now() < deadline, `the bulk ${command} made no progress in 20 minutes`);
        await sleep(200);
    }
    // The child leads its own session; the Automation API starts the CLI (and the CLI the provider)
    // in process groups of their own inside it, so every process of the session is killed at once.
    // Zombies (state Z) are dead, waiting for init to reap them once their parent is gone.
    const session = () =>
        spawnSync("ps", ["-o", "pid=,stat=", "-s", String(proc.pid)], { encoding: "utf8" })
            .stdout.split("\n")
            .map((l) => l.trim().split(/\s+/))
            .filter(([pid, stat]) => Number(pid) > 0 && !stat.startsWith("Z"))
            .map(([pid]) => Number(pid));
    for (const pid of session()) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // gone already
        }
    }
    await exited;
    for (let tries = 0; tries < 20 && session().length > 0; tries++) await sleep(250);
    const left = session();
    assert(left.length === 0, `processes of the killed session are still running: ${left.join(", ")}`);
}

function checkTenantsState(stateDir: string, tenants: number) {
    const { tenants: found, byType } = tenantResources(readState(stateDir, STACK).resources);
    const expected = Object.fromEntries(Object.entries(PER_TENANT).map(([t, n]) => [t, n * tenants]));
    assert(found === tenants && JSON.stringify(Object.fromEntries([...byType].sort())) === JSON.stringify(Object.fromEntries(Object.entries(expected).sort())), `state: expected ${JSON.stringify(expected)}, got ${JSON.stringify(Object.fromEntries(byType))}`);
}

function checkTenantsLive(cp: ControlPlane, tenants: number) {
    const counts = { namespaces: tenantObjects(cp, "namespaces"), resourcequotas: tenantObjects(cp, "resourcequotas"), limitranges: tenantObjects(cp, "limitranges"), networkpolicies: tenantObjects(cp, "networkpolicies"), rolebindings: tenantObjects(cp, "rolebindings") };
    const expected = { namespaces: tenants, resourcequotas: tenants, limitranges: tenants, networkpolicies: 2 * tenants, rolebindings: 2 * tenants };
    assert(JSON.stringify(counts) === JSON.stringify(expected), `API server: expected ${JSON.stringify(expected)}, got ${JSON.stringify(counts)}`);
    say(`API server: ${JSON.stringify(counts)}`);
}

/** The documented recovery: the stale lock goes (`pulumi cancel`), then the same bulk command again. */
async function recover(stack: Stack, command: "up" | "destroy", stateDir: string) {
    // The file backend's lock: one file per running command. A preview does not take it; a refresh does (and is refused).
    const lockDir = path.join(stateDir, ".pulumi", "locks", "organization", "platform", STACK);
    const locks = () => (fs.existsSync(lockDir) ? fs.readdirSync(lockDir).filter((f) => f.endsWith(".json")) : []);
    assert(locks().length === 1, `the killed ${command} left ${locks().length} lock files, not 1`);
    const blocked = await stack.refresh({ color: "never" }).then(
        () => "",
        (e: Error) => e.message,
    );
    assert(/currently locked/.test(blocked), `the lock of the killed ${command} did not stop a refresh: ${blocked.slice(-500) || "the refresh ran"}`);
    say("the killed run left its lock (a refresh is refused): pulumi cancel");
    await stack.cancel();
    assert(locks().length === 0, `pulumi cancel left ${locks().length} lock files`);
    Object.assign(process.env, BULK_ENV);
    try {
        const options = { target: [TENANTS_GLOB], color: "never" as const };
        const result = await (command === "up" ? stack.up(options) : stack.destroy(options));
        assert(result.summary.result === "succeeded", `recovery ${command}: ${result.summary.result}`);
        say(`recovery ${command}: ${JSON.stringify(result.summary.resourceChanges)}`);
    } finally {
        delete process.env.PULUMI_SKIP_CHECKPOINTS;
    }
}

const USAGE = `usage: npm run test:recovery [-- --tenants N]

Kills the bulk tenant up and destroy (PULUMI_SKIP_CHECKPOINTS=true, --target the tenants)
midway, recovers them the documented way and checks the state and the API server
(real engine, provider and kube-apiserver; bash scripts/bootstrap-tools.sh first).
`;

async function main(): Promise<number> {
    const { values } = parseCommandLine("test:recovery", USAGE, { options: { tenants: { type: "string", default: "200" }, child: { type: "string" }, project: { type: "string" } } });
    if (values.child) {
        await child(values.child as "up" | "destroy", values.project!);
        return 0;
    }
    const tenants = Number(values.tenants);
    requireTools();
    const dirs = makeWorkDirs("platform-recovery-");
    useEngineEnvironment(dirs, "recovery");
    let plane: ControlPlane | undefined;
    const stopAll = async () => {
        if (plane) await plane.stop();
    };
    stopOnSignals(stopAll, dirs.work);
    let failed = false;
    try {
        plane = await startControlPlane(dirs.cluster, BIN, () => undefined);
        const cp = plane;
        const { stack } = await createPlatformStack(STACK, dirs, await pulumiCommand(), benchConfig(cp, tenants, []));
        console.log(`recovery test: ${tenants} tenants, work directory ${dirs.work}`);

        // The procedure's first command: everything but the tenants, with checkpoints (the cluster and its provider).
        const platform = await stack.up({ exclude: [TENANTS_GLOB], excludeDependents: true, color: "never" });
        assert(platform.summary.result === "succeeded", `up (all but the tenants): ${platform.summary.result}`);
        assert(tenantResources(readState(dirs.state, STACK).resources).tenants === 0, "the first command created tenants");
        say(`all but the tenants: ${JSON.stringify(platform.summary.resourceChanges)}`);

        console.log("\n== bulk up (tenants only, checkpoints at the end), killed midway");
        await killMidway("up", dirs, () => tenantObjects(cp, "namespaces") >= tenants / 4);
        const orphans = tenantObjects(cp, "namespaces");
        const inState = tenantResources(readState(dirs.state, STACK).resources).tenants;
        say(`killed with ${orphans} of ${tenants} tenant namespaces created; the state holds ${inState} tenants`);
        assert(orphans > 0 && orphans < tenants, `expected a partial create, found ${orphans} namespaces`);
        assert(inState === 0, `the state was written during the bulk up: ${inState} tenants`);
        await recover(stack, "up", dirs.state);
        checkTenantsState(dirs.state, tenants);
        checkTenantsLive(cp, tenants);
        const preview = await stack.preview({ expectNoChanges: true, color: "never" });
        assert(changes(preview.changeSummary).length === 0, `after recovery, the preview is not empty: ${JSON.stringify(preview.changeSummary)}`);
        say("the preview after recovery shows no change");

        console.log("\n== bulk destroy (tenants only), killed midway");
        await killMidway("destroy", dirs, () => tenantObjects(cp, "resourcequotas") <= (3 * tenants) / 4);
        say(`killed with ${tenantObjects(cp, "resourcequotas")} of ${tenants} quotas left; the state holds ${tenantResources(readState(dirs.state, STACK).resources).tenants} tenants`);
        await recover(stack, "destroy", dirs.state);
        const left = tenantResources(readState(dirs.state, STACK).resources);
        assert(left.count === 0, `after recovery, the state holds ${left.count} tenant resources`);
        // The tenants' objects go with their namespaces (deletedWith): every kind is counted, not only namespaces.
        checkTenantsLive(cp, 0);
        say("nothing of the tenants is left, in the state or the API server");

        const destroy = await stack.destroy({ color: "never" });
        assert(destroy.summary.result === "succeeded", `final destroy: ${destroy.summary.result}`);
        console.log("\nrecovery: passed");
    } catch (e) {
        failed = true;
        console.error(`\nrecovery test failed: ${e instanceof Error ? e.message : e}\nwork directory kept: ${dirs.work}`);
    } finally {
        await stopAll();
    }
    if (!failed) fs.rmSync(dirs.work, { recursive: true, force: true });
    return failed ? 1 : 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err) => {
            process.stderr.write(`recovery: ${err instanceof Error ? err.message : String(err)}\n`);
            process.exit(1);
        },
    );
}
