import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { blocksOf, classify, documentBlocks, parts, runBlocks, unlabelledFences, withoutRan } from "../scripts/doc-commands";

const ROOT = path.resolve(__dirname, "..", "..");

describe("commands in README.md and docs/*.md", () => {
    it("every fence has a language and every shell command is classified", () => {
        assert.deepEqual(unlabelledFences(ROOT), []);
        const unclassified = documentBlocks(ROOT).flatMap((b) => b.commands.filter((c) => c.unknown.length).map((c) => `${b.file}:${b.line}: ${c.unknown.join(" / ")}`));
        assert.deepEqual(unclassified, []);
    });

    it("runs exactly these blocks' commands on a fresh clone (.ci/run: node dist/scripts/doc-commands.js --run)", () => {
        const offline = documentBlocks(ROOT)
            .map((b) => [`${b.file}`, b.commands.filter((c) => c.needs === "offline").map((c) => c.text.split(/\s+#/)[0].trim())] as const)
            .filter(([, commands]) => commands.length);
        assert.deepEqual(offline, [
            ["README.md", ["npm ci && npm run render -- --stack local", "npm run render -- --stack local --out render-out/local.json", "npm ci && npm test"]],
            [
                "docs/disaster-recovery.md",
                ["export KUBECONFIG=/tmp/kubeconfig"],
            ],
            [
                "docs/disaster-recovery.md",
                [
                    "npm ci && npm run build",
                    "node dist/scripts/render.js --stack production --out render-out/production.json",
                    "node dist/scripts/rebuild-model.js --render render-out/production.json --markdown",
                ],
            ],
            ["docs/integration.md", ["npm ci"]],
            ["docs/integration.md", ["npm ci && npm run build", "export PULUMI_CONFIG_PASSPHRASE=local"]],
            [
                "docs/operations.md",
                [
                    "npm ci && npm run build",
                    "out=$(mktemp -d)",
                    'render_all() { mkdir -p "$1"; for f in Pulumi.*.yaml; do s=${f#Pulumi.}; s=${s%.yaml}; node dist/scripts/render.js --stack "$s" --out "$1/$s.json"; done; }',
                    'render_all "$out/head"',
                    'git worktree add --detach "$out/base-tree" origin/main',
                    '(cd "$out/base-tree" && npm ci && npm run build && render_all "$out/base")',
                    'node dist/scripts/render-diff.js --base "$out/base" --head "$out/head" --markdown "$out/diff.md"',
                    'git worktree remove --force "$out/base-tree"',
                ],
            ],
            ["docs/operations.md", ["npm ci && npm run build", "node dist/scripts/render.js --stack production --out render-out/production.json", "node dist/policy/offline.js render-out/production.json"]],
        ]);
    });
});

describe("doc-commands classifier", () => {
    it("splits a line into simple commands, including what runs inside $(...), not inside quotes or ${...}", () => {
        assert.deepEqual(parts(`X=$(pulumi stack output a | jq -r '.b') && echo "$X; done" 2>&1 | tail # note`), [
            "pulumi stack output a",
            "jq -r '.b'",
            "X=$(pulumi stack output a | jq -r '.b')",
            'echo "$X; done" 2>&1',
            "tail",
        ]);
        assert.deepEqual(parts("for f in *.yaml; do s=${f#Pulumi.}; done"), ["for f in *.yaml", "do s=${f#Pulumi.}", "done"]);
    });

    it("a line needs what its most demanding part needs", () => {
        assert.equal(classify("npm ci && npm test").needs, "offline");
        assert.equal(classify("npm run build && PULUMI_CONFIG_PASSPHRASE=local pulumi up -s local").needs, "kind");
        assert.equal(classify("BUCKET=$(pulumi stack output -s production clusterOutputs --json)").needs, "cloud");
        assert.equal(classify("kubectl get ns | grep team").needs, "cluster");
        assert.equal(classify("kubectl --context kind-platform get ns").needs, "kind");
        assert.equal(classify("pulumi config set -s local --secret x y").needs, "kind");
        assert.equal(classify("npx tsc -p . && node dist/scripts/bench.js --sizes 1").needs, "benchmark");
        assert.equal(classify("bash scripts/bootstrap-tools.sh").needs, "tools");
        // `nice` is looked through; the engine bench and the recovery test need the integration tools.
        assert.equal(classify("nice -n 15 npm run bench:engine -- --tenants 100").needs, "tools");
        assert.equal(classify("npm run test:recovery").needs, "tools");
        assert.equal(classify("nice -n 15 npm run bench").needs, "benchmark");
        assert.equal(classify("nice -n 15 frobnicate").unknown.length, 1);
        assert.equal(classify("mkdir -p /srv/helm-charts && cd /srv/helm-charts").needs, "host");
        assert.equal(classify('mkdir -p "$out" && cd /tmp/x').needs, "offline");
        assert.equal(classify("helm pull oci://docker.io/envoyproxy/gateway-helm --version v1.9.0 --untar").needs, "network");
    });

    it("a part no rule knows is unclassified, even next to known ones; a function of the block is known", () => {
        assert.deepEqual(classify("npm ci && terraform apply").unknown, ["terraform apply"]);
        assert.deepEqual(classify("curl https://example.com/install.sh | sh").unknown, ["curl https://example.com/install.sh", "sh"]);
        assert.deepEqual(classify('render_all "$out"').unknown, ['render_all "$out"']);
        const [block] = blocksOf("x.md", '```bash\nf() { echo "$1"; }\nf one \\\n  two\n```\n');
        assert.deepEqual(
            block.commands.map((c) => [c.text, c.needs, c.unknown]),
            [
                ['f() { echo "$1"; }', "offline", []],
                ["f one \\\n  two", "offline", []],
            ],
        );
    });
});

describe("doc-commands runner", () => {
    it("runs each block's offline commands from a clean checkout of HEAD and reports what failed", function () {
        const repo = fs.mkdtempSync(path.join(os.tmpdir(), "doc-commands-repo-"));
        const sh = (...args: string[]) => assert.equal(spawnSync("git", args, { cwd: repo }).status, 0, args.join(" "));
        fs.writeFileSync(
            path.join(repo, "README.md"),
            [
                "```bash",
                "mkdir made-here && cat committed.txt",
                "kubectl get ns              # skipped: needs a cluster",
                "```",
                "```bash",
                "cd made-here                # the first block's directory must be gone",
                "```",
                "```bash",
                "cat uncommitted.txt         # only what HEAD has",
                "```",
            ].join("\n"),
        );
        fs.writeFileSync(path.join(repo, "committed.txt"), "x");
        sh("init", "-q");
        sh("add", ".");
        sh("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "docs");
        fs.writeFileSync(path.join(repo, "uncommitted.txt"), "y");
        const results = runBlocks(repo, blocksOf("README.md", fs.readFileSync(path.join(repo, "README.md"), "utf8")));
        assert.deepEqual(
            results.map((r) => [r.block.line, r.script, r.ok]),
            [
                [1, "mkdir made-here && cat committed.txt", true],
                [5, "cd made-here                # the first block's directory must be gone", false],
                [8, "cat uncommitted.txt         # only what HEAD has", false],
            ],
        );
        assert.match(results[1].log, /made-here/);
        fs.rmSync(repo, { recursive: true, force: true });
    });

    it("leaves out a --ran command (compared without its comment), and refuses one that no block has", () => {
        const blocks = blocksOf("README.md", ["```bash", "npm ci && npm run build", "npm ci && npm test   # the tests", "```"].join("\n"));
        assert.deepEqual(
            withoutRan(blocks, ["npm ci && npm test"]).map((b) => b.commands.map((c) => c.text)),
            [["npm ci && npm run build"]],
        );
        assert.throws(() => withoutRan(blocks, ["npm test"]), /--ran names a command no block has: "npm test"/);
    });

    it(".ci/run's --ran lines are commands it runs itself, in its first steps", () => {
        const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
        const ran = [...ci.matchAll(/--ran "([^"]+)"/g)].map((m) => m[1]);
        assert.deepEqual(ran, ["npm ci && npm test"]);
        const linesBefore = ci.split("doc-commands.js")[0].split("\n").map((line) => line.trim());
        for (const command of ran[0].split(" && ")) assert.ok(linesBefore.includes(command), `.ci/run runs \`${command}\` as written before doc-commands`);
        withoutRan(documentBlocks(ROOT), ran);
    });
});
