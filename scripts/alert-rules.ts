/**
 * Writes the platform's alert rules (components/platform/alert-rules.ts) as a Prometheus
 * rules file, so promtool checks and unit-tests exactly what the PrometheusRule carries.
 *   node dist/scripts/alert-rules.js <out-file>      (stdout without an argument)
 */
import * as fs from "fs";
import { rulesFileYaml } from "../components/platform/alert-rules";
import { parseCommandLine } from "./cli";

const USAGE = `usage: node dist/scripts/alert-rules.js [out-file]

Writes the platform's alert rules as a Prometheus rules file (stdout without an argument),
for promtool (npm run test:alerts).
`;

const [out] = parseCommandLine("alert-rules", USAGE, { options: {}, allowPositionals: true }).positionals;
if (out) fs.writeFileSync(out, rulesFileYaml());
else process.stdout.write(rulesFileYaml());
