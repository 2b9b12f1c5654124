import { strict as assert } from "assert";
import * as fs from "fs";
import { ConfigError, validateSettings } from "../components/config";
import { README } from "../scripts/config-reference";
import { loadStackSettings } from "./mocks";

type Settings = Record<string, any>;
function problemsAfter(stack: string, edit: (s: Settings) => void): string[] {
    const settings = structuredClone(loadStackSettings(stack)) as Settings;
    edit(settings);
    return validateSettings(settings).problems;
}

describe("config messages a person understands", () => {
    it("the README's example is what the program prints for the edits it names", () => {
        const readme = fs.readFileSync(README, "utf8");
        const example = /```text\n(Invalid stack configuration[^`]*)```/.exec(readme)?.[1];
        assert.ok(example, "README has the example");
        const problems = problemsAfter("staging", (s) => {
            s.clusters[0].cloud = "digitalocean";
            s.clusters[0].nodePools[1].minSize = 9;
            delete s.clusters[1].kubernetesVersion;
            s.clusters[2].nodePools[0].maxSize = "3";
            s.tenants[1].quota["requests.memory"] = "4GB";
        });
        assert.equal(`${new ConfigError(problems).message}\n`, example);
    });

    it("a missing value is 'is required', also where the schema words the wrong-type case itself", () => {
        assert.deepEqual(
            problemsAfter("staging", (s) => {
                delete s.clusters[0].region;
                delete s.clusters[0].nodePools[0].instanceType;
                delete s.clusters[1].kubernetesVersion;
            }),
            ["clusters[0].region: is required", "clusters[0].nodePools[0].instanceType: is required", "clusters[1].kubernetesVersion: is required"],
        );
    });

    it("a wrong type says what is expected and what was found, never the value (it may be a secret)", () => {
        const problems = problemsAfter("staging", (s) => {
            s.clusters[0].privateEndpoint = "false";
            s.clusters[0].nodePools[0].taints = { key: "a" };
            s.clusters[0].nodePools[1].diskSizeGb = true;
            s.grafanaAdminPassword = 987654321987654321;
        });
        assert.deepEqual(problems, [
            "clusters[0].privateEndpoint: must be true or false, not a string (remove the quotes in YAML)",
            "clusters[0].nodePools[0].taints: must be a list, not a map",
            "clusters[0].nodePools[1].diskSizeGb: must be a number, not a boolean",
            "grafanaAdminPassword: must be a string",
        ]);
        assert.doesNotMatch(problems.join("\n"), /98765/);
    });

    it("a value outside a list of choices names the choices and what was given; an unknown nested key names its own path", () => {
        assert.deepEqual(
            problemsAfter("staging", (s) => {
                s.addons.kyverno = { validationFailureAction: "Deny" };
                s.clusters[0].vnetCidr = "10.1.0.0/16";
                s.clusters[2].nodePools[0].machineType = "e2-standard-4";
            }),
            [
                "clusters[0].vnetCidr: unknown key for a cluster with cloud: aws (a typo?)",
                "clusters[2].nodePools[0].machineType: unknown key (a typo?)",
                'addons.kyverno.validationFailureAction: must be one of Audit, Enforce (got "Deny")',
            ],
        );
    });

    it("a cluster's own add-on settings read the same way", () => {
        assert.deepEqual(
            problemsAfter("staging", (s) => {
                s.clusters[0].addons = { kyverno: { validationFailureAction: "Deny", bogus: 1 }, monitoring: { storageSize: true } };
            }),
            [
                "clusters[0].addons.monitoring.storageSize: must be a string or a number, not a boolean",
                'clusters[0].addons.kyverno.validationFailureAction: must be one of Audit, Enforce (got "Deny")',
                "clusters[0].addons.kyverno.bogus: unknown key (a typo?)",
            ],
        );
    });

    it("an unknown or missing cloud still reports the checks every cloud shares: name, pools, sizes", () => {
        assert.deepEqual(
            problemsAfter("staging", (s) => {
                delete s.clusters[1].cloud;
                s.clusters[1].name = "Stg_Azure";
                s.clusters[1].nodePools[1].role = "worker";
                s.clusters[1].nodePools[1].minSize = 7;
                s.clusters[1].nodePools.push({ name: "extra", role: "user", instanceType: "x", minSize: -1, maxSize: 0 });
            }),
            [
                "clusters[1].cloud: is required: one of aws, azure, gcp, existing",
                "clusters[1].name: must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit",
                "clusters[1].nodePools[1].role: must be system or user",
                "clusters[1].nodePools[1].minSize: must be <= maxSize (7 > 5)",
                "clusters[1].nodePools[2].minSize: must be >= 0",
                "clusters[1].nodePools[2].maxSize: must be >= 1",
            ],
        );
    });
});
