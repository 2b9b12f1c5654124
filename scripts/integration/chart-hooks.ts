/**
 * The charts' hook Jobs in the platform tier. Helm creates a hook Job and waits for it to
 * complete; no pod can run here (no kubelet), so each hook the tier meets has a decision,
 * written out below with its reason (docs/integration.md lists them): do the hook's work on
 * this machine, or not run it. Either way the Job is then marked complete through its
 * status, as the job controller would, so that Helm goes on. A hook without a decision is
 * marked failed, which fails the release: a new hook in a chart is a decision to make, not
 * something to wait five minutes for.
 */
import { ControlPlane } from "./control-plane";

export interface HookDecision {
    /** `<namespace>/<Job name>` as the chart names it with the program's release names. */
    readonly job: string;
    /** What the hook does upstream, and what happens to it here. */
    readonly reason: string;
    /** The hook's work, done on this machine (given the Job, whose container says what it runs); absent when the hook is not run. */
    readonly work?: (job: Job) => Promise<void> | void;
}

export interface Job {
    metadata: { name: string; namespace: string; annotations?: Record<string, string> };
    spec: { template: { spec: { containers: { image?: string; command?: string[]; args?: string[] }[] } } };
    status?: { conditions?: { type: string; status: string }[] };
}

/** What the Job's (only) container runs: its command, then its arguments. */
export function jobCommand(job: Job): string[] {
    const [container] = job.spec.template.spec.containers;
    return [...(container.command ?? []), ...(container.args ?? [])];
}

const finished = (job: Job) => (job.status?.conditions ?? []).some((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");

function markJob(cp: ControlPlane, job: Job, outcome: "Complete" | "Failed", message: string) {
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const condition = (type: string, reason: string) => ({ type, status: "True", lastTransitionTime: now, lastProbeTime: now, reason, message });
    // The conditions the job controller sets, in its order (Kubernetes 1.33 validates them).
    const status =
        outcome === "Complete"
            ? { startTime: now, completionTime: now, succeeded: 1, conditions: [condition("SuccessCriteriaMet", "CompletionsReached"), condition("Complete", "CompletionsReached")] }
            : { startTime: now, failed: 1, conditions: [condition("FailureTarget", "BackoffLimitExceeded"), condition("Failed", "BackoffLimitExceeded")] };
    cp.kubectl("patch", "job", "-n", job.metadata.namespace, job.metadata.name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status }));
}

/** Watches for hook Jobs while `start`ed; `stop` returns what was done and fails on a hook without a decision. */
export class ChartHooks {
    private timer: NodeJS.Timeout | undefined;
    private busy = false;
    private readonly handled = new Map<string, string>();
    private readonly unknown = new Set<string>();
    private readonly errors: string[] = [];

    constructor(
        private readonly cp: ControlPlane,
        private readonly decisions: readonly HookDecision[],
        private readonly say: (line: string) => void,
    ) {}

    start(): void {
        this.timer = setInterval(() => void this.poll(), 1000);
    }

    private async poll() {
        if (this.busy) return;
        this.busy = true;
        try {
            const jobs = (JSON.parse(this.cp.kubectl("get", "jobs", "-A", "-o", "json")).items as Job[]).filter((j) => j.metadata.annotations?.["helm.sh/hook"] && !finished(j));
            for (const job of jobs) {
                const id = `${job.metadata.namespace}/${job.metadata.name}`;
                const hook = job.metadata.annotations!["helm.sh/hook"];
                const decision = this.decisions.find((d) => d.job === id);
                if (!decision) {
                    this.unknown.add(`${id} (${hook})`);
                    markJob(this.cp, job, "Failed", "the platform tier has no decision for this hook (scripts/integration/chart-hooks.ts)");
                    continue;
                }
                if (this.handled.has(id)) {
                    // Helm re-created it (before-hook-creation): the work is done, only the status is new.
                    markJob(this.cp, job, "Complete", decision.reason);
                    continue;
                }
                await decision.work?.(job);
                markJob(this.cp, job, "Complete", decision.reason);
                const line = `hook ${id} (${hook}): ${decision.work ? "its work done on this machine" : "not run"}: ${decision.reason}`;
                this.handled.set(id, line);
                this.say(line);
            }
        } catch (e) {
            this.errors.push(e instanceof Error ? e.message : String(e));
        } finally {
            this.busy = false;
        }
    }

    /** Stops watching; the lines of the hooks handled. Throws on hooks without a decision or failed work. */
    stop(): string[] {
        clearInterval(this.timer);
        if (this.unknown.size) throw new Error(`hook Jobs without a decision (marked failed): ${[...this.unknown].join(", ")}`);
        if (this.errors.length) throw new Error(`hook handling failed: ${[...new Set(this.errors)].join("; ")}`);
        return [...this.handled.values()];
    }
}
