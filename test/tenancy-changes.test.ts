/**
 * Tenants come and go without touching anyone else: adding one only adds resources, removing
 * one only removes its own. Compared by URN and by everything the engine receives (inputs,
 * parent, provider, dependencies, options), so an in-place change to a neighbour shows.
 */
import { strict as assert } from "assert";
import { readStackConfig, RenderDocument, RenderedResource, renderProgram, stackFilePath } from "../scripts/render-program";
import { editedStackFile, loadStackSettings } from "./mocks";

// Same stacks as tenancy.test.ts: staging and production join once their clouds render offline.
const STACKS = ["local"];
type Raw = Record<string, any>;

const render = (stack: string, file: string) => renderProgram(stack, readStackConfig(file));
const byUrn = (doc: RenderDocument) => new Map(doc.resources.map((r) => [r.urn, r]));

/** Resources of `before` and `after`: only in before, only in after, and in both but different. */
function compare(before: RenderDocument, after: RenderDocument) {
    const [b, a] = [byUrn(before), byUrn(after)];
    return {
        removed: [...b.values()].filter((r) => !a.has(r.urn)),
        added: [...a.values()].filter((r) => !b.has(r.urn)),
        changed: [...b.values()].filter((r) => a.has(r.urn) && JSON.stringify(r) !== JSON.stringify(a.get(r.urn))).map((r) => r.urn),
    };
}

/** Whether a resource belongs to `tenant`: its name says so (`<cluster>-<tenant>-...`, or the cluster's identity for it). */
const belongsTo = (r: RenderedResource, tenant: string, clusters: string[]) =>
    clusters.some((c) => r.name === `${c}-${tenant}` || r.name.startsWith(`${c}-${tenant}-`));

for (const stack of STACKS) {
    describe(`tenancy: tenants of ${stack} come and go on their own`, () => {
        let base: RenderDocument;
        let clusters: string[];
        before(async () => {
            base = await render(stack, stackFilePath(stack));
            clusters = base.resources.filter((r) => r.type.startsWith("platform:clusters:")).map((r) => r.name);
        });

        it("adds a tenant as new resources only, on every cluster", async () => {
            const file = editedStackFile(stack, (s: Raw) => s.tenants.push({ name: "team-new", groups: { edit: ["team-new-devs"] }, gitops: { url: "https://github.com/example/new" } }));
            const { removed, added, changed } = compare(base, await render(stack, file));
            assert.deepEqual(removed.map((r) => r.urn), []);
            assert.deepEqual(changed, []);
            assert.deepEqual(added.filter((r) => !belongsTo(r, "team-new", clusters)).map((r) => r.urn), [], "everything added is the new tenant's");
            for (const c of clusters) {
                const tenant = added.filter((r) => r.type === "platform:tenancy:Tenant" && r.name === `${c}-team-new`);
                assert.equal(tenant.length, 1, `team-new is missing on ${c}`);
                const namespaces = added.filter((r) => r.type === "kubernetes:core/v1:Namespace" && r.parent === tenant[0].urn);
                assert.equal(namespaces.length, 1);
                assert.ok(added.some((r) => r.type.endsWith("Kustomization") && r.name.startsWith(`${c}-team-new-`)), `no GitOps sync on ${c}`);
            }
        });

        it("removes a tenant's own resources and nothing else", async () => {
            const leaving = (await render(stack, stackFilePath(stack))).resources.find((r) => r.type === "platform:tenancy:Tenant")!;
            const name = clusters.reduce((n, c) => (leaving.name.startsWith(`${c}-`) ? leaving.name.slice(c.length + 1) : n), "");
            assert.ok(name, `cannot tell the tenant of ${leaving.name}`);
            const file = editedStackFile(stack, (s: Raw) => (s.tenants = s.tenants.filter((t: Raw) => t.name !== name)));
            const { removed, added, changed } = compare(base, await render(stack, file));
            assert.deepEqual(added.map((r) => r.urn), []);
            assert.deepEqual(changed, []);
            assert.ok(removed.some((r) => r.urn === leaving.urn), `the Tenant ${leaving.name} is still there`);
            assert.deepEqual(removed.filter((r) => !belongsTo(r, name, clusters)).map((r) => r.urn), [], `everything removed is ${name}'s`);
            const left = base.resources.filter((r) => belongsTo(r, name, clusters) && !removed.includes(r));
            assert.deepEqual(left.map((r) => r.urn), [], `${name}'s resources must all go`);
        });

        it("changes only that tenant's quotas when its quota changes", async () => {
            const tenant = (loadStackSettings(stack) as Raw).tenants[0].name;
            const file = editedStackFile(stack, (s: Raw) => (s.tenants[0].quota = { ...(s.tenants[0].quota ?? {}), pods: "50" }));
            const after = await render(stack, file);
            const { removed, added, changed } = compare(base, after);
            assert.deepEqual([removed.length, added.length], [0, 0]);
            const quotas = base.resources.filter((r) => r.type === "kubernetes:core/v1:ResourceQuota" && (r.inputs.metadata as Raw).namespace === tenant);
            assert.ok(quotas.length > 0);
            assert.deepEqual(changed.sort(), quotas.map((q) => q.urn).sort());
            for (const urn of changed) assert.equal(((byUrn(after).get(urn)!.inputs.spec as Raw).hard as Raw).pods, "50");
        });
    });
}
