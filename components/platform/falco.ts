/**
 * Falco: runtime threat detection on every node, with the platform's rules for API and
 * PostgreSQL containers (falco-rules.ts) on top of Falco's own stable rule set.
 *
 * Values checked against the falco chart 9.1.0 (falcosecurity/charts, tag falco-9.1.0,
 * charts/falco/values.yaml; app 0.44.1). Falco's own rules come from the falco-rules 5.1.0
 * artifact (falcosecurity/rules, tag falco-rules-5.1.0), pinned in versions.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { artifacts } from "../versions";
import { AddonContext, addons } from "./addons";
import { falcoRulesYaml } from "./falco-rules";
import { AddonArgs, fromRegistry, HelmAddon, requests } from "./helm-addon";

export const FALCO_NAMESPACE = addons.falco.namespace;
/** The file name under /etc/falco/rules.d: loaded after falco_rules.yaml, whose macros it reuses. */
export const PLATFORM_RULES_FILE = "platform-rules.yaml";

export interface FalcoArgs extends AddonArgs {
    /** Install after these. Default: none (installs in parallel with the other add-ons). */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export class Falco extends HelmAddon {
    constructor(name: string, args: FalcoArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            name,
            {
                cluster: args.cluster,
                // Privileged (addons.ts): Falco reads every process on the node through eBPF.
                ...fromRegistry(addons.falco, args),
                values: () => ({
                    // CO-RE eBPF: no kernel module to build or download per node kernel (managed node
                    // images and kind alike), and no driver loader init container.
                    driver: { kind: "modern_ebpf" },
                    // Alerts as JSON lines on stdout, flushed at once: log pipelines pick them up as events.
                    tty: true,
                    resources: requests("100m", "512Mi"),
                    falco: { json_output: true, json_include_output_property: true },
                    falcoctl: {
                        // Following the artifact would swap rules under a running cluster weekly; pins change in review.
                        artifact: { install: { resources: requests("10m", "32Mi") }, follow: { enabled: false } },
                        config: { artifact: { install: { refs: [artifacts.falcoRules] }, follow: { refs: [artifacts.falcoRules] } } },
                    },
                    customRules: { [PLATFORM_RULES_FILE]: falcoRulesYaml() },
                }),
                dependsOn: args.dependsOn,
            },
            opts,
            "platform:addons:Falco",
        );
        this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status });
    }
}

/** The Platform's entry (addons.ts). */
export function install(name: string, { cluster, charts, addons: settings }: AddonContext, _links: object, opts?: pulumi.ComponentResourceOptions): Falco {
    return new Falco(name, { cluster, charts, extraValues: settings.falco.values }, opts);
}
