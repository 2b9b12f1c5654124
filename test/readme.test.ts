import { strict as assert } from "assert";
import * as fs from "fs";
import { kubernetesVersions } from "../components/versions";
import { configReference, README, withReference } from "../scripts/config-reference";

describe("README", () => {
    const readme = fs.readFileSync(README, "utf8");

    it("carries the configuration reference the schema generates (run npm run docs:config)", () => {
        assert.equal(readme, withReference(readme));
    });

    it("lists the keys a stack file uses, with their per-environment defaults", () => {
        const reference = configReference();
        for (const key of ["clusters[].nodePools[].minSize", "clusters[].kubeconfig.path", "tenants[].quota", "addons.kyverno.validationFailureAction"]) {
            assert.match(reference, new RegExp(`\\| \`${key.replace(/[[\].]/g, "\\$&")}\` \\|`), key);
        }
        assert.match(reference, /`addons.kyverno.validationFailureAction` \|[^\n]*`"Audit"` \/ `"Audit"` \/ `"Enforce"`/);
    });

    it("lists the secret keys as secret, with their fields", () => {
        const rows = configReference()
            .split("\n")
            .filter((line) => line.includes("**secret**"))
            .map((line) => line.split("|")[1].trim());
        assert.deepEqual(rows, ["`backupCredentials`", "`backupCredentials.accessKeyId`", "`backupCredentials.secretAccessKey`", "`alertmanagerWebhookUrl`", "`grafanaAdminPassword`"]);
    });

    it("names quantities, maps and versions as what they are, with each cloud's accepted versions", () => {
        const rows = configReference().split("\n");
        const row = (key: string) => rows.find((l) => l.startsWith(`| \`${key}\` |`));
        assert.equal(row("addons.monitoring.storageSize"), '| `addons.monitoring.storageSize` | quantity |  |  | `"5Gi"` / `"20Gi"` / `"50Gi"` |');
        assert.equal(row("tenants[].limits.default.cpu"), '| `tenants[].limits.default.cpu` | quantity |  |  | `"500m"` |');
        assert.equal(
            row("tenants[].quota"),
            '| `tenants[].quota` | map of quantity |  |  | `{"requests.cpu":"4","requests.memory":"8Gi","limits.cpu":"8","limits.memory":"16Gi"}`, per key |',
        );
        assert.equal(row("tenants[].labels"), "| `tenants[].labels` | map of string |  |  | `{}` |");
        const [cloud, existing] = [kubernetesVersions.aws, kubernetesVersions.existing].map((v) => v.join(", "));
        assert.deepEqual([kubernetesVersions.azure, kubernetesVersions.gcp], [kubernetesVersions.aws, kubernetesVersions.aws], "one list for the three clouds");
        assert.equal(row("clusters[].kubernetesVersion"), `| \`clusters[].kubernetesVersion\` | "MAJOR.MINOR": ${cloud} (aws, azure, gcp) \\| "MAJOR.MINOR": ${existing} (existing) | aws, azure, gcp |  |  |`);
        // Each variant of `cloud` is its own value: no "(aws)" after aws.
        assert.equal(row("clusters[].cloud"), "| `clusters[].cloud` | aws \\| azure \\| gcp \\| existing | yes |  |  |");
    });

    it("shows the two commands near the top", () => {
        const top = readme.split("\n").slice(0, 40).join("\n");
        assert.match(top, /npm run render -- --stack local/);
        assert.match(top, /npm test/);
    });
});
