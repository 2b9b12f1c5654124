import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { COMMENT_MARKER, diffDirectories, differingPaths, diffStack, toMarkdown } from "../scripts/render-diff";
import { readStackConfig, renderProgram, RenderDocument, RenderedResource } from "../scripts/render-program";
import { editedStackFile, renderStack } from "./mocks";

type Tenant = { name: string; quota?: Record<string, string> };
const tenantsOf = (settings: Record<string, unknown>) => settings.tenants as Tenant[];
const renderEdited = (edit: (settings: Record<string, unknown>) => void) => renderProgram("local", readStackConfig(editedStackFile("local", edit)));
const copy = (doc: RenderDocument): RenderDocument => JSON.parse(JSON.stringify(doc));

/** A hand-made resource: the diff must not depend on anything the program renders. */
function resource(name: string, extra: Partial<RenderedResource> = {}): RenderedResource {
    return {
        urn: `urn:pulumi:s::platform::kubernetes:core/v1:ConfigMap::${name}`,
        type: "kubernetes:core/v1:ConfigMap",
        name,
        parent: "",
        provider: "urn:pulumi:s::platform::pulumi:providers:kubernetes::k8s",
        dependencies: [],
        inputs: { data: { key: "value" } },
        protect: false,
        retainOnDelete: false,
        custom: true,
        deleteBeforeReplace: false,
        ignoreChanges: [],
        ...extra,
    };
}
const doc = (...resources: RenderedResource[]): RenderDocument => ({ stack: "s", resources });

describe("render-diff", () => {
    it("lists exactly one changed resource, the tenant's ResourceQuota, when one tenant's quota changes", async () => {
        const base = await renderStack("local");
        const head = await renderEdited((s) => {
            const beta = tenantsOf(s).find((t) => t.name === "team-beta")!;
            beta.quota = { ...beta.quota, "limits.cpu": "6" };
        });
        const diff = diffStack("local", base, head);
        assert.deepEqual(diff.added, []);
        assert.deepEqual(diff.removed, []);
        assert.equal(diff.changed.length, 1, `changed: ${diff.changed.map((c) => c.urn).join(", ")}`);
        const [quota] = diff.changed;
        assert.equal(quota.type, "kubernetes:core/v1:ResourceQuota");
        assert.match(quota.urn, /team-beta/);
        assert.deepEqual(quota.fields, ["inputs.spec.hard.limits.cpu"]);
    });

    it("counts a new tenant's resources as added, nothing else changed; the reverse diff as removed", async () => {
        const base = await renderStack("local");
        const head = await renderEdited((s) => tenantsOf(s).push({ name: "team-gamma" }));
        const forward = diffStack("local", base, head);
        assert.ok(forward.added.length >= 2, "a tenant is at least its component and its namespace");
        assert.ok(forward.added.every((r) => r.urn.includes("team-gamma")), forward.added.map((r) => r.urn).join("\n"));
        assert.deepEqual(forward.removed, []);
        assert.deepEqual(forward.changed, []);
        const backward = diffStack("local", head, base);
        assert.deepEqual(backward.removed, forward.added);
        assert.deepEqual(backward.added, []);
        assert.deepEqual(backward.changed, []);
    });

    it("counts option changes (protect, retainOnDelete, dependencies) as changes", async () => {
        const base = await renderStack("local");
        const head = copy(base);
        const [first, second, third] = head.resources.filter((r) => r.custom);
        first.protect = !first.protect;
        second.retainOnDelete = !second.retainOnDelete;
        third.dependencies = [...third.dependencies, first.urn];
        const diff = diffStack("local", base, head);
        const fieldsOf = (urn: string) => diff.changed.find((c) => c.urn === urn)?.fields;
        assert.equal(diff.changed.length, 3);
        assert.deepEqual(fieldsOf(first.urn), ["protect"]);
        assert.deepEqual(fieldsOf(second.urn), ["retainOnDelete"]);
        assert.deepEqual(fieldsOf(third.urn), ["dependencies"]);
    });

    it("finds nothing between two renders of the same stack", async () => {
        const again = await renderProgram("local", readStackConfig(editedStackFile("local", () => undefined)));
        const diff = diffStack("local", await renderStack("local"), again);
        assert.deepEqual([diff.added, diff.changed, diff.removed], [[], [], []]);
    });

    it("names the leaves that differ and compares arrays whole", () => {
        assert.deepEqual(differingPaths({ a: { b: 1, c: 2 }, d: [1, 2] }, { a: { b: 1, c: 3 }, d: [2, 1] }, "inputs"), ["inputs.a.c", "inputs.d"]);
        assert.deepEqual(differingPaths({ a: 1 }, { a: 1, b: undefined }, "x"), []);
        assert.deepEqual(differingPaths({ a: 1 }, { b: 1 }, "x"), ["x.a", "x.b"]);
    });

    it("is deterministic: resource order in the inputs does not change the output", () => {
        const a = resource("a");
        const b = resource("b", { inputs: { data: { key: "new" } } });
        const c = resource("c");
        const base = doc(resource("b"), c, resource("z"));
        const one = diffStack("s", base, doc(a, b, c));
        const two = diffStack("s", doc(resource("z"), c, resource("b")), doc(c, b, a));
        assert.equal(JSON.stringify(two), JSON.stringify(one));
        assert.equal(toMarkdown([two]), toMarkdown([one]));
        assert.deepEqual(one.added.map((r) => r.name), ["a"]);
        assert.deepEqual(one.changed.map((r) => [r.name, r.fields]), [["b", ["inputs.data.key"]]]);
        assert.deepEqual(one.removed.map((r) => r.name), ["z"]);
    });

    it("writes a markdown summary per stack with the resources by type and name", () => {
        const md = toMarkdown([diffStack("s", doc(resource("old")), doc(resource("new"), resource("old", { protect: true })))]);
        assert.ok(md.startsWith(COMMENT_MARKER));
        assert.match(md, /\| s \| 1 \| 1 \| 0 \|/);
        assert.match(md, /\*\*Added \(1\)\*\*/);
        assert.match(md, /\| `kubernetes:core\/v1:ConfigMap` \| `new` \|/);
        assert.match(md, /\| `kubernetes:core\/v1:ConfigMap` \| `old` \| `protect` \|/);
        assert.doesNotMatch(md, /Removed/);
    });

    it("keeps only the summary table when the lists would not fit in a comment", () => {
        const many = Array.from({ length: 50 }, (_, i) => resource(`r${i}`));
        const md = toMarkdown([diffStack("s", doc(), doc(...many))], { limit: 1000 });
        assert.ok(md.length <= 1000, `${md.length} characters`);
        assert.match(md, /\| s \| 50 \| 0 \| 0 \|/);
        assert.match(md, /artifact/);
    });

    it("diffs directories of renders, a stack missing on one side counting as empty with a note", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "render-diff-"));
        const [base, head] = ["base", "head"].map((side) => path.join(root, side));
        fs.mkdirSync(base);
        fs.mkdirSync(head);
        fs.writeFileSync(path.join(base, "gone.json"), JSON.stringify(doc(resource("x"))));
        fs.writeFileSync(path.join(head, "new.json"), JSON.stringify(doc(resource("y"))));
        const diffs = diffDirectories(base, head);
        assert.deepEqual(diffs.map((d) => [d.stack, d.added.length, d.removed.length]), [["gone", 0, 1], ["new", 1, 0]]);
        assert.match(diffs[0].notes.join(), /no head render/);
        assert.match(diffs[1].notes.join(), /no base render/);
    });
});
