import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { validateSettings } from "../components/config";
import { addons } from "../components/platform/addons";
import { chartName } from "../components/versions";
import { integrationConfig, platformTierConfig, platformTierRestoreConfig } from "../scripts/integration/stack-config";
import { drillConfig } from "../scripts/integration/dr-drill-config";

// The integration tiers write these stack files for the real CLI; a config the schema refuses
// would fail there, minutes into CI, instead of here.
function platformSettings(config: Record<string, unknown>): Record<string, unknown> {
    const keys = Object.keys(config).filter((key) => key.startsWith("platform:"));
    assert.ok(keys.length >= 4, `expected platform: keys, got ${Object.keys(config).join(", ")}`);
    return Object.fromEntries(keys.map((key) => [key.slice("platform:".length), decrypted(config[key])]));
}

/** What the CLI hands the program for `secure:` values: their (here placeholder) plain text. */
function decrypted(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(decrypted);
    if (value && typeof value === "object") {
        const entries = Object.entries(value);
        if (entries.length === 1 && entries[0][0] === "secure") return "decrypted";
        return Object.fromEntries(entries.map(([k, v]) => [k, decrypted(v)]));
    }
    return value;
}

describe("integration stack configs follow the schema", () => {
    it("the integration tier's stack", () => {
        assert.deepEqual(validateSettings(platformSettings(integrationConfig("/tmp/kubeconfig", "integration"))).problems, []);
    });
    it("the platform tier's stacks, as installed and as restoring (with their charts at their pins in the charts directory)", () => {
        const charts = fs.mkdtempSync(path.join(os.tmpdir(), "tier-charts-"));
        for (const addon of [addons.certManager, addons.envoyGateway, addons.kyverno, addons.velero, addons.monitoring]) {
            fs.mkdirSync(path.join(charts, chartName(addon.chart)));
            fs.writeFileSync(path.join(charts, chartName(addon.chart), "Chart.yaml"), `name: ${chartName(addon.chart)}\nversion: ${addon.chart.version}\n`);
        }
        try {
            assert.deepEqual(validateSettings(platformSettings(platformTierConfig("/tmp/kubeconfig", "integration", charts))).problems, []);
            assert.deepEqual(validateSettings(platformSettings(platformTierRestoreConfig("/tmp/kubeconfig", "integration", charts))).problems, []);
        } finally {
            fs.rmSync(charts, { recursive: true });
        }
    });
    it("the disaster-recovery drill's stack (Velero and Kyverno charts at their pins; credentials as the drill sets them), and with its restore block", () => {
        const charts = fs.mkdtempSync(path.join(os.tmpdir(), "drill-charts-"));
        for (const addon of ["velero", "kyverno"] as const) {
            fs.mkdirSync(path.join(charts, addon));
            fs.writeFileSync(path.join(charts, addon, "Chart.yaml"), `name: ${addon}\nversion: ${addons[addon].chart.version}\n`);
        }
        try {
            const settings: Record<string, unknown> = { ...platformSettings(drillConfig("/tmp/kubeconfig", "integration", charts, "http://127.0.0.1:9000")), backupCredentials: { accessKeyId: "a", secretAccessKey: "b" } };
            assert.deepEqual(validateSettings(settings).problems, []);
            const clusters = settings.clusters as Record<string, unknown>[];
            const restoring = { ...settings, clusters: [{ ...clusters[0], restore: { schedule: "tenants-daily" } }] };
            assert.deepEqual(validateSettings(restoring).problems, []);
            // Without the credentials the drill sets as secrets, the stack is refused: the check above is not vacuous.
            assert.deepEqual(validateSettings({ ...settings, backupCredentials: undefined }).problems.length, 1);
        } finally {
            fs.rmSync(charts, { recursive: true });
        }
    });
});
