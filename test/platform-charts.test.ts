/**
 * `platform:charts`: every add-on's chart from a local directory at its pin (air-gapped
 * installs), checked in config with the other problems; and `wait: false`, releases that do
 * not wait for their workloads. The chart trees here are fakes made in a temp directory: only
 * `Chart.yaml` is read before the Helm provider gets the path.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { validateSettings } from "../components/config";
import { charts } from "../components/versions";
import { readStackConfig, RenderDocument, renderProgram, stackFilePath } from "../scripts/render-program";
import { addonOf, clustersOf, Raw, RELEASE } from "./platform-helpers";
import { loadStackSettings } from "./mocks";

/** Each add-on's folder under the directory (written out: the chart's own name) and its component suffix. */
const folders: Record<string, string> = {
    "cert-manager": "cert-manager",
    velero: "velero",
    "envoy-gateway": "gateway-helm",
    "external-secrets": "external-secrets",
    falco: "falco",
    flux: "flux2",
    monitoring: "kube-prometheus-stack",
    kyverno: "kyverno",
};

/** A fake mirror: `<dir>/<chart>/Chart.yaml` at the pinned version (the input; the pins are versions.ts'). */
function mirror(versions: Record<string, string> = {}): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "platform-charts-"));
    for (const pin of Object.values(charts)) {
        const name = pin.chart.split("/").pop()!;
        fs.mkdirSync(path.join(dir, name));
        fs.writeFileSync(path.join(dir, name, "Chart.yaml"), `apiVersion: v2\nname: ${name}\nversion: ${versions[name] ?? pin.version}\n`);
    }
    return dir;
}

const withCharts = (chartsSetting: Raw, edit?: (s: Raw) => void) => {
    const settings = { ...structuredClone(loadStackSettings("local")), charts: chartsSetting } as Raw;
    edit?.(settings);
    return validateSettings(settings).problems;
};

function renderLocal(chartsSetting: Raw): Promise<RenderDocument> {
    const config = readStackConfig(stackFilePath("local"));
    config.values["platform:charts"] = JSON.stringify(chartsSetting);
    return renderProgram("local", config);
}

describe("platform: charts from a local directory (platform:charts)", () => {
    describe("config", () => {
        it("accepts a directory holding every chart at its pin", () => {
            assert.deepEqual(withCharts({ directory: mirror() }), []);
        });

        it("refuses a chart of another version, naming its Chart.yaml and the pinned version", () => {
            const dir = mirror({ "cert-manager": "v1.20.0" });
            assert.deepEqual(withCharts({ directory: dir }), [`charts.directory: ${dir}/cert-manager/Chart.yaml has version v1.20.0; expected chart cert-manager version v1.21.1 for addons.certManager`]);
        });

        it("refuses a missing chart, naming where it was looked for", () => {
            const dir = mirror();
            fs.rmSync(path.join(dir, "kube-prometheus-stack"), { recursive: true });
            assert.deepEqual(withCharts({ directory: dir }), [`charts.directory: ${dir}/kube-prometheus-stack/Chart.yaml does not exist; expected chart kube-prometheus-stack version 88.6.1 for addons.monitoring`]);
        });

        it("does not ask for the chart of an add-on that is off", () => {
            const dir = mirror();
            fs.rmSync(path.join(dir, "falco"), { recursive: true });
            assert.deepEqual(withCharts({ directory: dir }, (s) => (s.addons.falco = { enabled: false })), []);
        });

        it("asks for the chart of an add-on a cluster turns on, and not for one every cluster turns off", () => {
            const dir = mirror();
            fs.rmSync(path.join(dir, "falco"), { recursive: true });
            const missing = `charts.directory: ${dir}/falco/Chart.yaml does not exist; expected chart falco version 9.1.0 for addons.falco`;
            assert.deepEqual(withCharts({ directory: dir }, (s) => ((s.addons.falco = { enabled: false }), (s.clusters[0].addons = { falco: { enabled: true } }))), [missing]);
            assert.deepEqual(withCharts({ directory: dir }, (s) => (s.clusters[0].addons = { falco: { enabled: false } })), []);
        });

        it("refuses a directory that does not exist", () => {
            const dir = path.join(os.tmpdir(), "platform-charts-none", "mirror");
            assert.deepEqual(withCharts({ directory: dir }), [`charts.directory: ${dir} is not a directory`]);
        });

        it("resolves a relative directory against the working directory (the project's, under Pulumi)", () => {
            const dir = mirror({ velero: "12.0.0" });
            const relative = path.relative(process.cwd(), dir);
            assert.deepEqual(withCharts({ directory: relative }), [`charts.directory: ${dir}/velero/Chart.yaml has version 12.0.0; expected chart velero version 12.1.0 for addons.velero`]);
        });

        it("reports chart problems together with every other problem", () => {
            const dir = mirror({ flux2: "2.17.0" });
            const problems = withCharts({ directory: dir, wait: "no" }, (s) => (s.clusters[0].name = "Bad_Name"));
            assert.equal(problems.length, 3, problems.join("\n"));
            assert.ok(problems.some((p) => p.startsWith("clusters[0].name: ")));
            assert.ok(problems.some((p) => p.startsWith("charts.wait: ")));
            assert.ok(problems.includes(`charts.directory: ${dir}/flux2/Chart.yaml has version 2.17.0; expected chart flux2 version 2.18.3 for addons.flux`));
        });
    });

    describe("render", () => {
        it("installs every chart from <directory>/<chart> at its pin, with no repository", async () => {
            const dir = mirror();
            const doc = await renderLocal({ directory: dir });
            const [cluster] = clustersOf("local");
            let seen = 0;
            for (const [suffix, folder] of Object.entries(folders)) {
                const { release } = addonOf(doc, cluster.name, suffix);
                assert.equal(release.inputs.chart, `${dir}/${folder}`, suffix);
                assert.equal(release.inputs.repositoryOpts, undefined, `${suffix}: no repository`);
                seen++;
            }
            assert.equal(seen, doc.resources.filter((r) => r.type === RELEASE).length, "every release of the stack");
            assert.equal(addonOf(doc, cluster.name, "cert-manager").release.inputs.version, "v1.21.1");
        });

        it("keeps a relative directory relative, so the release does not change with the checkout's location", async () => {
            const dir = mirror();
            const inside = path.join(process.cwd(), "node_modules", ".platform-charts-test");
            fs.rmSync(inside, { recursive: true, force: true });
            fs.cpSync(dir, inside, { recursive: true });
            const [cluster] = clustersOf("local");
            const below = await renderLocal({ directory: "node_modules/.platform-charts-test" });
            assert.equal(addonOf(below, cluster.name, "velero").release.inputs.chart, "./node_modules/.platform-charts-test/velero");
            const above = path.relative(process.cwd(), dir);
            assert.match(above, /^\.\.\//);
            const fromAbove = await renderLocal({ directory: above });
            assert.equal(addonOf(fromAbove, cluster.name, "velero").release.inputs.chart, `${above}/velero`);
            fs.rmSync(inside, { recursive: true });
        });

        it("without a directory, installs from the repositories and waits", async () => {
            const doc = await renderLocal({});
            const { release } = addonOf(doc, clustersOf("local")[0].name, "cert-manager");
            assert.equal(release.inputs.chart, "cert-manager");
            assert.deepEqual(release.inputs.repositoryOpts, { repo: "https://charts.jetstack.io" });
            assert.equal(release.inputs.skipAwait, undefined);
        });

        it("wait: false skips waiting for workloads on every release, and Flux's check-only hook", async () => {
            const doc = await renderLocal({ wait: false });
            const [cluster] = clustersOf("local");
            for (const suffix of Object.keys(folders)) {
                const { release } = addonOf(doc, cluster.name, suffix);
                assert.equal(release.inputs.skipAwait, true, suffix);
                assert.equal(release.inputs.disableWebhooks, suffix === "flux" ? true : undefined, `${suffix}: hooks`);
            }
            assert.equal((addonOf(doc, cluster.name, "cert-manager").release.inputs.values as Raw).startupapicheck.enabled, false);
            const waiting = await renderLocal({});
            assert.equal((addonOf(waiting, cluster.name, "cert-manager").release.inputs.values as Raw).startupapicheck.enabled, true);
        });
    });
});
