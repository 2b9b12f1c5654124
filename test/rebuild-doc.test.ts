import { strict as assert } from "assert";
import * as fs from "fs";
import { currentRebuildBlock, DR_DOC, rebuildBlock, restoring, withRebuildBlock } from "../scripts/rebuild-doc";
import { readStackConfig, RenderDocument, RenderedResource, stackFilePath } from "../scripts/render-program";

const urn = (type: string, name: string) => `urn:pulumi:s::platform::${type}::${name}`;
function r(type: string, name: string, parent = "", dependencies: string[] = []): RenderedResource {
    const custom = !type.startsWith("platform:");
    return { urn: urn(type, name), type, name, parent, provider: "", dependencies, inputs: {}, protect: false, retainOnDelete: false, custom, deleteBeforeReplace: false, ignoreChanges: [] };
}

describe("docs/disaster-recovery.md: the modeled rebuild table", () => {
    it("is the rebuild model's output for the current program (npm run docs:config rewrites it)", async () => {
        const doc = fs.readFileSync(DR_DOC, "utf8");
        assert.equal(doc, withRebuildBlock(doc, await currentRebuildBlock()));
    });

    it("states counts and minutes as the model gives them, as is and in the DR case, plus the human steps", () => {
        // c1: an EKS cluster (10 min); the DR case adds a platform component and a Restore (30 min) after it.
        const c1 = r("platform:clusters:EksCluster", "c1");
        const eks = r("aws:eks/cluster:Cluster", "c1-eks", c1.urn);
        const platform = r("platform:addons:Platform", "c1-platform");
        const restore = r("kubernetes:velero.io/v1:Restore", "c1-restore", platform.urn, [eks.urn]);
        const plain: RenderDocument = { stack: "production", resources: [c1, eks] };
        const dr: RenderDocument = { stack: "production", resources: [c1, eks, platform, restore] };
        const rows = rebuildBlock(plain, dr).split("\n").filter((l) => l.startsWith("| c1 |"));
        // As is: 2 resources, 10 min. DR: 4 resources, 10 + 30 = 40 min; with 45 min of people: 85 min.
        assert.deepEqual(rows, ["| c1 | AWS | 2 / 4 | 10 | 40 | 1 h 25 min |", "| c1 | 4 | 40 | Cluster `c1-eks` (10) → Restore `c1-restore` (30) |"]);
    });

    it("the DR case puts restore on every cluster of the stack, and nothing else changes", () => {
        const config = readStackConfig(stackFilePath("production"));
        const dr = restoring(config);
        const clusters = JSON.parse(dr.values["platform:clusters"]) as { name: string; restore?: unknown }[];
        assert.deepEqual(
            clusters.map((c) => [c.name, c.restore]),
            [
                ["prod-aws-use1", { schedule: "tenants-daily" }],
                ["prod-azure-weu", { schedule: "tenants-daily" }],
                ["prod-gcp-euw4", { schedule: "tenants-daily" }],
            ],
        );
        const withoutRestore = clusters.map(({ restore: _, ...c }) => c);
        assert.deepEqual(withoutRestore, JSON.parse(config.values["platform:clusters"]));
        assert.deepEqual({ ...dr.values, "platform:clusters": "" }, { ...config.values, "platform:clusters": "" });
    });
});
