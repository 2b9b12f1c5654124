/**
 * The disaster-recovery drill (`npm run test:integration:dr`, docs/disaster-recovery.md
 * "The drill, for real"): back up, lose the cluster, rebuild it with one config change, get
 * the tenants back. Real processes on 127.0.0.1: MinIO, etcd + kube-apiserver, the Velero
 * server with its AWS plugin, the Pulumi engine running the compiled program. No kubelet:
 * restored Deployments are API objects, no pod runs.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { gunzipSync } from "zlib";
import { parseCommandLine } from "../cli";
import { VELERO_NAMESPACE } from "../../components/platform/velero";
import { ControlPlane, startControlPlane } from "./control-plane";
import { BUCKET, DRILL_CLUSTER, drillConfig, SCHEDULE, TENANTS } from "./dr-drill-config";
import { makeTenantObjects, policyModes, policyProblems, pulumiOwnedProblems, Recorded, restoredProblems } from "./dr-drill-checks";
import { Minio, startMinio, startVeleroServer, veleroPhase, waitForPhase } from "./dr-drill-stores";
import { assert, BIN, changes, createPlatformStack, makeWorkDirs, pulumiCommand, recorder, requireTools, stopOnSignals, TOOLS, useEngineEnvironment, WorkDirs } from "./engine";
import { ChartHooks } from "./chart-hooks";
import { HostProcesses } from "./host-processes";
import { phase, printOutput, recordPhase, say, summary } from "./phases";
import { editStackConfig } from "./stack-config";
import { getJson } from "./checks";
import { kyvernoHooks, veleroHooks } from "./tier-hooks";

const STACK = "dr-drill";
const CHARTS = path.join(TOOLS, "charts");
const USAGE = `usage: npm run test:integration:dr

The disaster-recovery drill: MinIO, a control plane, the Velero server (.tools/bin, from
bash scripts/bootstrap-tools.sh) and the Pulumi engine on this machine; backup, loss,
rebuild with restore, every tenant object back, RTO printed (docs/disaster-recovery.md).
No arguments.
`;

/** What runs on this machine; the Velero server and the control plane are replaced with the cluster. */
interface Machine {
    dirs: WorkDirs;
    store: HostProcesses;
    velero: HostProcesses;
    plane?: ControlPlane;
}

const problemsOrThrow = (what: string, problems: string[]) => {
    if (problems.length) throw new Error(`${what}:\n  - ${problems.join("\n  - ")}`);
};

/**
 * `pulumi up`, with the Velero server started as soon as the program's release has created its
 * Deployment (where a pod would be scheduled). A Restore that fails, or a Velero server that
 * exits, aborts the update at once instead of leaving it waiting for `Completed` for 2 hours.
 * Returns the chart hooks met and done (tier-hooks.ts).
 */
async function upWithVelero(stack: Stack, cp: ControlPlane, m: Machine, serverRunning = false) {
    const abort = new AbortController();
    let finished = false;
    let reason: string | undefined;
    const server = serverRunning
        ? Promise.resolve()
        : startVeleroServer(cp, BIN, m.dirs.work, m.velero, VELERO_NAMESPACE, "velero", 15 * 60_000, () => finished).then((args) => say(`velero ${args.join(" ")}`));
    const sentinel = (async () => {
        while (!finished && !reason) {
            await new Promise((r) => setTimeout(r, 2000));
            try {
                m.velero.checkRunning();
                const restores = (getJson(cp, "restores.velero.io", "-n", VELERO_NAMESPACE).items ?? []) as { metadata: { name: string }; status?: { phase?: string } }[];
                const failed = restores.find((r) => /Failed/.test(r.status?.phase ?? ""));
                if (failed) reason = `Restore ${failed.metadata.name} is ${failed.status?.phase}: ${cp.kubectl("get", "restores.velero.io", failed.metadata.name, "-n", VELERO_NAMESPACE, "-o", "jsonpath={.status}")}`;
            } catch (e) {
                if (e instanceof Error && / exited with code /.test(e.message)) reason = e.message;
            }
            if (reason) abort.abort();
        }
    })();
    const hooks = new ChartHooks(cp, veleroHooks(cp, BIN), say);
    let hooksDone: string[] = [];
    hooks.start();
    try {
        const up = await stack
            .up({ onOutput: printOutput, color: "never", signal: abort.signal })
            .catch((e: Error) => {
                throw new Error(reason ? `aborted: ${reason}` : e.message);
            })
            .finally(() => (hooksDone = hooks.stop()));
        assert(up.summary.result === "succeeded", `up: ${up.summary.result}`);
        say(`resource changes: ${JSON.stringify(up.summary.resourceChanges)}`);
        await server;
        return hooksDone;
    } finally {
        finished = true;
        await sentinel;
        await server.catch(() => undefined);
    }
}

async function drill(m: Machine) {
    const command = await pulumiCommand();
    const minio: Minio = await phase(`MinIO on 127.0.0.1, bucket ${BUCKET} made through the S3 API`, async () => {
        const s = await startMinio(BIN, m.dirs.work, m.store, BUCKET);
        assert(s.list(BUCKET, "").length === 0, "the new bucket is not empty");
        say(`MinIO ${s.endpoint}, bucket ${BUCKET}`);
        return s;
    });
    let cp = await phase("control plane: etcd + kube-apiserver + kube-controller-manager on 127.0.0.1", async () => (m.plane = await startControlPlane(m.dirs.cluster, BIN, say)));

    const { stack, stackFile } = await phase(`stack ${STACK}: local, adopted cluster, Velero + Kyverno (Enforce) from ${CHARTS}, backups to MinIO; access key a secret`, async () => {
        const created = await createPlatformStack(STACK, m.dirs, command, drillConfig(cp.kubeconfig, cp.context, CHARTS, minio.endpoint));
        await created.stack.setConfig("platform:backupCredentials.accessKeyId", { value: minio.accessKeyId, secret: true }, true);
        await created.stack.setConfig("platform:backupCredentials.secretAccessKey", { value: minio.secretAccessKey, secret: true }, true);
        const text = fs.readFileSync(created.stackFile, "utf8");
        assert(!text.includes(minio.secretAccessKey) && !text.includes(minio.accessKeyId), "the stack file holds the access key in plain text");
        assert((text.match(/secure: v1:/g) ?? []).length === 2, "the stack file does not hold both credentials encrypted");
        return created;
    });

    const installHook = "velero/velero-upgrade-crds";
    await phase(`pulumi up: platform (Velero, Kyverno) and tenants; the Velero server starts with the release's Deployment; hook ${installHook} done here`, async () => {
        const hooks = await upWithVelero(stack, cp, m);
        assert(hooks.some((line) => line.startsWith(`hook ${installHook} `)), `Velero's install hook ${installHook} was not met; hooks done: ${hooks.join("; ") || "none"}`);
    });
    await phase("BackupStorageLocation default is Available (Velero reached MinIO with the program's credentials)", () => waitForPhase(cp, m.velero, VELERO_NAMESPACE, "backupstoragelocations.velero.io", "default", "Available", 120_000));
    await phase("Kyverno policies as configured (Enforce)", () => problemsOrThrow("policies", policyProblems(cp, "Enforce")));

    const recorded: Recorded[] = await phase(`tenants' own objects (kubectl, not Pulumi): ConfigMap, Secret, ServiceAccount, RoleBinding, Deployment in ${TENANTS.join(", ")}`, () => {
        const r = makeTenantObjects(cp, TENANTS, m.dirs.work);
        say(r.map((o) => o.id).join(", "));
        return r;
    });

    const backup = `drill-${Date.now()}`;
    await phase(`backup ${backup} from the program's schedule ${SCHEDULE} (velero backup create --from-schedule), Completed, in MinIO`, async () => {
        say(execFileSync(path.join(BIN, "velero"), ["backup", "create", backup, "--from-schedule", SCHEDULE, "--kubeconfig", cp.kubeconfig, "-n", VELERO_NAMESPACE], { encoding: "utf8" }).trim());
        await waitForPhase(cp, m.velero, VELERO_NAMESPACE, "backups.velero.io", backup, "Completed", 180_000);
        const b = getJson(cp, "backups.velero.io", backup, "-n", VELERO_NAMESPACE);
        assert(b.metadata.labels?.["velero.io/schedule-name"] === SCHEDULE, `the backup is not labelled as ${SCHEDULE}'s: ${JSON.stringify(b.metadata.labels)}`);
        say(`items backed up: ${b.status.progress?.itemsBackedUp}; errors ${b.status.errors ?? 0}, warnings ${b.status.warnings ?? 0}`);
        const keys = minio.list(BUCKET, `${DRILL_CLUSTER}/backups/${backup}/`);
        say(`in MinIO: ${keys.join(", ")}`);
        for (const file of [`${backup}.tar.gz`, "velero-backup.json"]) assert(keys.includes(`${DRILL_CLUSTER}/backups/${backup}/${file}`), `MinIO has no ${file} for ${backup}`);
    });

    const lost = Date.now();
    await phase("the cluster is lost: the Velero server, etcd, the API server stop; the control plane's directory and etcd's data are deleted", async () => {
        await m.velero.stopAll();
        await cp.stop();
        m.plane = undefined;
        fs.rmSync(m.dirs.cluster, { recursive: true, force: true });
        fs.mkdirSync(m.dirs.cluster);
    });
    cp = await phase("a fresh control plane (the same kubeconfig path and context, so the stack's provider is unchanged); empty", async () => {
        m.plane = await startControlPlane(m.dirs.cluster, BIN, say);
        const namespaces = getJson(m.plane, "namespaces").items.map((n: { metadata: { name: string } }) => n.metadata.name);
        assert(!namespaces.includes("team-alpha") && !namespaces.includes(VELERO_NAMESPACE), `the fresh control plane is not empty: ${namespaces.join(", ")}`);
        return m.plane;
    });
    m.velero = new HostProcesses(m.dirs.work, say);
    await phase("pulumi refresh: the lost objects leave the state (runbook step 3)", async () => {
        const refresh = await stack.refresh({ onOutput: printOutput, color: "never" });
        say(`refresh: ${JSON.stringify(refresh.summary.resourceChanges)}`);
        assert((refresh.summary.resourceChanges?.delete ?? 0) > 0, "refresh dropped nothing from the state");
    });
    editStackConfig(stackFile, (config) => {
        config["platform:clusters"][0].restore = { schedule: SCHEDULE };
    });
    await phase(`restore: { schedule: ${SCHEDULE} }; pulumi up rebuilds platform and tenants, and waits for the program's Restore to complete`, async () => {
        await upWithVelero(stack, cp, m);
    });
    const restoreName = await phase("the program's Restore: Completed, from the drill's backup, no errors", () => {
        const restores = getJson(cp, "restores.velero.io", "-n", VELERO_NAMESPACE).items;
        assert(restores.length === 1, `expected one Restore, found ${restores.length}`);
        const r = restores[0];
        assert(r.status?.phase === "Completed", `Restore ${r.metadata.name}: ${JSON.stringify(r.status)}`);
        assert(r.spec.scheduleName === SCHEDULE && r.spec.backupName === backup, `Restore ${r.metadata.name} used schedule ${r.spec.scheduleName}, backup ${r.spec.backupName}; expected ${SCHEDULE}, ${backup}`);
        say(`Restore ${r.metadata.name}: ${r.status.phase}, backup ${r.spec.backupName}, items restored ${r.status.progress?.itemsRestored}/${r.status.progress?.totalItems}, warnings ${r.status.warnings ?? 0}, errors ${r.status.errors ?? 0}`);
        // Velero's own record of the restore, in the bucket: what it skipped and why.
        const results = JSON.parse(gunzipSync(minio.get(BUCKET, `${DRILL_CLUSTER}/restores/${r.metadata.name}/restore-${r.metadata.name}-results.gz`)).toString("utf8"));
        say(`restore results in MinIO: ${JSON.stringify(results)}`);
        return r.metadata.name as string;
    });
    await phase("every tenant object is back, from the Restore; Pulumi's own objects are Pulumi's", () => {
        problemsOrThrow("after the restore", [...restoredProblems(cp, TENANTS, recorded, restoreName), ...pulumiOwnedProblems(cp, TENANTS)]);
        say(`${recorded.length} objects back (a Deployment is an object here: no kubelet, no pods)`);
    });
    recordPhase(`RTO: cluster lost -> tenants back (fresh control plane, refresh, up with restore, checks)`, (Date.now() - lost) / 1000);
    await phase("during the restore: Kyverno policies Audit (created before the Restore), schedules paused", () => {
        const restoreCreated = getJson(cp, "restores.velero.io", restoreName, "-n", VELERO_NAMESPACE).metadata.creationTimestamp;
        const { created } = policyModes(cp);
        problemsOrThrow("restore mode", [
            ...policyProblems(cp, "Audit"),
            ...created.filter((t) => Date.parse(t) > Date.parse(restoreCreated)).map((t) => `a ClusterPolicy was created at ${t}, after the Restore (${restoreCreated})`),
            ...schedules(cp).filter((s) => !s.paused).map((s) => `schedule ${s.name} is not paused`),
        ]);
    });
    editStackConfig(stackFile, (config) => {
        delete config["platform:clusters"][0].restore;
    });
    await phase("restore removed; pulumi up: Kyverno back to Enforce, schedules resumed, the Restore kept as the record", async () => {
        await upWithVelero(stack, cp, m, true);
        problemsOrThrow("after the restore", [
            ...policyProblems(cp, "Enforce"),
            ...schedules(cp).filter((s) => s.paused).map((s) => `schedule ${s.name} is still paused`),
            ...(cp.kubectl("get", "restores.velero.io", restoreName, "-n", VELERO_NAMESPACE, "--ignore-not-found", "-o", "name").trim() ? [] : [`Restore ${restoreName} was deleted`]),
            ...restoredProblems(cp, TENANTS, recorded, restoreName),
        ]);
    });
    await phase("pulumi preview --expect-no-changes", async () => {
        const rec = recorder();
        const preview = await stack.preview({ expectNoChanges: true, diff: true, onEvent: rec.onEvent, color: "never" });
        assert(changes(preview.changeSummary).length === 0, `drift after the rebuild: ${JSON.stringify(preview.changeSummary)} ${JSON.stringify(rec.ops)}`);
        say(`change summary: ${JSON.stringify(preview.changeSummary)}`);
    });
    say(`restore phase now: ${veleroPhase(cp, VELERO_NAMESPACE, "restores.velero.io", restoreName)}`);
    await phase("pulumi destroy --yes: the rebuilt stack comes down (Kyverno's pre-delete hooks done here); the backups stay in the store", async () => {
        const hooks = new ChartHooks(cp, kyvernoHooks(cp, async () => undefined), say);
        hooks.start();
        const destroy = await stack.destroy({ onOutput: printOutput, color: "never" }).finally(() => hooks.stop());
        assert(destroy.summary.result === "succeeded", `destroy: ${destroy.summary.result}`);
        const left = cp.kubectl("get", "namespaces", "-o", "name").split("\n").filter((n) => [VELERO_NAMESPACE, "kyverno", ...TENANTS].includes(n.replace("namespace/", "")));
        assert(left.length === 0, `namespaces left after destroy: ${left.join(", ")}`);
        const kept = `${DRILL_CLUSTER}/backups/${backup}/velero-backup.json`;
        assert(minio.list(BUCKET, `${DRILL_CLUSTER}/backups/${backup}/`).includes(kept), `${kept} is gone from the store after destroy`);
    });
}

function schedules(cp: ControlPlane): { name: string; paused: boolean }[] {
    const items = getJson(cp, "schedules.velero.io", "-n", VELERO_NAMESPACE).items as { metadata: { name: string }; spec: { paused?: boolean } }[];
    if (items.length === 0) throw new Error("no Velero schedules");
    return items.map((s) => ({ name: s.metadata.name, paused: s.spec.paused === true }));
}

async function main() {
    parseCommandLine("integration-dr", USAGE, { options: {} });
    requireTools(["velero", "velero-plugin-for-aws", "minio"]);
    for (const chart of ["velero", "kyverno"]) assert(fs.existsSync(path.join(CHARTS, chart, "Chart.yaml")), `${CHARTS}/${chart} is missing: run bash scripts/bootstrap-tools.sh first`);
    const dirs = makeWorkDirs("dr-drill-");
    say(`work directory: ${dirs.work}`);
    useEngineEnvironment(dirs, "dr-drill");
    const m: Machine = { dirs, store: new HostProcesses(dirs.work, say), velero: new HostProcesses(dirs.work, say) };
    const stopAll = async () => {
        await m.velero.stopAll();
        await m.plane?.stop();
        await m.store.stopAll();
    };
    stopOnSignals(stopAll, dirs.work);
    let failed = false;
    try {
        await drill(m);
    } catch (e) {
        failed = true;
        console.error(`\n${e instanceof Error ? e.message : e}`);
    } finally {
        await phase("stop Velero, the control plane and MinIO", stopAll).catch(() => (failed = true));
    }
    if (summary("disaster-recovery drill") > 0) failed = true;
    if (failed) console.log(`logs kept in ${dirs.work}`);
    else fs.rmSync(dirs.work, { recursive: true, force: true });
    process.exit(failed ? 1 : 0);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
