/**
 * The pack over the real renders: production must pass every policy (its level is mandatory,
 * so anything found here would block its preview); staging's advisory findings include the
 * public endpoints it chose on purpose (privateEndpoint: false), one per cluster.
 */
import { strict as assert } from "assert";
import { checkRender } from "../policy/offline";
import { renderStack } from "./mocks";

describe("policy pack over the stacks' renders", () => {
    for (const stack of ["production", "local"]) {
        it(`${stack}: no violations`, async () => {
            const found = await checkRender(await renderStack(stack));
            assert.deepEqual(found.map((v) => `${v.policy}: ${v.message}`), []);
        });
    }

    it("staging: advisory only, and it reports each cluster's public endpoint", async () => {
        const doc = await renderStack("staging");
        const found = await checkRender(doc);
        assert.ok(found.every((v) => v.level === "advisory"), JSON.stringify(found, null, 2));
        const clusters = doc.resources.filter((r) => ["aws:eks/cluster:Cluster", "azure-native:containerservice:ManagedCluster", "gcp:container/cluster:Cluster"].includes(r.type));
        assert.equal(clusters.length, 3);
        for (const cluster of clusters) {
            assert.ok(
                found.some((v) => v.policy === "cluster-private-endpoint-encrypted" && v.urn === cluster.urn && /public/.test(v.message)),
                `no public-endpoint finding for ${cluster.name}`,
            );
        }
    });
});
