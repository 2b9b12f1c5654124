import { strict as assert } from "assert";
import * as fs from "fs";
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
        assert.match(reference, /`addons.monitoring.storageSize` \| string \\\| number \|[^\n]*`"5Gi"` \/ `"20Gi"` \/ `"50Gi"`/);
    });

    it("lists the secret keys as secret, with their fields", () => {
        const rows = configReference()
            .split("\n")
            .filter((line) => line.includes("**secret**"))
            .map((line) => line.split("|")[1].trim());
        assert.deepEqual(rows, ["`backupCredentials`", "`backupCredentials.accessKeyId`", "`backupCredentials.secretAccessKey`", "`alertmanagerWebhookUrl`", "`grafanaAdminPassword`"]);
    });

    it("shows the two commands near the top", () => {
        const top = readme.split("\n").slice(0, 40).join("\n");
        assert.match(top, /npm run render -- --stack local/);
        assert.match(top, /npm test/);
    });
});
