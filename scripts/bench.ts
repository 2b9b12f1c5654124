/**
 * npm run bench [-- --sizes 1,100,1000]
 *
 * How the program scales with tenants: renders one `existing` cluster (the local stack's)
 * with N generated tenants from the compiled program, then registers as many plain
 * ConfigMaps through the bare SDK, both under the render's mocks. Each measurement runs in
 * its own Node process, so its peak memory is its own and no module cache or V8 warm-up
 * leaks from one size into the next.
 */
import { spawnSync } from "child_process";
import * as os from "os";
import { parseCommandLine } from "./cli";
import { readStackConfig, record, renderProgram, StackConfig, stackFilePath } from "./render-program";

interface Measurement {
    resources: number;
    /** Wall time of the render itself: program, registrations, recording (modules already loaded). */
    ms: number;
    /** CPU time (user + system, all threads): steadier than wall time on a shared machine. */
    cpuMs: number;
    peakRssMiB: number;
}

/** A tenant using every feature (groups for both roles, GitOps), so the count is the worst case per tenant. */
const tenant = (i: number) => {
    const name = `tenant-${String(i).padStart(4, "0")}`;
    return { name, groups: { edit: { existing: [`${name}-developers`] }, view: { existing: [`${name}-viewers`] } }, gitops: { url: `https://github.com/example/${name}` } };
};

/** The local stack's config (one existing cluster, its add-ons) with `count` generated tenants. */
export function benchConfig(count: number): StackConfig {
    const base = readStackConfig(stackFilePath("local"));
    const tenants = Array.from({ length: count }, (_, i) => tenant(i));
    return { values: { ...base.values, "platform:tenants": JSON.stringify(tenants) }, secretKeys: base.secretKeys };
}

async function measure(run: () => Promise<number>): Promise<Measurement> {
    const [start, cpu] = [process.hrtime.bigint(), process.cpuUsage()];
    const resources = await run();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const used = process.cpuUsage(cpu);
    return { resources, ms, cpuMs: (used.user + used.system) / 1000, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
}

/** The program with `count` tenants. */
const tenantsRun = (count: number) => async () => (await renderProgram("bench", benchConfig(count))).resources.length;

/** `count` resources straight through the SDK: one provider and ConfigMaps with literal inputs. */
const bareRun = (count: number) => async () => {
    const k8s = await import("@pulumi/kubernetes");
    const doc = await record("bench", { values: {}, secretKeys: [] }, () => {
        const provider = new k8s.Provider("bare", { kubeconfig: "bench" });
        for (let i = 1; i < count; i++) {
            new k8s.core.v1.ConfigMap(`bare-${i}`, { metadata: { name: `bare-${i}`, namespace: "bench" }, data: { key: `value-${i}` } }, { provider });
        }
    });
    return doc.resources.length;
};

function child(mode: "tenants" | "bare", count: number): Measurement {
    const out = spawnSync(process.execPath, [__filename, "--child", mode, "--count", String(count)], { encoding: "utf8", maxBuffer: 1 << 24 });
    if (out.status !== 0) throw new Error(`bench ${mode} ${count} failed (exit ${out.status}):\n${out.stderr}`);
    return JSON.parse(out.stdout.trim().split("\n").pop()!);
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

const USAGE = `usage: npm run bench [-- --sizes 1,100,1000]

Renders the local stack's cluster with N generated tenants for each size, each in its own
Node process, next to as many bare ConfigMaps, and prints time, CPU and peak memory per size
(docs/performance.md). --child tenants|bare --count N runs one measurement.
`;

async function main(): Promise<number> {
    const { values } = parseCommandLine("bench", USAGE, { options: { child: { type: "string" }, count: { type: "string" }, sizes: { type: "string", default: "1,100,1000" } } });
    if (values.child) {
        // Loaded before the clock starts in both modes: the SDKs' module load is not per tenant.
        require("@pulumi/kubernetes");
        const run = values.child === "bare" ? bareRun(Number(values.count)) : tenantsRun(Number(values.count));
        process.stdout.write(JSON.stringify(await measure(run)) + "\n");
        return 0;
    }
    const sizes = values.sizes!.split(",").map(Number);
    const load = () => os.loadavg().map((l) => fmt(l, 2)).join(" ");
    console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average before: ${load()}`);
    const header = ["tenants", "resources", "time s", "cpu s", "peak MiB", "ms/tenant*", "bare time s", "bare cpu s", "bare MiB", "vs bare"];
    console.log(header.map((h) => h.padStart(12)).join(" "));
    const rows: { size: number; t: Measurement; b: Measurement }[] = [];
    for (const size of sizes) {
        const t = child("tenants", size);
        // As many bare resources as the tenant render registered: the ratio is per resource.
        const b = child("bare", t.resources);
        rows.push({ size, t, b });
        const first = rows[0];
        const perTenant = size > first.size ? fmt((t.ms - first.t.ms) / (size - first.size), 2) : "-";
        const cells = [size, t.resources, fmt(t.ms / 1000, 2), fmt(t.cpuMs / 1000, 2), fmt(t.peakRssMiB, 0), perTenant, fmt(b.ms / 1000, 2), fmt(b.cpuMs / 1000, 2), fmt(b.peakRssMiB, 0), `${fmt(t.ms / b.ms, 2)}x`];
        console.log(cells.map((c) => String(c).padStart(12)).join(" "));
    }
    const at = (size: number) => rows.find((r) => r.size === size);
    const [first, mid, last] = [rows[0], at(100), at(1000)];
    if (mid && last && first.size < 100) {
        const marginal = (r: typeof mid) => (r.t.ms - first.t.ms) / (r.size - first.size);
        console.log(`per-tenant cost at 1000 vs at 100: ${fmt(marginal(last) / marginal(mid), 2)}x (goal <= 1.3x)`);
        console.log(`1000 tenants: ${fmt(last.t.ms / 1000, 1)} s (goal < 60 s), peak RSS ${fmt(last.t.peakRssMiB, 0)} MiB (goal < 2048), ${fmt(last.t.ms / last.b.ms, 2)}x the bare SDK per resource (goal <= 1.5x)`);
    }
    console.log(`* marginal: (time(N) - time(${first.size})) / (N - ${first.size}); load average after: ${load()}`);
    return 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err) => {
            process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
            process.exit(1);
        },
    );
}
