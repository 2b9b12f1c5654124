/**
 * Tenants come and go without touching anyone else: adding one only adds resources, removing
 * one only removes its own. Compared by URN and by everything the engine receives (inputs,
 * parent, provider, dependencies, options), so an in-place change to a neighbour shows.
 * Nothing shared names the tenants (the `tenants-daily` backup excludes the platform's
 * namespaces instead of listing the tenants'), so nothing else may change at all.
 */
import { strict as assert } from "assert";
import { readStackConfig, RenderDocument, renderProgram, stackFilePath } from "../scripts/render-program";
import { editedStackFile, loadStackSettings } from "./mocks";
import { ownedBy, Raw, STACKS, TENANT } from "./tenancy-helpers";

const render = (stack: string, file: string) => renderProgram(stack, readStackConfig(file));
/** Clusters per stack file; the first tenant of each (team-alpha) is on all of them. */
const CLUSTERS: Record<string, number> = { local: 1, staging: 3, production: 3 };
const byUrn = (doc: RenderDocument) => new Map(doc.resources.map((r) => [r.urn, r]));

/** Resources of `before` and `after`: only in before, only in after, in both but different. */
function compare(before: RenderDocument, after: RenderDocument) {
    const [b, a] = [byUrn(before), byUrn(after)];
    const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
    const changed = [...b.values()].filter((r) => a.has(r.urn) && !same(r, a.get(r.urn)));
    return {
        removed: [...b.values()].filter((r) => !a.has(r.urn)),
        added: [...a.values()].filter((r) => !b.has(r.urn)),
        changed: changed.map((r) => r.urn),
    };
}

/** A group in every cloud's terms, so the new tenant's sign-in resources are new on every cluster too. */
const NEW_TENANT_GROUPS = {
    aws: ["arn:aws:iam::222222222222:role/team-new-developers"],
    azure: ["00000000-0000-0000-0000-00000000ee01"],
    gcp: ["team-new-developers@example.com"],
    existing: ["team-new-developers"],
};

for (const stack of STACKS) {
    describe(`tenancy: tenants of ${stack} come and go on their own`, () => {
        let base: RenderDocument;
        let clusters: string[];
        before(async () => {
            base = await render(stack, stackFilePath(stack));
            clusters = base.resources.filter((r) => r.type.startsWith("platform:clusters:")).map((r) => r.name);
            assert.equal(clusters.length, CLUSTERS[stack]);
        });

        it("adds a tenant as new resources only, on every cluster", async () => {
            const file = editedStackFile(stack, (s: Raw) => s.tenants.push({ name: "team-new", groups: { edit: NEW_TENANT_GROUPS }, gitops: { url: "https://github.com/example/new" } }));
            const after = await render(stack, file);
            const { removed, added, changed } = compare(base, after);
            assert.deepEqual(removed.map((r) => r.urn), []);
            assert.deepEqual(changed, []);
            const owned = ownedBy(after, "team-new");
            assert.deepEqual(added.filter((r) => !owned.has(r.urn)).map((r) => r.urn), [], "everything added is the new tenant's");
            assert.deepEqual([...owned].filter((urn) => !added.some((r) => r.urn === urn)), [], "everything of the new tenant is new");
            for (const c of clusters) {
                const tenant = added.filter((r) => r.type === TENANT && r.name === `${c}-team-new`);
                assert.equal(tenant.length, 1, `team-new is missing on ${c}`);
                const namespaces = added.filter((r) => r.type === "kubernetes:core/v1:Namespace" && r.parent === tenant[0].urn);
                assert.equal(namespaces.length, 1);
                assert.equal(added.filter((r) => r.type.endsWith("Kustomization") && r.name.startsWith(`${c}-team-new-`)).length, 1, `one GitOps sync on ${c}`);
            }
        });

        it("removes a tenant's own resources and nothing else", async () => {
            const name: string = (loadStackSettings(stack) as Raw).tenants[0].name;
            const file = editedStackFile(stack, (s: Raw) => (s.tenants = s.tenants.filter((t: Raw) => t.name !== name)));
            const { removed, added, changed } = compare(base, await render(stack, file));
            assert.deepEqual(added.map((r) => r.urn), []);
            assert.deepEqual(changed, []);
            const owned = ownedBy(base, name);
            assert.equal([...owned].filter((urn) => urn.includes(`${TENANT}::`)).length, CLUSTERS[stack], `${name}: a Tenant on each cluster`);
            const shared = removed.filter((r) => !owned.has(r.urn));
            assert.deepEqual(shared.map((r) => r.urn), [], `everything removed is ${name}'s`);
            assert.deepEqual([...owned].filter((urn) => !removed.some((r) => r.urn === urn)), [], `${name}'s resources must all go`);
        });

        it("changes only that tenant's quotas when its quota changes", async () => {
            const tenant = (loadStackSettings(stack) as Raw).tenants[0].name;
            const file = editedStackFile(stack, (s: Raw) => (s.tenants[0].quota = { ...(s.tenants[0].quota ?? {}), pods: "50" }));
            const after = await render(stack, file);
            const { removed, added, changed } = compare(base, after);
            assert.deepEqual([removed.length, added.length], [0, 0]);
            const quotas = base.resources.filter((r) => r.type === "kubernetes:core/v1:ResourceQuota" && (r.inputs.metadata as Raw).namespace === tenant);
            assert.equal(quotas.length, CLUSTERS[stack], "its quota on each cluster");
            assert.deepEqual(changed.sort(), quotas.map((q) => q.urn).sort());
            for (const urn of changed) assert.equal(((byUrn(after).get(urn)!.inputs.spec as Raw).hard as Raw).pods, "50");
        });
    });
}
