// Entry point of the policy pack for the Pulumi CLI (package.json "main"). The pack is written
// in TypeScript next to this file and compiled by the root tsconfig into dist/policy/; its
// dependencies (@pulumi/policy, @pulumi/pulumi) resolve from the root node_modules.
const path = require("path");
const fs = require("fs");

const compiled = path.join(__dirname, "..", "dist", "policy", "pack.js");
if (!fs.existsSync(compiled)) {
    console.error(`policy pack not built: ${compiled} is missing; run "npm ci && npm run build" at the repository root`);
    process.exit(1);
}
require(compiled);
