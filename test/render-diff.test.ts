import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compareResource, diffDirectories, diffStack, ResourceChange, UsageError } from "../scripts/render-diff";
import { COMMENT_MARKER, resourceBlock, toMarkdown } from "../scripts/render-diff-markdown";
import { readStackConfig, renderProgram, RenderDocument, RenderedResource } from "../scripts/render-program";
import { editedStackFile, renderStack } from "./mocks";

type Pool = { name: string; instanceType: string; minSize: number };
type Cluster = { name: string; nodePools: Pool[] };
type Tenant = { name: string; quota?: Record<string, string> };
const tenantsOf = (settings: Record<string, unknown>) => settings.tenants as Tenant[];
const poolOf = (settings: Record<string, unknown>, cluster: string, pool: string) =>
    (settings.clusters as Cluster[]).find((c) => c.name === cluster)!.nodePools.find((p) => p.name === pool)!;
const renderEdited = (stack: string, edit: (settings: Record<string, unknown>) => void) => renderProgram(stack, readStackConfig(editedStackFile(stack, edit)));
const SCRIPT = path.join(__dirname, "..", "scripts", "render-diff.js");

/** A hand-made resource: the diff must not depend on anything the program renders. */
function resource(name: string, extra: Partial<RenderedResource> = {}): RenderedResource {
    return {
        urn: `urn:pulumi:s::platform::kubernetes:core/v1:ConfigMap::${name}`,
        type: "kubernetes:core/v1:ConfigMap",
        name,
        parent: "",
        provider: "urn:pulumi:s::platform::pulumi:providers:kubernetes::k8s",
        dependencies: [],
        inputs: { metadata: { name }, data: { key: "value" } },
        protect: false,
        retainOnDelete: false,
        custom: true,
        deleteBeforeReplace: false,
        ignoreChanges: [],
        replaceOnChanges: [],
        ...extra,
    };
}
const doc = (...resources: RenderedResource[]): RenderDocument => ({ stack: "s", resources });
const only = (d: { changes: ResourceChange[] }): ResourceChange => {
    assert.equal(d.changes.length, 1, `changes: ${d.changes.map((c) => `${c.op} ${c.urn}`).join(", ")}`);
    return d.changes[0];
};

describe("render-diff on real stacks", () => {
    it("a production node pool's new instance type: one replacement, protected, with old and new values", async () => {
        const head = await renderEdited("production", (s) => (poolOf(s, "prod-aws-use1", "general").instanceType = "m6i.4xlarge"));
        const change = only(diffStack("production", await renderStack("production"), head));
        assert.deepEqual(change, {
            op: "replace",
            urn: "urn:pulumi:production::platform::platform:clusters:EksCluster$aws:eks/nodeGroup:NodeGroup::prod-aws-use1-general",
            type: "aws:eks/nodeGroup:NodeGroup",
            name: "prod-aws-use1-general",
            protect: true,
            stopsPreview: true,
            deleteBeforeReplace: false,
            retainOnDelete: false,
            inputs: [
                { path: "instanceTypes[0]", old: "m6i.2xlarge", new: "m6i.4xlarge", replaces: "provider replaces on change" },
                // sha256("general\0m6i.4xlarge\0100\0false")[0:4], computed with Python's hashlib.
                { path: "nodeGroupName", old: "general-5ece", new: "general-a15f", replaces: "physical name" },
            ],
            options: [],
        });
        const md = toMarkdown([diffStack("production", await renderStack("production"), head)]);
        assert.match(md, /\| production \| 0 \| 0 \| 1 \| 0 \| \*\*1\*\* \|/);
        assert.match(md, /> \*\*production\*\*: 1 protected resource\(s\) would be replaced or deleted/);
        assert.ok(md.includes('    ~ instanceTypes[0]: "m6i.2xlarge" => "m6i.4xlarge"  [forces replacement: provider replaces on change]'), md);
        assert.ok(md.includes("+- aws:eks/nodeGroup:NodeGroup prod-aws-use1-general  replace  (PROTECTED: the real preview will stop here)"), md);
    });

    it("a tenant's quota: exactly one update, the quota's one value, nothing replaced", async () => {
        const head = await renderEdited("local", (s) => {
            const beta = tenantsOf(s).find((t) => t.name === "team-beta")!;
            beta.quota = { ...beta.quota, "limits.cpu": "6" };
        });
        const change = only(diffStack("local", await renderStack("local"), head));
        assert.equal(change.op, "update");
        assert.equal(change.urn, "urn:pulumi:local::platform::platform:tenancy:Tenant$kubernetes:core/v1:ResourceQuota::local-kind-team-beta-quota");
        assert.deepEqual(change.inputs, [{ path: 'spec.hard["limits.cpu"]', old: "4", new: "6" }]);
        assert.deepEqual(change.options, []);
        assert.equal(change.stopsPreview, false);
    });

    it("a pool's minSize moves desiredSize too, but desiredSize is in ignoreChanges: only minSize shows", async () => {
        const head = await renderEdited("production", (s) => (poolOf(s, "prod-aws-use1", "general").minSize = 4));
        const change = only(diffStack("production", await renderStack("production"), head));
        assert.equal(change.name, "prod-aws-use1-general");
        assert.equal(change.op, "update");
        assert.deepEqual(change.inputs, [{ path: "scalingConfig.minSize", old: 3, new: 4 }]);
    });

    it("a new tenant is only creates (on both local tenants' cluster); the reverse diff only deletes", async () => {
        const base = await renderStack("local");
        const head = await renderEdited("local", (s) => tenantsOf(s).push({ name: "team-gamma" }));
        const forward = diffStack("local", base, head);
        // A tenant with no settings: its component, namespace, quota, limits and two network
        // policies; its own SecretStore and the account it reads as; and, on the adopted (local)
        // cluster, the namespace its secrets are read from with the Role and RoleBinding to read them.
        assert.deepEqual(forward.changes.map((c) => `${c.type} ${c.name}`).sort(), [
            "kubernetes:core/v1:LimitRange local-kind-team-gamma-limits",
            "kubernetes:core/v1:Namespace local-kind-team-gamma-namespace",
            "kubernetes:core/v1:Namespace local-kind-team-gamma-tenant-secrets-secretsRead-dc059b-ns",
            "kubernetes:core/v1:ResourceQuota local-kind-team-gamma-quota",
            "kubernetes:core/v1:ServiceAccount local-kind-team-gamma-secrets-sa",
            "kubernetes:external-secrets.io/v1:SecretStore local-kind-team-gamma-secret-store",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy local-kind-team-gamma-netpol-default-deny",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy local-kind-team-gamma-netpol-tenant-allow",
            "kubernetes:rbac.authorization.k8s.io/v1:Role local-kind-team-gamma-tenant-secrets-secretsRead-dc059b-reader",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding local-kind-team-gamma-tenant-secrets-secretsRead-dc059b-binding",
            "platform:tenancy:Tenant local-kind-team-gamma",
        ]);
        assert.deepEqual([...new Set(forward.changes.map((c) => c.op))], ["create"]);
        assert.ok(forward.changes.every((c) => c.urn.includes("team-gamma")), forward.changes.map((c) => c.urn).join("\n"));
        const backward = diffStack("local", head, base);
        assert.deepEqual(backward.changes.map((c) => [c.op, c.urn]), forward.changes.map((c) => ["delete", c.urn]));
    });

    it("finds nothing between two renders of the same stack", async () => {
        const again = await renderProgram("local", readStackConfig(editedStackFile("local", () => undefined)));
        assert.deepEqual(diffStack("local", await renderStack("local"), again).changes, []);
    });

    it("records replaceOnChanges: the DR Restore is replaced, not edited, when the backup to restore changes", async () => {
        const restoring = (schedule: string) => (s: Record<string, unknown>) => ((s.clusters as Record<string, unknown>[])[0].restore = { schedule });
        const base = await renderEdited("local", restoring("tenants-daily"));
        const head = await renderEdited("local", restoring("infrastructure-daily"));
        const [restore] = base.resources.filter((r) => r.type === "kubernetes:velero.io/v1:Restore");
        assert.deepEqual(restore.replaceOnChanges, ["spec"]);
        const change = only(diffStack("local", base, head));
        assert.deepEqual([change.op, change.urn, change.retainOnDelete], ["replace", restore.urn, true]);
        assert.deepEqual(change.inputs, [{ path: "spec.scheduleName", old: "tenants-daily", new: "infrastructure-daily", replaces: "replaceOnChanges" }]);
    });
});

describe("render-diff rules", () => {
    it("options: protect, retainOnDelete and dependencies changes are updates, named with their values", () => {
        const first = resource("a");
        const change = compareResource(first, { ...first, protect: true, retainOnDelete: true, dependencies: ["urn:x"] })!;
        assert.equal(change.op, "update");
        assert.deepEqual(change.inputs, []);
        assert.deepEqual(change.options, [
            { path: "protect", old: false, new: true },
            { path: "retainOnDelete", old: false, new: true },
            { path: "dependencies", old: [], new: ["urn:x"] },
        ]);
    });

    it("a rename with an alias to the old URN is the same resource: nothing to do, dependents unchanged", () => {
        const old = resource("old-name");
        // Same inputs (metadata.name included): only the logical name moves.
        const renamed = resource("new-name", { aliases: [old.urn], inputs: old.inputs });
        const dependent = (on: RenderedResource) => resource("dependent", { dependencies: [on.urn] });
        assert.deepEqual(diffStack("s", doc(old, dependent(old)), doc(renamed, dependent(renamed))).changes, []);
        // Without the alias the engine would delete one and create the other.
        const unaliased = resource("new-name", { inputs: old.inputs });
        assert.deepEqual(
            diffStack("s", doc(old, dependent(old)), doc(unaliased, dependent(unaliased))).changes.map((c) => `${c.op} ${c.name}`),
            ["delete old-name", "update dependent", "create new-name"],
        );
        // A renamed resource whose inputs also changed is an update of it.
        const edited = resource("new-name", { aliases: [old.urn], inputs: { metadata: { name: "old-name" }, data: { key: "other" } } });
        assert.deepEqual(only(diffStack("s", doc(old), doc(edited))).inputs, [{ path: "data.key", old: "value", new: "other" }]);
    });

    it("deletedWith: set or cleared is an update naming the resource it is deleted with; absent reads as unset", () => {
        const first = resource("a");
        const withNamespace = { ...first, deletedWith: "urn:ns" };
        assert.deepEqual(compareResource(first, withNamespace)!.options, [{ path: "deletedWith", old: "", new: "urn:ns" }]);
        assert.deepEqual(compareResource(withNamespace, first)!.options, [{ path: "deletedWith", old: "urn:ns", new: "" }]);
        assert.equal(compareResource(withNamespace, { ...withNamespace }), undefined);
    });

    it("a render made before replaceOnChanges was recorded compares equal to one with []", () => {
        const { replaceOnChanges: _, ...older } = resource("a");
        assert.equal(compareResource(older, resource("a")), undefined);
    });

    it("a new metadata.name replaces a Kubernetes object; protected in base and head stops the preview", () => {
        const old = resource("a", { protect: true });
        const change = compareResource(old, { ...old, inputs: { metadata: { name: "b" }, data: { key: "value" } } })!;
        assert.equal(change.op, "replace");
        assert.equal(change.stopsPreview, true);
        assert.deepEqual(change.inputs, [{ path: "metadata.name", old: "a", new: "b", replaces: "physical name" }]);
    });

    it("unprotecting in the same change lets the replacement through, as the engine does", () => {
        const old = resource("a", { protect: true });
        const change = compareResource(old, { ...old, protect: false, inputs: { metadata: { name: "b" } } })!;
        assert.equal(change.op, "replace");
        assert.equal(change.protect, true);
        assert.equal(change.stopsPreview, false);
    });

    it("replaceOnChanges: a change under a listed path replaces, one elsewhere updates", () => {
        const old = resource("a", { replaceOnChanges: ["data.key"], deleteBeforeReplace: true });
        const replaced = compareResource(old, { ...old, inputs: { metadata: { name: "a" }, data: { key: "new" } } })!;
        assert.deepEqual([replaced.op, replaced.deleteBeforeReplace, replaced.inputs[0].replaces], ["replace", true, "replaceOnChanges"]);
        const updated = compareResource(old, { ...old, inputs: { metadata: { name: "a", labels: { x: "y" } }, data: { key: "value" } } })!;
        assert.deepEqual([updated.op, updated.inputs], ["update", [{ path: "metadata.labels", old: undefined, new: { x: "y" } }]]);
    });

    it("ignoreChanges with an index and a wildcard hides exactly those fields", () => {
        const old = resource("a", {
            type: "azure-native:containerservice:ManagedCluster",
            inputs: { agentPoolProfiles: [{ count: 3, vmSize: "D4" }], tags: { a: "1", b: "2" }, sku: "Base" },
            ignoreChanges: ["agentPoolProfiles[0].count", "tags.*"],
        });
        const next = { ...old, inputs: { agentPoolProfiles: [{ count: 5, vmSize: "D4" }], tags: { a: "9", c: "3" }, sku: "Standard" } };
        assert.deepEqual(compareResource(old, next)!.inputs, [{ path: "sku", old: "Base", new: "Standard" }]);
        const vmSize = { ...old, inputs: { ...next.inputs, agentPoolProfiles: [{ count: 5, vmSize: "D8" }], sku: "Base" } };
        assert.deepEqual(compareResource(old, vmSize)!.inputs, [{ path: "agentPoolProfiles[0].vmSize", old: "D4", new: "D8" }]);
    });

    it("deleting a protected resource stops the preview; a retained one says the object stays", () => {
        const d = diffStack("s", doc(resource("kept", { protect: true }), resource("gone", { retainOnDelete: true })), doc());
        assert.deepEqual(
            d.changes.map((c) => [c.op, c.name, c.stopsPreview, c.retainOnDelete]),
            [
                ["delete", "kept", true, false],
                ["delete", "gone", false, true],
            ],
        );
    });

    it("orders what stops the preview first, then replace, delete, update, create; stable under input order", () => {
        const base = [resource("u"), resource("r"), resource("d"), resource("p", { protect: true })];
        const head = [resource("c"), resource("u", { inputs: { metadata: { name: "u" }, data: { key: "2" } } }), resource("r", { inputs: { metadata: { name: "r2" } } }), resource("p", { protect: true, inputs: { metadata: { name: "p2" } } })];
        const one = diffStack("s", doc(...base), doc(...head));
        const two = diffStack("s", doc(...[...base].reverse()), doc(...[...head].reverse()));
        assert.deepEqual(one.changes.map((c) => [c.op, c.name]), [["replace", "p"], ["replace", "r"], ["delete", "d"], ["update", "u"], ["create", "c"]]);
        assert.equal(JSON.stringify(two), JSON.stringify(one));
    });
});

describe("render-diff markdown", () => {
    it("prints a change like pulumi preview --diff: added, removed and changed keys, long values cut", () => {
        const long = "x".repeat(200);
        const old = resource("a", { inputs: { metadata: { name: "a" }, data: { gone: "1", same: "s", text: "old" } } });
        const change = compareResource(old, { ...old, inputs: { metadata: { name: "a" }, data: { added: long, same: "s", text: "[secret]" } } })!;
        assert.equal(
            resourceBlock(change),
            [
                "~  kubernetes:core/v1:ConfigMap a  update",
                // The first 60 characters of the 202-character JSON string: its quote and 59 x.
                `    + data.added: "${"x".repeat(59)}… (202 characters)`,
                '    - data.gone: "1"',
                '    ~ data.text: "old" => "[secret]"',
            ].join("\n"),
        );
    });

    it("compares lists element by element: an added element, a changed one, and long values cut where they differ", () => {
        const policy = (action: string) => JSON.stringify({ Statement: [{ Effect: "Allow", Action: [action], Resource: "arn:aws:s3:::velero-prod-aws-use1-0123456789/*" }] });
        const old = resource("a", { inputs: { metadata: { name: "a" }, list: ["x"], policy: policy("s3:GetObject") } });
        const change = compareResource(old, { ...old, inputs: { metadata: { name: "a" }, list: ["y", "z"], policy: policy("s3:PutObject") } })!;
        assert.deepEqual(change.inputs.map((c) => c.path), ["list[0]", "list[1]", "policy"]);
        assert.equal(
            resourceBlock(change).split("\n")[3],
            // The JSON text is 136 characters (120 of policy, 14 escaped quotes, 2 outer quotes); the
            // first difference ("G"/"P") is at index 56, so both show the 60 characters from index 36.
            '    ~ policy: …\\",\\"Action\\":[\\"s3:GetObject\\"],\\"Resource\\":\\"arn:aws:s3::… (136 characters)' +
                ' => …\\",\\"Action\\":[\\"s3:PutObject\\"],\\"Resource\\":\\"arn:aws:s3::… (136 characters)',
        );
    });

    it("one summary row per stack and a collapsible section each", () => {
        const md = toMarkdown([diffStack("s", doc(resource("old")), doc(resource("new"), resource("old", { protect: true })))]);
        assert.ok(md.startsWith(COMMENT_MARKER));
        assert.match(md, /\| s \| 1 \| 1 \| 0 \| 0 \| 0 \|/);
        assert.match(md, /<details><summary><b>s<\/b>: 1 to update, 1 to create<\/summary>/);
        assert.ok(md.includes("+  kubernetes:core/v1:ConfigMap new  create"), md);
        assert.ok(md.includes("    ~ [option] protect: false => true"), md);
        assert.doesNotMatch(md, /CAUTION/);
    });

    it("caps the comment, counts what it left out and points to the artifact", () => {
        const many = Array.from({ length: 50 }, (_, i) => resource(`r${String(i).padStart(2, "0")}`));
        const md = toMarkdown([diffStack("s", doc(), doc(...many))], { limit: 2000 });
        assert.ok(md.length <= 2000, `${md.length} characters`);
        assert.match(md, /\| s \| 50 \| 0 \| 0 \| 0 \| 0 \|/);
        const shown = md.split("\n").filter((l) => l.startsWith("+  kubernetes:core/v1:ConfigMap r")).length;
        const omitted = Number(/_(\d+) more resource\(s\) not shown here: see the `render-diff` artifact/.exec(md)?.[1]);
        assert.ok(shown >= 1, "shows what fits");
        assert.equal(shown + omitted, 50);
        assert.equal(toMarkdown([diffStack("s", doc(), doc(...many))], { limit: Infinity }).split("\n").filter((l) => l.startsWith("+  ")).length, 50);
    });
});

describe("render-diff directories and command line", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "render-diff-"));
    const [base, head] = ["base", "head"].map((side) => path.join(root, side));
    before(() => {
        fs.mkdirSync(base);
        fs.mkdirSync(head);
        fs.writeFileSync(path.join(base, "gone.json"), JSON.stringify(doc(resource("x"))));
        fs.writeFileSync(path.join(head, "new.json"), JSON.stringify(doc(resource("y"))));
    });

    it("a stack missing on one side counts as empty there, with a note", () => {
        const diffs = diffDirectories(base, head);
        assert.deepEqual(diffs.map((d) => [d.stack, d.changes.map((c) => `${c.op} ${c.name}`)]), [["gone", ["delete x"]], ["new", ["create y"]]]);
        assert.match(diffs[0].notes.join(), /no head render/);
        assert.match(diffs[1].notes.join(), /no base render/);
    });

    it("refuses a missing directory instead of counting everything as created", () => {
        assert.throws(() => diffDirectories(path.join(root, "nope"), head), (e: Error) => e instanceof UsageError && /the base directory .*nope does not exist/.test(e.message));
        assert.throws(() => diffDirectories(base, base + "-missing"), /the head directory .* does not exist/);
        const run = spawnSync(process.execPath, [SCRIPT, "--base", path.join(root, "nope"), "--head", head], { encoding: "utf8" });
        assert.equal(run.status, 2);
        assert.equal(run.stdout, "");
        assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
        assert.match(run.stderr, /^render-diff: the base directory .*nope does not exist/);
    });

    it("refuses a file that is not a render, naming it", () => {
        const bad = path.join(root, "bad");
        fs.mkdirSync(bad);
        fs.writeFileSync(path.join(bad, "s.json"), "{ not json");
        assert.throws(() => diffDirectories(base, bad), /bad\/s\.json is not JSON/);
    });

    it("--help prints usage and exits 0; an unknown flag is one line and exit 2", () => {
        const help = spawnSync(process.execPath, [SCRIPT, "--help"], { encoding: "utf8" });
        assert.equal(help.status, 0);
        assert.match(help.stdout, /^usage: node dist\/scripts\/render-diff\.js --base DIR --head DIR/);
        const bad = spawnSync(process.execPath, [SCRIPT, "--bsae", base], { encoding: "utf8" });
        assert.equal(bad.status, 2);
        assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
        assert.match(bad.stderr, /--bsae/);
    });
});
