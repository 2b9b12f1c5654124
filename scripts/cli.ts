/**
 * Command-line handling every script shares, so a person who types `--help` or a wrong flag
 * gets the script's usage or one line saying what is wrong (exit 0 and 2), never a stack
 * trace and never the script's work (which for some is rewriting README.md or an
 * integration run).
 */
import { parseArgs, ParseArgsConfig } from "util";

/** Prints `name: message` on stderr and exits 2 (a usage error). */
export function usageError(name: string, message: string): never {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(2);
}

/**
 * `parseArgs` of the process's arguments (strict: unknown flags are errors), after answering
 * `--help`/`-h` with `usage` on stdout.
 */
export function parseCommandLine<const T extends ParseArgsConfig>(name: string, usage: string, config: T): ReturnType<typeof parseArgs<T>> {
    const args = config.args ?? process.argv.slice(2);
    const flags = args.slice(0, args.includes("--") ? args.indexOf("--") : undefined);
    if (flags.includes("--help") || flags.includes("-h")) {
        process.stdout.write(usage.endsWith("\n") ? usage : `${usage}\n`);
        process.exit(0);
    }
    try {
        return parseArgs({ ...config, args }) as ReturnType<typeof parseArgs<T>>;
    } catch (err) {
        usageError(name, `${err instanceof Error ? err.message : String(err)} (--help for usage)`);
    }
}
