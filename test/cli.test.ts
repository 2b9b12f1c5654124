import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");
const DIST = path.join(ROOT, "dist");
const node = (script: string, ...args: string[]) => spawnSync(process.execPath, [path.join(DIST, script), ...args], { encoding: "utf8", cwd: ROOT });

/** Modules the scripts import; every other .ts under scripts/ is a command a person runs. */
const LIBRARIES = new Set([
    "scripts/cli.ts",
    "scripts/engine-bench-state.ts",
    "scripts/mock-cloud.ts",
    "scripts/render-program.ts",
    "scripts/render-diff-rules.ts",
    "scripts/render-diff-markdown.ts",
    "scripts/render-summary.ts",
    "scripts/chart-checks.ts",
    "scripts/integration/checks.ts",
    "scripts/integration/control-plane.ts",
    "scripts/integration/engine.ts",
    "scripts/integration/stack-config.ts",
    "scripts/integration/cert-manager-tier.ts",
    "scripts/integration/flux-lockdown.ts",
    "scripts/integration/git-server.ts",
    "scripts/integration/host-processes.ts",
    "scripts/integration/phases.ts",
    "scripts/integration/dr-drill-checks.ts",
    "scripts/integration/dr-drill-config.ts",
    "scripts/integration/dr-drill-stores.ts",
    "scripts/integration/chart-hooks.ts",
    "scripts/integration/tier-hooks.ts",
    "scripts/integration/kyverno-tier.ts",
    "scripts/integration/external-secrets-tier.ts",
    "scripts/integration/envoy-gateway-tier.ts",
    "scripts/integration/monitoring-tier.ts",
    "scripts/integration/monitoring-operator.ts",
]);

function tsUnder(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = `${dir}/${e.name}`;
        return e.isDirectory() ? tsUnder(rel) : rel.endsWith(".ts") ? [rel] : [];
    });
}
const commands = [...tsUnder("scripts").filter((f) => !LIBRARIES.has(f)), "policy/offline.ts"].sort();
/** What npm run docs:config writes (config-reference.ts, rebuild-doc.ts): --help must leave them alone. */
const GENERATED_DOCS = ["README.md", "docs/platform.md", "docs/disaster-recovery.md"];
const js = (ts: string) => ts.replace(/\.ts$/, ".js");
const oneLine = (stderr: string) => {
    assert.equal(stderr.trim().split("\n").length, 1, `one line, got:\n${stderr}`);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
};

describe("command-line scripts", () => {
    it("knows every script: the commands below, and libraries that read no arguments", () => {
        assert.deepEqual(commands, [
            "policy/offline.ts",
            "scripts/alert-rules.ts",
            "scripts/bench.ts",
            "scripts/check-chart-values.ts",
            "scripts/config-reference.ts",
            "scripts/doc-commands.ts",
            "scripts/engine-bench.ts",
            "scripts/engine-recovery.ts",
            "scripts/image-signatures-check.ts",
            "scripts/integration/dr-drill.ts",
            "scripts/integration/platform.ts",
            "scripts/integration/run.ts",
            "scripts/rebuild-doc.ts",
            "scripts/rebuild-model.ts",
            "scripts/render-diff.ts",
            "scripts/render.ts",
        ]);
        for (const lib of [...LIBRARIES].filter((l) => l !== "scripts/cli.ts")) assert.doesNotMatch(fs.readFileSync(path.join(ROOT, lib), "utf8"), /process\.argv|parseCommandLine\(/, `${lib} is a command`);
    });

    for (const script of commands) {
        it(`${script}: --help prints usage and exits 0 without doing the work; a bad flag is one line, exit 2`, () => {
            const generated = GENERATED_DOCS.map((f) => fs.readFileSync(path.join(ROOT, f), "utf8"));
            const help = node(js(script), "--help");
            assert.equal(help.status, 0, help.stderr);
            assert.match(help.stdout, /^usage: /);
            assert.equal(help.stderr, "");
            assert.deepEqual(GENERATED_DOCS.map((f) => fs.readFileSync(path.join(ROOT, f), "utf8")), generated, "--help must not regenerate docs");
            const bad = node(js(script), "--no-such-flag");
            assert.equal(bad.status, 2, bad.stderr);
            oneLine(bad.stderr);
            assert.match(bad.stderr, /--no-such-flag/);
        });
    }
});

describe("render at the terminal", () => {
    it("--format summary: resources and protected per cluster, then per type", () => {
        const run = node("scripts/render.js", "--stack", "production", "--format", "summary");
        assert.equal(run.status, 0, run.stderr);
        const lines = run.stdout.split("\n");
        // Counted from the JSON render by name prefix (grep -c '"name": "prod-aws-use1[-"]').
        // The copies outside the region: 10 AWS resources (replica bucket, its 6 settings, role, policy, replication), 5 GCP (copy bucket, 3 grants, transfer job), all protected.
        // Then one verify-image-signatures policy per cluster, and Azure's private network for its data (14: 2 subnets, 3 endpoints + 3 DNS zone groups, 2 zones + 2 links, 2 role assignments).
        // Then tenants' sign-in (3 EKS access entries; 4 AKS role assignments: 2 groups x Cluster User + namespace role) and the Gateway's apex and wildcard records (2 per cluster).
        // Then EKS autoscaling on prod-aws-use1 only (8 by URN against the render before it: cluster-autoscaler's and metrics-server's
        // components, namespaces and releases, the autoscaler's IRSA role and policy; 2 new types, the two components').
        // Then the backup stores' trail and keys, all protected (+1 type, s3 BucketLogging): AWS 20 (per bucket, primary and
        // copy: a KMS key and alias, a log bucket with its 6 settings, the logging), Azure 6 (workspace, diagnostic setting,
        // key vault, key, identity, role assignment), GCP 10 (per bucket: key ring, key, agent grant, log bucket, writer grant).
        // Then the private endpoint of prod-azure-weu's backup copy (2 by URN: endpoint `-pe-backup-blob-secondary` and its zone group).
        assert.equal(lines[0], "stack production: 474 resources, 83 protected, 117 types");
        assert.deepEqual(lines.slice(2, 6).map((l) => l.trim().split(/\s+/)), [
            ["cluster", "resources", "protected"],
            ["prod-aws-use1", "206", "43"],
            ["prod-azure-weu", "135", "18"],
            ["prod-gcp-euw4", "133", "22"],
        ]);
        assert.ok(lines.includes("         31  kubernetes:core/v1:Namespace"), run.stdout);
    });

    it("without --out and with stdout not a terminal, the JSON goes to stdout (pipes keep working)", () => {
        const run = node("scripts/render.js", "--stack", "local");
        assert.equal(run.status, 0, run.stderr);
        const doc = JSON.parse(run.stdout);
        assert.equal(doc.stack, "local");
        assert.equal(doc.resources.length, 84);
    });

    it("bad arguments are one line: no --stack, an unknown stack, an unknown format", () => {
        for (const [args, message] of [
            [[], /--stack <name> is required/],
            [["--stack", "nope"], /no stack file .*Pulumi\.nope\.yaml/],
            [["--stack", "local", "--format", "yaml"], /--format must be one of json, summary, not yaml/],
        ] as const) {
            const run = node("scripts/render.js", ...args);
            assert.equal(run.status, 2, run.stderr);
            oneLine(run.stderr);
            assert.match(run.stderr, message);
        }
    });
});

describe("policy/offline.js input errors", () => {
    it("a missing file, a file that is not JSON, and JSON that is not a render: one line each, exit 2", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-cli-"));
        fs.writeFileSync(path.join(dir, "broken.json"), "{");
        fs.writeFileSync(path.join(dir, "other.json"), "[1, 2]");
        for (const [file, message] of [
            ["missing.json", /^policy: no such file: .*missing\.json/],
            ["broken.json", /^policy: .*broken\.json is not JSON/],
            ["other.json", /^policy: .*other\.json is not a render/],
        ] as const) {
            const run = node("policy/offline.js", path.join(dir, file));
            assert.equal(run.status, 2, run.stderr);
            assert.equal(run.stdout, "");
            oneLine(run.stderr);
            assert.match(run.stderr, message);
        }
    });
});
