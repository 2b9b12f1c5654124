/**
 * npm run render -- --stack <name> [--config-file F] [--out F] [--format json|summary]
 * Writes what the stack would create, offline. Invalid config: exit 1, problems on stderr.
 */
import * as fs from "fs";
import * as path from "path";
import { parseCommandLine, usageError } from "./cli";
import { readStackConfig, renderProgram, serialize, stackFilePath } from "./render-program";
import { summary } from "./render-summary";

const USAGE = `usage: npm run render -- --stack <name> [--config-file F] [--out F] [--format json|summary]

Runs the program under Pulumi mocks (no cloud, no CLI, no network) and writes what the stack
would create: { stack, resources: [{ urn, type, name, parent, provider, dependencies, inputs,
protect, retainOnDelete, ... }] }, sorted by URN.

  --stack <name>      reads Pulumi.<name>.yaml (local, staging, production)
  --config-file F     another stack file, rendered as stack <name>
  --out F             the JSON to F, creating its directory (a one-line note on stderr)
  --format FORMAT     json: the JSON on stdout; summary: resources per cluster and per type.
                      Default without --out: json when stdout is a pipe or file, summary (on
                      stderr) when it is a terminal.
  -h, --help          this text
`;

const FORMATS = ["json", "summary"] as const;

async function main(): Promise<number> {
    const { values } = parseCommandLine("render", USAGE, {
        options: { stack: { type: "string" }, "config-file": { type: "string" }, out: { type: "string" }, format: { type: "string" } },
    });
    if (!values.stack) usageError("render", "--stack <name> is required (--help for usage)");
    const format = values.format as (typeof FORMATS)[number] | undefined;
    if (format !== undefined && !FORMATS.includes(format)) usageError("render", `--format must be one of ${FORMATS.join(", ")}, not ${format}`);
    const file = values["config-file"] ?? stackFilePath(values.stack);
    if (!fs.existsSync(file)) usageError("render", `no stack file ${file}`);
    let doc;
    try {
        doc = await renderProgram(values.stack, readStackConfig(file));
    } catch (err) {
        // User errors (bad config, missing provider) are messages, not stack traces.
        process.stderr.write(`render: stack ${values.stack} (${file}):\n${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
    }
    if (values.out) {
        fs.mkdirSync(path.dirname(values.out), { recursive: true });
        fs.writeFileSync(values.out, serialize(doc));
        process.stderr.write(`render: ${doc.resources.length} resources of stack ${values.stack} -> ${values.out}\n`);
    }
    if (format === "json" || (!format && !values.out && !process.stdout.isTTY)) process.stdout.write(serialize(doc));
    else if (format === "summary") process.stdout.write(summary(doc));
    else if (!values.out) {
        process.stderr.write(summary(doc));
        process.stderr.write("the JSON: --out F, --format json, or pipe stdout (npm run render -- --help)\n");
    }
    return 0;
}

main().then((code) => process.exit(code));
