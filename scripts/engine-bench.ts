/**
 * npm run bench:engine -- --tenants N [--addons none|all|<key>,<key>] [--config overlay.yaml]
 *                          [--parallel N] [--env NAME=VALUE]... [--profile DIR] [--keep]
 *
 * The program with N tenants through the real engine: the CLI and the Kubernetes provider
 * from .tools/bin against the integration tier's control plane (scripts/integration), file
 * backend, passphrase secrets. Times create (`up`), a one-tenant change (`up`), a one-tenant
 * removal (`up`, then the API server is checked for anything of the tenant left), a no-change
 * `preview` and `destroy`, reads the state's size, then applies and diffs the very objects
 * the engine applied (from the state) with `kubectl --server-side` on the same API server,
 * and deletes them with `kubectl delete` (the namespaces and what lies outside them): the
 * floor the engine is compared with. The last line is machine-readable:
 *
 *   engine-bench: tenants=N create=S change=S remove=S preview=S destroy=S kubectl-apply=S kubectl-diff=S kubectl-delete=S
 *
 * --bulk runs create and destroy as docs/performance.md's bulk procedure: everything but the
 * tenants with checkpoints, and the tenants alone (`--target` the Tenant components) with
 * PULUMI_SKIP_CHECKPOINTS=true (npm run test:recovery is its crash test); without it, each is
 * one plain command, as `pulumi up` and `pulumi destroy` run by default.
 * --addons turns add-ons on (their charts must be installable: today none is here, so the
 * default is none; --config merges extra stack config, e.g. a local chart directory).
 * --parallel N passes `--parallel N` to every engine command (default: the CLI's, 4 per CPU).
 * --env sets a variable for the CLI (e.g. PULUMI_SKIP_CHECKPOINTS=true to measure it).
 * --profile writes the CLI's CPU profiles (`pulumi --profiling`) per phase into DIR.
 */
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { bytesByField, kubernetesObjects, objectsToDelete, readState, tenantResources, writeObjectList } from "./engine-bench-state";
import { ControlPlane, startControlPlane } from "./integration/control-plane";
import { assert, BIN, changes, createPlatformStack, makeWorkDirs, pulumiCommand, recorder, requireTools, stopOnSignals, TENANTS_GLOB, TOOLS, useEngineEnvironment } from "./integration/engine";
import { addonKeys } from "../components/platform/addons";
import { parseCommandLine } from "./cli";
import { editStackConfig, integrationConfig } from "./integration/stack-config";

const STACK = "bench";
const TENANT_LABEL = "platform.example.io/tenant";
/** Kinds a tenant with add-ons off has in its namespace (the removal check looks for each). */
const IN_TENANT_NAMESPACE = ["resourcequotas", "limitranges", "networkpolicies", "rolebindings"];
const say = (line: string) => console.log(`   ${line}`);
const fmt = (seconds: number) => seconds.toFixed(1);
const load = () => os.loadavg()[0].toFixed(2);

/** A tenant with both groups, and its own GitOps sync when Flux is on. */
export function benchTenant(i: number, gitops: boolean) {
    const name = `tenant-${String(i).padStart(4, "0")}`;
    return { name, groups: { edit: { existing: [`${name}-developers`] }, view: { existing: [`${name}-viewers`] } }, ...(gitops ? { gitops: { url: `https://github.com/example/${name}` } } : {}) };
}

/** Add-on keys from `--addons`: none, all, or a comma-separated list. */
export function parseAddons(value: string): string[] {
    const known: string[] = addonKeys;
    if (value === "none") return [];
    if (value === "all") return [...known];
    const keys = value.split(",").map((k) => k.trim());
    const unknown = keys.filter((k) => !known.includes(k));
    if (unknown.length) throw new Error(`--addons: unknown add-on(s) ${unknown.join(", ")}; known: none, all, ${known.join(", ")}`);
    return keys;
}

/** The integration stack's config (one existing cluster) with `tenants` generated tenants and `addons` on. */
export function benchConfig(cp: ControlPlane, tenants: number, addons: string[], overlayFile?: string): Record<string, unknown> {
    const config: Record<string, unknown> = {
        ...integrationConfig(cp.kubeconfig, cp.context),
        "platform:addons": Object.fromEntries(addonKeys.map((a) => [a, { enabled: addons.includes(a) }])),
        "platform:tenants": Array.from({ length: tenants }, (_, i) => benchTenant(i, addons.includes("flux"))),
    };
    if (overlayFile) Object.assign(config, YAML.parse(fs.readFileSync(overlayFile, "utf8")));
    return config;
}

/** The CLI, or a wrapper that adds `--profiling <dir>/<phase>` (the phase comes from the environment). */
async function cli(dirs: { work: string }, profileDir?: string): Promise<PulumiCommand> {
    if (!profileDir) return pulumiCommand();
    fs.mkdirSync(profileDir, { recursive: true });
    const root = path.join(dirs.work, "profiling-cli");
    fs.mkdirSync(path.join(root, "bin"), { recursive: true });
    const wrapper = path.join(root, "bin", "pulumi");
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec "${path.join(BIN, "pulumi")}" --profiling "${path.resolve(profileDir)}/\${ENGINE_BENCH_PHASE:-other}" "$@"\n`, { mode: 0o755 });
    return PulumiCommand.get({ root, skipVersionCheck: true });
}

/** Runs `command` with PULUMI_SKIP_CHECKPOINTS=true for the CLI (the Automation API passes this process's environment). */
async function withoutCheckpoints<T>(command: () => Promise<T>): Promise<T> {
    const before = process.env.PULUMI_SKIP_CHECKPOINTS;
    process.env.PULUMI_SKIP_CHECKPOINTS = "true";
    try {
        return await command();
    } finally {
        if (before === undefined) delete process.env.PULUMI_SKIP_CHECKPOINTS;
        else process.env.PULUMI_SKIP_CHECKPOINTS = before;
    }
}

interface PhaseResult {
    name: string;
    seconds: number;
    /** CPU seconds of this process (the program, through the inline host; kubectl's client is a child). */
    programCpu: number;
    /** CPU seconds of the finished child processes: the CLI and the provider it started (or kubectl). */
    childCpu: number;
    loadBefore: string;
    loadAfter: string;
}

/** CPU seconds of this process and of its waited-for descendants, from /proc/self/stat (Linux). */
function cpuSeconds(): { self: number; children: number } {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    // After "(comm) ": state is field 3, utime 14, stime 15, cutime 16, cstime 17 (proc(5)), in clock ticks of 1/100 s.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    return { self: (f[11] + f[12]) / 100, children: (f[13] + f[14]) / 100 };
}

function kubectlTimed(cp: ControlPlane, args: string[]): { seconds: number; status: number | null; stdout: string; stderr: string } {
    const t0 = process.hrtime.bigint();
    const out = spawnSync("kubectl", ["--kubeconfig", cp.kubeconfig, ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, status: out.status, stdout: out.stdout, stderr: out.stderr };
}

const USAGE = `usage: npm run bench:engine -- --tenants N [--bulk] [--addons none|all|<key>,...] [--config overlay.yaml]
                                 [--parallel N] [--env NAME=VALUE]... [--profile DIR] [--keep]

The program with N tenants through the real engine, provider and a kube-apiserver on 127.0.0.1
(bash scripts/bootstrap-tools.sh first): create, one-tenant change and removal, no-change preview, destroy,
state size, then kubectl apply/diff --server-side and delete of the same objects. docs/performance.md.
`;

async function main(): Promise<number> {
    const { values } = parseCommandLine("bench:engine", USAGE, {
        options: {
            tenants: { type: "string" },
            addons: { type: "string", default: "none" },
            config: { type: "string" },
            env: { type: "string", multiple: true, default: [] },
            profile: { type: "string" },
            keep: { type: "boolean", default: false },
            bulk: { type: "boolean", default: false },
            parallel: { type: "string" },
        },
    });
    const tenants = Number(values.tenants);
    if (!Number.isInteger(tenants) || tenants < 2) throw new Error("--tenants N (an integer >= 2) is required");
    const addons = parseAddons(values.addons!);
    requireTools();

    const dirs = makeWorkDirs("platform-engine-bench-");
    useEngineEnvironment(dirs, "bench");
    for (const pair of values.env!) {
        const eq = pair.indexOf("=");
        if (eq < 1) throw new Error(`--env ${pair}: expected NAME=VALUE`);
        process.env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const engineLog = path.join(dirs.work, "engine.log");
    const logEngine = (text: string) => fs.appendFileSync(engineLog, text);
    const setByUs = values.env!.map((p) => p.slice(0, p.indexOf("=")));
    console.log(`engine bench: ${tenants} tenants, add-ons on: ${addons.length ? addons.join(", ") : "none"}; ${values.bulk ? "bulk create and destroy" : "plain commands"}; ${os.cpus().length} CPUs; node ${process.version}`);
    say(`work directory ${dirs.work}; engine output in ${engineLog}`);
    if (setByUs.length) say(`CLI environment: ${values.env!.join(" ")}`);

    let plane: ControlPlane | undefined;
    const stopAll = async () => {
        if (plane) await plane.stop();
    };
    stopOnSignals(stopAll, dirs.work);
    const results: PhaseResult[] = [];
    const phase = async <T>(name: string, run: () => Promise<T> | T): Promise<T> => {
        process.env.ENGINE_BENCH_PHASE = name;
        const loadBefore = load();
        const [t0, cpu0] = [process.hrtime.bigint(), cpuSeconds()];
        const value = await run();
        const [seconds, cpu1] = [Number(process.hrtime.bigint() - t0) / 1e9, cpuSeconds()];
        const result = { name, seconds, programCpu: cpu1.self - cpu0.self, childCpu: cpu1.children - cpu0.children, loadBefore, loadAfter: load() };
        results.push(result);
        say(`${name}: ${fmt(seconds)} s, CPU ${fmt(result.programCpu)} s here + ${fmt(result.childCpu)} s in the CLI and provider (load ${loadBefore} -> ${load()})`);
        return value;
    };
    const seconds = (name: string) => results.find((r) => r.name === name)!.seconds;

    let failed = false;
    try {
        plane = await startControlPlane(dirs.cluster, BIN, () => undefined);
        const cp = plane;
        const command = await cli(dirs, values.profile);
        say(`pulumi ${command.version ?? "(wrapped)"} from ${TOOLS}; API server ${cp.server}`);
        const { stack, stackFile } = await createPlatformStack(STACK, dirs, command, benchConfig(cp, tenants, addons, values.config));

        const engine = { onOutput: logEngine, color: "never" as const, ...(values.parallel ? { parallel: Number(values.parallel) } : {}) };
        const tenantsOnly = { ...engine, target: [TENANTS_GLOB] };
        const allButTenants = { ...engine, exclude: [TENANTS_GLOB], excludeDependents: true };
        await phase("create", async () => {
            if (values.bulk) {
                const platform = await stack.up(allButTenants);
                assert(platform.summary.result === "succeeded", `up (all but the tenants): ${platform.summary.result}`);
                const up = await withoutCheckpoints(() => stack.up(tenantsOnly));
                assert(up.summary.result === "succeeded", `up (tenants): ${up.summary.result}`);
            } else {
                const up = await stack.up(engine);
                assert(up.summary.result === "succeeded", `up: ${up.summary.result}`);
            }
        });
        const state = readState(dirs.state, STACK);
        fs.copyFileSync(state.file, path.join(dirs.work, "state-after-create.json"));
        const perTenant = tenantResources(state.resources);
        assert(perTenant.tenants === tenants, `the state holds ${perTenant.tenants} tenants, not ${tenants}`);
        const objects = kubernetesObjects(state.resources);
        const objectsFile = path.join(dirs.work, "objects.json");
        writeObjectList(objectsFile, objects);
        const releases = state.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.urn.split("::").pop());

        const changed = benchTenant(Math.floor(tenants / 2), false).name;
        await phase("change", async () => {
            editStackConfig(stackFile, (config) => {
                const tenant = config["platform:tenants"].find((t: { name: string }) => t.name === changed);
                tenant.quota = { "requests.cpu": "3" };
            });
            const rec = recorder();
            const up = await stack.up({ ...engine, onEvent: rec.onEvent });
            assert(up.summary.result === "succeeded", `change: ${up.summary.result}`);
            const updates = rec.ops.filter((o) => o.op !== "refresh");
            assert(
                updates.length === 1 && updates[0].op === "update" && updates[0].type === "kubernetes:core/v1:ResourceQuota" && updates[0].urn.includes(changed),
                `expected one update of ${changed}'s quota, got ${JSON.stringify(updates.slice(0, 5))}`,
            );
        });

        // A tenant leaves: its children are deleted with its namespace (deletedWith), so the
        // check is the API server's: nothing of the tenant is left, in the namespace or beside it.
        const removed = benchTenant(tenants - 1, false).name;
        await phase("remove", async () => {
            editStackConfig(stackFile, (config) => {
                config["platform:tenants"] = config["platform:tenants"].filter((t: { name: string }) => t.name !== removed);
            });
            const rec = recorder();
            const up = await stack.up({ ...engine, onEvent: rec.onEvent });
            assert(up.summary.result === "succeeded", `remove: ${up.summary.result}`);
            const deleted = rec.ops.filter((o) => o.op === "delete");
            const others = rec.ops.filter((o) => o.op !== "delete" && o.op !== "refresh");
            assert(deleted.length === perTenant.count / tenants && deleted.every((o) => o.urn.includes(removed)) && others.length === 0, `expected the ${perTenant.count / tenants} resources of ${removed} deleted and nothing else, got ${JSON.stringify(rec.ops.slice(0, 12))}`);
        });
        const namespaceLeft = cp.kubectl("get", "namespace", removed, "--ignore-not-found", "-o", "name").trim();
        assert(namespaceLeft === "", `the removed tenant's namespace is still there: ${namespaceLeft}`);
        for (const kind of IN_TENANT_NAMESPACE) {
            const left = cp.kubectl("get", kind, "-n", removed, "-o", "name").trim();
            assert(left === "", `the removed tenant's ${kind} are still there: ${left}`);
        }

        await phase("preview", async () => {
            const rec = recorder();
            const preview = await stack.preview({ ...engine, expectNoChanges: true, onEvent: rec.onEvent });
            assert(changes(preview.changeSummary).length === 0, `perpetual diff: ${JSON.stringify(preview.changeSummary)} ${JSON.stringify(rec.ops.slice(0, 5))}`);
        });

        await phase("destroy", async () => {
            if (values.bulk) {
                const tenantsGone = await withoutCheckpoints(() => stack.destroy(tenantsOnly));
                assert(tenantsGone.summary.result === "succeeded", `destroy (tenants): ${tenantsGone.summary.result}`);
            }
            const destroy = await stack.destroy(engine);
            assert(destroy.summary.result === "succeeded", `destroy: ${destroy.summary.result}`);
        });
        const left = readState(dirs.state, STACK).resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
        assert(left.length === 0, `the state still holds ${left.length} resources after destroy`);
        const namespacesLeft = cp.kubectl("get", "namespaces", "-l", TENANT_LABEL, "-o", "name").trim();
        assert(namespacesLeft === "", `destroy left tenant namespaces: ${namespacesLeft.split("\n").length}`);

        // The same objects, on the same (now empty) API server, by kubectl: the floor.
        await phase("kubectl-apply", () => {
            const out = kubectlTimed(cp, ["apply", "--server-side", "--field-manager=engine-bench", "-f", objectsFile]);
            assert(out.status === 0, `kubectl apply failed: ${out.stderr.slice(-2000)}`);
            const applied = out.stdout.trim().split("\n").filter((l) => / serverside-applied$/.test(l)).length;
            assert(applied === objects.length, `kubectl applied ${applied} objects, not ${objects.length}`);
        });
        await phase("kubectl-diff", () => {
            const out = kubectlTimed(cp, ["diff", "--server-side", "--field-manager=engine-bench", "-f", objectsFile]);
            assert(out.status === 0, `kubectl diff found differences or failed (exit ${out.status}): ${(out.stdout + out.stderr).slice(-2000)}`);
        });
        // The namespaces and what lies outside them: a namespace's deletion takes its contents along; kubectl waits until all are gone.
        const deleteFile = path.join(dirs.work, "objects-to-delete.json");
        writeObjectList(deleteFile, objectsToDelete(objects));
        await phase("kubectl-delete", () => {
            const out = kubectlTimed(cp, ["delete", "--wait=true", "--ignore-not-found", "-f", deleteFile]);
            assert(out.status === 0, `kubectl delete failed: ${out.stderr.slice(-2000)}`);
            const left = cp.kubectl("get", "namespaces", "-l", TENANT_LABEL, "-o", "name").trim();
            assert(left === "", `kubectl delete left tenant namespaces: ${left.split("\n").length}`);
        });

        console.log(`\nstate after create: ${state.resources.length} resources, ${(state.bytes / 1e6).toFixed(2)} MB (${Math.round(state.bytes / state.resources.length)} bytes per resource)`);
        console.log(`  bytes by field: ${bytesByField(state.resources).slice(0, 8).map(([f, b]) => `${f} ${(b / 1e6).toFixed(2)} MB`).join(", ")}`);
        console.log(`  per tenant: ${perTenant.count / tenants} resources (${[...perTenant.byType].map(([t, n]) => `${t.split(":").pop()} ${n / tenants}`).join(", ")})`);
        console.log(`  Kubernetes objects applied: ${objects.length}; Helm releases: ${releases.length ? releases.join(", ") : "none"}`);
        console.log(`\n| phase | seconds | CPU s: program | CPU s: CLI + provider (kubectl) | load before | load after | vs kubectl |`);
        console.log(`|---|---:|---:|---:|---:|---:|---:|`);
        const ratio: Record<string, string> = {
            create: `${(seconds("create") / seconds("kubectl-apply")).toFixed(1)}x apply`,
            preview: `${(seconds("preview") / seconds("kubectl-diff")).toFixed(1)}x diff`,
            destroy: `${(seconds("destroy") / seconds("kubectl-delete")).toFixed(1)}x delete`,
        };
        for (const r of results) console.log(`| ${r.name} | ${fmt(r.seconds)} | ${fmt(r.programCpu)} | ${fmt(r.childCpu)} | ${r.loadBefore} | ${r.loadAfter} | ${ratio[r.name] ?? ""} |`);
        console.log(
            `\nengine-bench: tenants=${tenants} create=${fmt(seconds("create"))} change=${fmt(seconds("change"))} remove=${fmt(seconds("remove"))} preview=${fmt(seconds("preview"))} ` +
                `destroy=${fmt(seconds("destroy"))} kubectl-apply=${fmt(seconds("kubectl-apply"))} kubectl-diff=${fmt(seconds("kubectl-diff"))} kubectl-delete=${fmt(seconds("kubectl-delete"))}`,
        );
    } catch (e) {
        failed = true;
        console.error(`\nengine bench failed: ${e instanceof Error ? e.message : e}`);
    } finally {
        await stopAll();
    }
    if (failed || values.keep) console.error(`work directory kept: ${dirs.work}`);
    else fs.rmSync(dirs.work, { recursive: true, force: true });
    return failed ? 1 : 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err) => {
            process.stderr.write(`engine bench: ${err instanceof Error ? err.message : String(err)}\n`);
            process.exit(1);
        },
    );
}
