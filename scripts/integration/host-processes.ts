/**
 * The processes the integration tiers run on this machine (etcd, the API server, the add-ons'
 * controllers): each logs to its own file under the work directory, and all are stopped in
 * reverse order of starting (TERM, then KILL after 10 s).
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

interface Running {
    readonly name: string;
    readonly child: ChildProcess;
    readonly logFile: string;
}

export function tail(file: string, lines = 25): string {
    try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
        return "(no log)";
    }
}

export class HostProcesses {
    private readonly running: Running[] = [];
    private stopping = false;
    /** Processes stopped on purpose (their exit is expected). */
    private readonly stopped = new Set<ChildProcess>();

    constructor(
        private readonly dir: string,
        private readonly log: (line: string) => void,
    ) {}

    /** Starts `command` with `args`, its output in `<dir>/<name>.log`. */
    start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
        const logFile = path.join(this.dir, `${name}.log`);
        const out = fs.openSync(logFile, "a");
        const child = spawn(command, args, { cwd: this.dir, env, stdio: ["ignore", out, out] });
        fs.closeSync(out);
        child.on("exit", (code, signal) => {
            if (!this.stopping && !this.stopped.has(child)) this.log(`${name} exited unexpectedly (code ${code}, signal ${signal}); last lines of ${logFile}:\n${tail(logFile)}`);
        });
        this.running.push({ name, child, logFile });
        this.log(`started ${name} (pid ${child.pid})`);
    }

    /** Throws, with the end of its log, if a process has exited. */
    checkRunning(): void {
        for (const p of this.running) {
            if (p.child.exitCode !== null) throw new Error(`${p.name} exited with code ${p.child.exitCode}:\n${tail(p.logFile)}`);
        }
    }

    /** The end of a process's log (for failure messages). */
    logOf(name: string, lines = 25): string {
        const p = this.running.find((r) => r.name === name);
        return p ? tail(p.logFile, lines) : "(not started)";
    }

    async stopAll(): Promise<void> {
        this.stopping = true;
        while (this.running.length > 0) await this.terminate(this.running.pop()!);
    }

    /** Stops one process (TERM, then KILL after 10 s); the others keep running. */
    async stop(name: string): Promise<void> {
        const index = this.running.findIndex((p) => p.name === name);
        if (index < 0) throw new Error(`${name} was not started`);
        const [p] = this.running.splice(index, 1);
        await this.terminate(p);
    }

    private async terminate({ name, child }: Running): Promise<void> {
        if (child.exitCode !== null || child.signalCode !== null) return;
        this.stopped.add(child);
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
        this.log(`stopped ${name} (pid ${child.pid})`);
    }
}

/** Thrown by a `waitFor` check to end the wait at once (the awaited thing has failed for good). */
export class StopWaiting extends Error {}

/** Polls `ready` every half second; a thrown StopWaiting or " exited with code " ends the wait at once. */
export async function waitFor(what: string, timeoutMs: number, ready: () => boolean) {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
        try {
            if (ready()) return;
        } catch (e) {
            if (e instanceof StopWaiting || (e instanceof Error && / exited with code /.test(e.message))) throw e;
            last = e;
        }
        await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
}
