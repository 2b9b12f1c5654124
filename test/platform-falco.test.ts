/**
 * Falco add-on, from the offline render: the pinned release with the modern eBPF driver in a
 * privileged namespace, Falco's own rules pinned, and the platform's rule sets for API and
 * PostgreSQL containers, checked for what Falco would refuse to load (undefined macros and
 * lists, unbalanced conditions, unknown priorities).
 */
import { strict as assert } from "assert";
import YAML from "yaml";
import { RenderDocument } from "../scripts/render-program";
import { addonOf, clustersOf, Raw, renderStack, STACKS, valuesOf } from "./platform-helpers";
import { addons } from "../components/platform/addons";

const API_RULES = [
    "API Container Credential Access",
    "API Container Config Modification",
    "API Container Unexpected Process",
    "API Container Sensitive Directory Access",
    "API Container Package Manager Run",
    "API Container Binary Modification",
    "API Container Unexpected Outbound Connection",
    "API Container Brute Force Attempt",
];
const POSTGRES_RULES = [
    "PostgreSQL Direct Data File Access",
    "PostgreSQL Config Change",
    "PostgreSQL Unexpected Process",
    "PostgreSQL Backup Tampering",
    "PostgreSQL Non-Postgres User",
    "PostgreSQL Data Directory Change",
    "PostgreSQL Port Scan",
    "PostgreSQL Superuser Creation",
    "PostgreSQL Replication Config Change",
    "PostgreSQL Failed Connections",
];
/** Macros and lists the rules may take from Falco's own falco_rules.yaml (falco-rules 5.1.0). */
const UPSTREAM = ["spawned_process", "open_read", "open_write", "container", "outbound", "sensitive_file_names"];
const PRIORITIES = ["EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFORMATIONAL", "DEBUG"];

describe("platform: falco", () => {
    for (const stack of STACKS) {
        describe(stack, () => {
            let doc: RenderDocument;
            before(async function () {
                doc = await renderStack(stack);
            });

            it("installs the pinned chart with the modern eBPF driver in a privileged namespace", () => {
                for (const cluster of clustersOf(stack)) {
                    const { release, children } = addonOf(doc, cluster.name, "falco");
                    assert.equal(release.inputs.chart, "falco");
                    assert.equal(release.inputs.version, addons.falco.chart.version, "the pin (versions.ts, through the registry)");
                    assert.equal(release.inputs.namespace, "falco");
                    const values = valuesOf(release);
                    assert.equal(values.driver.kind, "modern_ebpf");
                    // Falco's own rules: one exact artifact, not the floating `falco-rules:5`, and not followed.
                    assert.deepEqual(values.falcoctl.config.artifact.install.refs, ["falco-rules:5.1.0"]);
                    assert.equal(values.falcoctl.artifact.follow.enabled, false);
                    const ns = children.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
                    assert.equal((ns.inputs.metadata as Raw).labels["pod-security.kubernetes.io/enforce"], "privileged");
                }
            });
        });
    }

    describe("the platform's rules file (customRules)", () => {
        let items: Raw[];
        before(async function () {
            const doc = await renderStack("local");
            const customRules = valuesOf(addonOf(doc, "local-kind", "falco").release).customRules as Record<string, string>;
            assert.deepEqual(Object.keys(customRules), ["platform-rules.yaml"]);
            items = YAML.parse(customRules["platform-rules.yaml"]);
        });
        const rules = () => items.filter((i) => i.rule);

        it("has the API container rule set", () => {
            const api = rules().filter((r) => r.tags.includes("api")).map((r) => r.rule);
            assert.deepEqual(api, API_RULES);
        });

        it("has the PostgreSQL container rule set", () => {
            const postgres = rules().filter((r) => r.tags.includes("postgres")).map((r) => r.rule);
            assert.deepEqual(postgres, POSTGRES_RULES);
        });

        it("every rule is complete: description, output with the pod, a Falco priority, tags", () => {
            for (const rule of rules()) {
                assert.ok(rule.desc && rule.condition, rule.rule);
                assert.ok(PRIORITIES.includes(rule.priority), `${rule.rule}: priority ${rule.priority}`);
                assert.match(rule.output, /%k8s\.pod\.name/, `${rule.rule}: output names the pod`);
                assert.ok(rule.tags.includes("platform"), rule.rule);
            }
        });

        it("references only macros and lists defined before use (or Falco's own), and uses every one it defines", () => {
            const defined = new Set<string>();
            const used = new Set<string>();
            for (const item of items) {
                // Quoted values ('/pg_wal/') and field arguments ([app.kubernetes.io/name]) are not names.
                const condition: string = (item.condition ?? "").replace(/'[^']*'|"[^"]*"|\[[^\]]*\]/g, "''");
                let depth = 0;
                for (const ch of condition) {
                    depth += ch === "(" ? 1 : ch === ")" ? -1 : 0;
                    assert.ok(depth >= 0, `${item.rule ?? item.macro}: unbalanced parentheses`);
                }
                assert.equal(depth, 0, `${item.rule ?? item.macro}: unbalanced parentheses`);
                for (const name of condition.match(/\bplatform_[a-z0-9_]+\b/g) ?? []) {
                    assert.ok(defined.has(name), `${item.rule ?? item.macro} uses ${name} before it is defined`);
                    used.add(name);
                }
                for (const upstream of condition.match(/(?<![\w.])(spawned_process|open_read|open_write|container|outbound|sensitive_file_names|[a-z]+_[a-z_]+)(?![\w.])/g) ?? []) {
                    if (!upstream.startsWith("platform_") && !/^(fd|fs|proc|evt|user|k8s)_/.test(upstream)) {
                        assert.ok(UPSTREAM.includes(upstream), `${item.rule ?? item.macro}: ${upstream} is neither defined here nor one of Falco's own`);
                    }
                }
                if (item.macro || item.list) defined.add(item.macro ?? item.list);
            }
            for (const name of defined) assert.ok(used.has(name), `${name} is defined but never used`);
        });
    });
});
