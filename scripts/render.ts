/**
 * npm run render -- --stack <name> [--config-file F] [--out F]
 * Writes what the stack would create, offline. Invalid config: exit 1, problems on stderr.
 */
import * as fs from "fs";
import { parseArgs } from "util";
import { readStackConfig, renderProgram, serialize, stackFilePath } from "./render-program";

async function main(): Promise<number> {
    const { values } = parseArgs({ options: { stack: { type: "string" }, "config-file": { type: "string" }, out: { type: "string" } } });
    if (!values.stack) {
        process.stderr.write("usage: npm run render -- --stack <name> [--config-file F] [--out F]\n");
        return 2;
    }
    const file = values["config-file"] ?? stackFilePath(values.stack);
    if (!fs.existsSync(file)) {
        process.stderr.write(`render: no stack file ${file}\n`);
        return 2;
    }
    try {
        const doc = await renderProgram(values.stack, readStackConfig(file));
        const text = serialize(doc);
        if (values.out) {
            fs.writeFileSync(values.out, text);
            process.stderr.write(`render: ${doc.resources.length} resources of stack ${values.stack} -> ${values.out}\n`);
        } else process.stdout.write(text);
        return 0;
    } catch (err) {
        // User errors (bad config, missing provider) are messages, not stack traces.
        process.stderr.write(`render: stack ${values.stack} (${file}):\n${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
    }
}

main().then((code) => process.exit(code));
