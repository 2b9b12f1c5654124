/**
 * node dist/scripts/image-signatures-check.js --tools <dir> [--render <production.json>]
 *
 * verify-image-signatures through the real Kyverno engine, offline: a throwaway local registry
 * holds a signed and an unsigned image, and `kyverno apply` runs the tenant rule
 * image-provenance.ts builds (a cosign key, no transparency log) against a Pod of each, in
 * Enforce and in Audit. Then the production render's whole policy must load (Kyverno validates
 * every rule, e.g. refuses mutateDigest with Audit). Keyless upstream identities need Sigstore
 * and the upstream registries, so they are not exercised here (docs/platform.md).
 *
 * <dir> holds `kubectl-kyverno` (v1.19.0, from kyverno/kyverno cmd/cli/kubectl-kyverno),
 * `cosign` (sigstore/cosign v2), `crane` and `registry` (google/go-containerregistry
 * cmd/crane, cmd/registry), all built with `go build` from the Go module proxy. Exit 0 when
 * the signed Pod passes and the unsigned one fails in both modes.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { imageSignatureRules } from "../components/platform/image-provenance";
import { parseCommandLine, usageError } from "./cli";

const USAGE = `usage: node dist/scripts/image-signatures-check.js --tools <dir> [--render <production.json>]

Runs verify-image-signatures' tenant rule through the real Kyverno engine against a throwaway
local registry: one image signed with a fresh cosign key passes, one unsigned fails, in Enforce
and in Audit. With --render, every verify-image-signatures policy of that offline render must
load in Kyverno (its own policy validation).

  --tools <dir>       holds kubectl-kyverno (v1.19.0), cosign, crane and registry
  --render <file>     an offline render (npm run render -- --stack production --out <file>)
  -h, --help          this text
`;

const PORT = 15000 + (process.pid % 1000);
const REGISTRY = `127.0.0.1:${PORT}`;

function run(tool: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd: string }): { status: number | null; stdout: string; out: string } {
    const r = spawnSync(tool, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout ?? "", out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}
/** Its stdout; a failure throws with everything it printed. */
function must(tool: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): string {
    const r = run(tool, args, { cwd, env });
    if (r.status !== 0) throw new Error(`${path.basename(tool)} ${args.join(" ")}: exit ${r.status}\n${r.out}`);
    return r.stdout.trim();
}
const pod = (name: string, image: string) => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "team-alpha" }, spec: { containers: [{ name: "app", image }] } });

/** `pass: N, fail: M` of a `kyverno apply` summary. */
function counts(out: string): { pass: number; fail: number; error: number } {
    const m = /pass: (\d+), fail: (\d+), warn: \d+, error: (\d+)/.exec(out);
    if (!m) throw new Error(`no summary in kyverno output:\n${out}`);
    return { pass: Number(m[1]), fail: Number(m[2]), error: Number(m[3]) };
}

async function main(): Promise<number> {
    const { values } = parseCommandLine("image-signatures-check", USAGE, { options: { tools: { type: "string" }, render: { type: "string" } } });
    const tools = values.tools;
    if (!tools) usageError("image-signatures-check", "--tools is required (--help for usage)");
    const tool = (name: string) => path.resolve(tools, name);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-signatures-"));
    let registry: ChildProcess | undefined;
    try {
        registry = spawn(tool("registry"), ["-port", String(PORT)], { stdio: "ignore" });
        await new Promise((resolve) => setTimeout(resolve, 1000));
        fs.writeFileSync(path.join(dir, "a"), "signed\n");
        fs.writeFileSync(path.join(dir, "b"), "unsigned\n");
        must("tar", ["cf", "a.tar", "a"], dir);
        must("tar", ["cf", "b.tar", "b"], dir);
        const signed = must(tool("crane"), ["append", "-f", "a.tar", "-t", `${REGISTRY}/team/app:1.0`], dir).split("\n").pop()!;
        must(tool("crane"), ["append", "-f", "b.tar", "-t", `${REGISTRY}/team/unsigned:1.0`], dir);
        const cosignEnv = { COSIGN_PASSWORD: "" };
        must(tool("cosign"), ["generate-key-pair"], dir, cosignEnv);
        must(tool("cosign"), ["sign", "--yes", "--key", "cosign.key", "--tlog-upload=false", "--allow-insecure-registry", signed], dir, cosignEnv);
        fs.writeFileSync(path.join(dir, "signed.yaml"), YAML.stringify(pod("signed", `${REGISTRY}/team/app:1.0`)));
        fs.writeFileSync(path.join(dir, "unsigned.yaml"), YAML.stringify(pod("unsigned", `${REGISTRY}/team/unsigned:1.0`)));

        const failures: string[] = [];
        for (const action of ["Enforce", "Audit"] as const) {
            const tenants = [{ registry: `${REGISTRY}/`, publicKeys: [fs.readFileSync(path.join(dir, "cosign.pub"), "utf8")], keyless: [], transparencyLog: false }];
            const rules = imageSignatureRules({ platform: false, tenants }, ["kube-system", "kyverno"], action);
            const policy = { apiVersion: "kyverno.io/v1", kind: "ClusterPolicy", metadata: { name: "verify-image-signatures" }, spec: { background: false, rules } };
            fs.writeFileSync(path.join(dir, `policy-${action}.yaml`), YAML.stringify(policy));
            for (const [resource, expectPass] of [["signed.yaml", true], ["unsigned.yaml", false]] as const) {
                const out = run(tool("kubectl-kyverno"), ["apply", `policy-${action}.yaml`, "--resource", resource], { cwd: dir }).out;
                const c = counts(out);
                const ok = expectPass ? c.pass > 0 && c.fail === 0 && c.error === 0 : c.fail > 0 && c.pass === 0;
                console.log(`${action} ${resource}: pass ${c.pass}, fail ${c.fail}, error ${c.error} -> ${ok ? "as expected" : "UNEXPECTED"}`);
                if (!ok) failures.push(`${action} ${resource}:\n${out}`);
            }
        }
        const render = values.render;
        if (render) {
            const doc = JSON.parse(fs.readFileSync(render, "utf8")) as { resources: { type: string; inputs: Record<string, any> }[] };
            const rendered = doc.resources.filter((r) => r.type === "kubernetes:kyverno.io/v1:ClusterPolicy" && r.inputs.metadata.name === "verify-image-signatures");
            for (const [n, p] of rendered.entries()) {
                fs.writeFileSync(path.join(dir, `rendered-${n}.yaml`), YAML.stringify({ apiVersion: p.inputs.apiVersion, kind: p.inputs.kind, metadata: { name: p.inputs.metadata.name }, spec: p.inputs.spec }));
                // A Pod no rule matches: the run only proves Kyverno accepts the policy.
                const c = counts(run(tool("kubectl-kyverno"), ["apply", `rendered-${n}.yaml`, "--resource", "unsigned.yaml"], { cwd: dir }).out);
                console.log(`rendered policy ${n + 1}/${rendered.length}: loaded, error ${c.error}`);
                if (c.error !== 0) failures.push(`rendered policy ${n}: ${c.error} errors`);
            }
            if (!rendered.length) failures.push(`${render}: no verify-image-signatures policy`);
        }
        if (failures.length) console.error(failures.join("\n"));
        return failures.length ? 1 : 0;
    } finally {
        registry?.kill();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
    },
);
