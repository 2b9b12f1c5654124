/**
 * The shared Gateway's names resolve: for every cluster with `dns`, exactly the apex and the
 * wildcard of its domain, in its own zone, pointing at its own Gateway's address, made through
 * the cluster's own cloud provider; nothing for clusters without dns. Expected values are
 * written out from the stack files.
 */
import { strict as assert } from "assert";
import { readStackConfig, RenderDocument, renderProgram } from "../scripts/render-program";
import { validateSettings } from "../components/config";
import { editedStackFile, loadStackSettings, renderStack } from "./mocks";
import { Raw } from "./tenancy-helpers";

const RECORD_TYPES = ["aws:route53/record:Record", "azure-native:dns:RecordSet", "gcp:dns/recordSet:RecordSet"];
const records = (doc: RenderDocument) => doc.resources.filter((r) => RECORD_TYPES.includes(r.type));
const address = (cluster: string) => `<computed ${cluster}-platform-envoy-gateway-gateway.address>`;
const gatewayUrn = (doc: RenderDocument, cluster: string) => doc.resources.find((r) => r.name === `${cluster}-platform-envoy-gateway-gateway`)!.urn;
const providerOf = (doc: RenderDocument, name: string) => doc.resources.find((r) => r.name === name)!.provider;

/** Per stack: each record by resource name, its inputs as the cloud's API takes them. */
const EXPECTED: Record<string, Record<string, Raw>> = {
    production: {
        "prod-aws-use1-gateway-apex": { zoneId: "Z0000000000PRODAWS", name: "aws.example.com", type: "A", aliases: [{ name: address("prod-aws-use1"), zoneId: "<computed nlb-us-east-1.canonicalHostedZoneId>", evaluateTargetHealth: true }] },
        "prod-aws-use1-gateway-wildcard": { zoneId: "Z0000000000PRODAWS", name: "*.aws.example.com", type: "A", aliases: [{ name: address("prod-aws-use1"), zoneId: "<computed nlb-us-east-1.canonicalHostedZoneId>", evaluateTargetHealth: true }] },
        "prod-azure-weu-gateway-apex": { resourceGroupName: "dns", zoneName: "azure.example.com", relativeRecordSetName: "@", recordType: "A", ttl: 300, aRecords: [{ ipv4Address: address("prod-azure-weu") }] },
        "prod-azure-weu-gateway-wildcard": { resourceGroupName: "dns", zoneName: "azure.example.com", relativeRecordSetName: "*", recordType: "A", ttl: 300, aRecords: [{ ipv4Address: address("prod-azure-weu") }] },
        "prod-gcp-euw4-gateway-apex": { project: "platform-production-01", managedZone: "gcp-example-com", name: "gcp.example.com.", type: "A", ttl: 300, rrdatas: [address("prod-gcp-euw4")] },
        "prod-gcp-euw4-gateway-wildcard": { project: "platform-production-01", managedZone: "gcp-example-com", name: "*.gcp.example.com.", type: "A", ttl: 300, rrdatas: [address("prod-gcp-euw4")] },
    },
    staging: {
        "stg-aws-use1-gateway-apex": { zoneId: "Z0000000000STAGINGAWS", name: "aws.staging.example.com", type: "A", aliases: [{ name: address("stg-aws-use1"), zoneId: "<computed nlb-us-east-1.canonicalHostedZoneId>", evaluateTargetHealth: true }] },
        "stg-aws-use1-gateway-wildcard": { zoneId: "Z0000000000STAGINGAWS", name: "*.aws.staging.example.com", type: "A", aliases: [{ name: address("stg-aws-use1"), zoneId: "<computed nlb-us-east-1.canonicalHostedZoneId>", evaluateTargetHealth: true }] },
        "stg-azure-weu-gateway-apex": { resourceGroupName: "dns", zoneName: "azure.staging.example.com", relativeRecordSetName: "@", recordType: "A", ttl: 300, aRecords: [{ ipv4Address: address("stg-azure-weu") }] },
        "stg-azure-weu-gateway-wildcard": { resourceGroupName: "dns", zoneName: "azure.staging.example.com", relativeRecordSetName: "*", recordType: "A", ttl: 300, aRecords: [{ ipv4Address: address("stg-azure-weu") }] },
        "stg-gcp-euw4-gateway-apex": { project: "platform-staging-0001", managedZone: "gcp-staging-example-com", name: "gcp.staging.example.com.", type: "A", ttl: 300, rrdatas: [address("stg-gcp-euw4")] },
        "stg-gcp-euw4-gateway-wildcard": { project: "platform-staging-0001", managedZone: "gcp-staging-example-com", name: "*.gcp.staging.example.com.", type: "A", ttl: 300, rrdatas: [address("stg-gcp-euw4")] },
    },
    local: {},
};

for (const [stack, expected] of Object.entries(EXPECTED)) {
    describe(`gateway DNS records (${stack})`, () => {
        let doc: RenderDocument;
        before(async () => {
            doc = await renderStack(stack);
        });

        it(stack === "local" ? "none: the adopted cluster's names are its owner's" : "the apex and the wildcard of each cluster's domain, in its zone, at its Gateway's address", () => {
            assert.deepEqual(Object.fromEntries(records(doc).map((r) => [r.name, r.inputs])), expected);
        });

        if (stack === "local") return;
        it("each record waits for its own cluster's Gateway and goes through that cluster's cloud provider", () => {
            const made = records(doc);
            assert.equal(made.length, 6);
            for (const r of made) {
                const cluster = r.name.replace(/-gateway-(apex|wildcard)$/, "");
                assert.ok(r.dependencies.includes(gatewayUrn(doc, cluster)), `${r.name} does not wait for ${cluster}'s Gateway`);
                const cloudProvider = doc.resources.find((p) => p.type.startsWith("pulumi:providers:") && new RegExp(`^${cluster}-(aws|azure|gcp)$`).test(p.name))!;
                assert.equal(r.provider, cloudProvider.urn, `${r.name} uses ${r.provider}`);
            }
        });
    });
}

describe("gateway DNS records: zones elsewhere, and domains outside the zone", () => {
    it("an Azure zone in another subscription gets a provider for that subscription, and only the records use it", async () => {
        const other = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/shared-dns/providers/Microsoft.Network/dnszones/example.com";
        const file = editedStackFile("production", (s: Raw) => (s.clusters[1].dns = { domain: "azure.example.com", zone: other }));
        const doc = await renderProgram("production", readStackConfig(file));
        const provider = doc.resources.find((r) => r.name === "prod-azure-weu-dns-azure")!;
        assert.equal(provider.inputs.subscriptionId, "11111111-2222-3333-4444-555555555555");
        const users = doc.resources.filter((r) => r.provider === provider.urn);
        assert.deepEqual(users.map((r) => [r.name, r.inputs.resourceGroupName, r.inputs.zoneName, r.inputs.relativeRecordSetName]).sort(), [
            ["prod-azure-weu-gateway-apex", "shared-dns", "example.com", "azure"],
            ["prod-azure-weu-gateway-wildcard", "shared-dns", "example.com", "*.azure"],
        ]);
        assert.notEqual(providerOf(doc, "prod-aws-use1-gateway-apex"), provider.urn);
    });

    it("an Azure domain outside its zone is a config error at clusters[i].dns.domain", () => {
        const settings = structuredClone(loadStackSettings("production")) as Raw;
        settings.clusters[1].dns.domain = "azure.example.org";
        const { problems } = validateSettings(settings);
        assert.deepEqual(problems.filter((p) => p.startsWith("clusters[1].dns")), ["clusters[1].dns.domain: must be azure.example.com or a name under it (the zone dns.zone names), where the Gateway's records go"]);
    });
});
