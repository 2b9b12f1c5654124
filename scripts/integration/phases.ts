/** The integration tiers' phases: named, timed, and summed up at the end. */

const results: { phase: string; seconds: number; ok: boolean; spans?: boolean }[] = [];

export const say = (line: string) => console.log(`   ${line.replace(/\n/g, "\n   ")}`);

export async function phase<T>(name: string, run: () => Promise<T> | T): Promise<T> {
    console.log(`\n== ${name}`);
    const t0 = Date.now();
    try {
        const value = await run();
        results.push({ phase: name, seconds: (Date.now() - t0) / 1000, ok: true });
        console.log(`-- ok: ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
        return value;
    } catch (e) {
        results.push({ phase: name, seconds: (Date.now() - t0) / 1000, ok: false });
        console.log(`-- FAILED: ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
        throw e;
    }
}

/** A measured interval that spans several phases (the drill's RTO), as a row of the table (not added to the total). */
export function recordPhase(name: string, seconds: number) {
    results.push({ phase: name, seconds, ok: true, spans: true });
    console.log(`\n== ${name}\n-- ok: ${name} (${seconds.toFixed(1)}s)`);
}

/** Engine output, indented under its phase. */
export const printOutput = (text: string) => process.stdout.write(text.replace(/^(?=.)/gm, "   | "));

/** Prints every phase with its time; returns how many failed. */
export function summary(tier: string): number {
    console.log(`\n${tier} phases:`);
    for (const r of results) console.log(`  ${r.ok ? "ok    " : "FAILED"} ${r.seconds.toFixed(1).padStart(7)}s  ${r.phase}`);
    console.log(`  total ${results.reduce((s, r) => s + (r.spans ? 0 : r.seconds), 0).toFixed(1)}s`);
    const passed = results.filter((r) => r.ok).length;
    console.log(`\n${tier}: ${passed} passed, ${results.length - passed} failed`);
    return results.length - passed;
}
