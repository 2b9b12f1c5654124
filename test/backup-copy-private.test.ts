/**
 * A private Azure backup account's copy is reachable from the cluster: the account refuses
 * public network access, so its read-only copy in the paired region
 * (`<account>-secondary.blob.core.windows.net`, what `restore.fromCopy` reads) needs a private
 * endpoint of its own (group `blob_secondary`) with its record in the blob zone. Read from the
 * inputs the real stack files register; ids and names are written out here.
 */
import { strict as assert } from "assert";
import { readStackConfig, RenderDocument, RenderedResource, renderProgram } from "../scripts/render-program";
import { typed } from "./clusters-fixtures";
import { editedStackFile, renderStack } from "./mocks";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups";
/** production's prod-azure-weu account: stvelero<sha256("production\0prod-azure-weu\0<subscription>")[0:12]>. */
const ACCOUNT = "stvelero2795a1bf71ee";
const ACCOUNT_ID = `${SUB}/rg-prod-azure-weu-data/providers/Microsoft.Storage/storageAccounts/${ACCOUNT}`;
const BLOB_ZONE_ID = `${SUB}/rg-prod-azure-weu/providers/Microsoft.Network/privateDnsZones/privatelink.blob.core.windows.net`;
const ENDPOINT_SUBNET = `${SUB}/rg-prod-azure-weu/providers/Microsoft.Network/virtualNetworks/vnet-prod-azure-weu/subnets/private-endpoints`;
const PE = "azure-native:network:PrivateEndpoint";
const ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup";

type Connection = { groupIds: string[]; name: string; privateLinkServiceId: string };
const connection = (endpoint: RenderedResource) => (endpoint.inputs.privateLinkServiceConnections as Connection[])[0];
/** The private endpoints of a render that connect to a group: [resource name, endpoint name, target]. */
const endpointsOf = (doc: RenderDocument, group: string) =>
    typed(doc, PE)
        .filter((e) => connection(e).groupIds.includes(group))
        .map((e) => [e.name, e.inputs.privateEndpointName, connection(e).privateLinkServiceId]);

describe("a private backup account's copy has its own private endpoint", () => {
    let production: RenderDocument;
    before(async () => {
        production = await renderStack("production");
    });

    it("production: exactly one blob_secondary endpoint, in the cluster's endpoint subnet, on the backup account", () => {
        assert.deepEqual(endpointsOf(production, "blob_secondary"), [["prod-azure-weu-pe-backup-blob-secondary", "pe-backup-blob-secondary", ACCOUNT_ID]]);
        const endpoint = typed(production, PE).find((e) => e.name === "prod-azure-weu-pe-backup-blob-secondary")!;
        assert.deepEqual(connection(endpoint), { groupIds: ["blob_secondary"], name: "pe-backup-blob-secondary", privateLinkServiceId: ACCOUNT_ID });
        assert.equal((endpoint.inputs.subnet as { id: string }).id, ENDPOINT_SUBNET);
        assert.equal(endpoint.inputs.location, "westeurope");
        assert.ok(endpoint.dependencies.some((d) => d.endsWith("$azure-native:storage:StorageAccount::prod-azure-weu-backup")), "it waits for the account");
        // The primary keeps its own endpoint, unchanged.
        assert.deepEqual(endpointsOf(production, "blob"), [["prod-azure-weu-pe-backup-blob", "pe-backup-blob", ACCOUNT_ID]]);
    });

    it("production: its record goes in the same privatelink.blob zone as the primary's (one zone, one VNet link)", () => {
        const groups = typed(production, ZONE_GROUP).filter((g) => g.name.startsWith("prod-azure-weu-pe-backup-blob"));
        assert.deepEqual(
            groups.map((g) => [g.name, g.inputs.privateEndpointName, g.inputs.privateDnsZoneConfigs]).sort(),
            [
                ["prod-azure-weu-pe-backup-blob", "pe-backup-blob", [{ name: "blob", privateDnsZoneId: BLOB_ZONE_ID }]],
                ["prod-azure-weu-pe-backup-blob-secondary", "pe-backup-blob-secondary", [{ name: "blob_secondary", privateDnsZoneId: BLOB_ZONE_ID }]],
            ],
        );
        const blobZones = typed(production, "azure-native:privatedns:PrivateZone").filter((z) => z.inputs.privateZoneName === "privatelink.blob.core.windows.net");
        assert.deepEqual(blobZones.map((z) => z.name), ["prod-azure-weu-zone-blob"]);
        assert.deepEqual(typed(production, "azure-native:privatedns:VirtualNetworkLink").map((l) => l.name).sort(), ["prod-azure-weu-zone-blob", "prod-azure-weu-zone-vault"]);
    });

    it("staging (a copy, RA-GRS, but public) and local (neither) have no secondary endpoint", async () => {
        const staging = await renderStack("staging");
        assert.deepEqual(typed(staging, "azure-native:storage:StorageAccount").map((a) => a.inputs.sku), [{ name: "Standard_RAGRS" }]);
        assert.deepEqual(endpointsOf(staging, "blob_secondary"), []);
        const local = await renderStack("local");
        assert.deepEqual(typed(local, PE), []);
    });

    it("production without a copy (backupCopyRegion: false): the primary's endpoint only", async () => {
        const file = editedStackFile("production", (s: any) => {
            s.clusters[1].backupCopyRegion = false;
        });
        const noCopy = await renderProgram("production", readStackConfig(file));
        assert.deepEqual(typed(noCopy, "azure-native:storage:StorageAccount").map((a) => [a.name, a.inputs.sku]), [["prod-azure-weu-backup", { name: "Standard_ZRS" }]]);
        assert.deepEqual(endpointsOf(noCopy, "blob_secondary"), []);
        assert.deepEqual(endpointsOf(noCopy, "blob"), [["prod-azure-weu-pe-backup-blob", "pe-backup-blob", ACCOUNT_ID]]);
    });

    it("restore.fromCopy: Velero's copy location reads the -secondary address and waits for its private DNS record", async () => {
        const file = editedStackFile("production", (s: any) => {
            s.clusters[1].restore = { schedule: "tenants-daily", fromCopy: true };
        });
        const rebuild = await renderProgram("production", readStackConfig(file));
        const copy = rebuild.resources.filter((r) => r.type === "kubernetes:velero.io/v1:BackupStorageLocation" && (r.inputs.metadata as any).name === "copy-prod-azure-weu");
        assert.equal(copy.length, 1);
        const spec = copy[0].inputs.spec as any;
        assert.equal(spec.accessMode, "ReadOnly");
        assert.equal(spec.config.storageAccountURI, `https://${ACCOUNT}-secondary.blob.core.windows.net`);
        assert.ok(
            copy[0].dependencies.some((d) => d.endsWith(`$${ZONE_GROUP}::prod-azure-weu-pe-backup-blob-secondary`)),
            `the copy location waits for the secondary endpoint's record: ${copy[0].dependencies.join(", ")}`,
        );
    });
});
