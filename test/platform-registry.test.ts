/**
 * The add-on registry (components/platform/addons.ts) against what it must agree with: the
 * add-on files in components/platform, their "checked against" headers, the headings and the
 * table of docs/platform.md, and the stack schema's reserved names. The checkers are tested
 * on bad input first, so a registry that happens to agree cannot hide a checker that accepts
 * everything.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { validateSettings } from "../components/config";
import { addonKeys, addons, reservedNamespaces } from "../components/platform/addons";
import { PLATFORM_DOC, withAddonTable } from "../scripts/config-reference";
import { loadStackSettings } from "./mocks";

const PLATFORM_DIR = path.join(__dirname, "..", "..", "components", "platform");
const source = (file: string) => fs.readFileSync(path.join(PLATFORM_DIR, `${file}.ts`), "utf8");

/** Files in components/platform that declare an add-on: a class extending HelmAddon. */
function addonFiles(dir: string): string[] {
    return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".ts") && /^(export\s+)?class\s+\w+\s+extends\s+HelmAddon\b/m.test(fs.readFileSync(path.join(dir, f), "utf8")))
        .map((f) => f.replace(/\.ts$/, ""))
        .sort();
}

/** The file's leading comment, on one line. */
const headerOf = (text: string) => (/^\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? "").replace(/\s*\*\s*/g, " ").replace(/\s+/g, " ");
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** Whether a header says its values were checked against exactly `version`: the first version it names after "checked against". */
const headerChecks = (header: string, version: string) => {
    const after = header.split("checked against")[1];
    return after !== undefined && /v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?/.exec(after)?.[0] === version;
};
/** The `## ` heading of docs/platform.md for an add-on file, if any. */
const headingOf = (doc: string, file: string) => doc.split("\n").find((line) => line.startsWith("## ") && line.includes(`(\`${file}.ts\``));
const headingNames = (heading: string, version: string) => new RegExp(`[ (]${escape(version)}(?![\\w.])`).test(heading);

describe("add-on registry", () => {
    describe("the checkers, on bad input first", () => {
        it("addonFiles finds a HelmAddon subclass and nothing else", () => {
            const dir = fs.mkdtempSync("/tmp/platform-registry-");
            fs.writeFileSync(path.join(dir, "dummy.ts"), "export class Dummy extends HelmAddon {}\n");
            fs.writeFileSync(path.join(dir, "helper.ts"), "/**\n * (`class X extends HelmAddon {}` in a comment)\n */\nexport class Helper {}\nconst x = new HelmAddon();\n");
            assert.deepEqual(addonFiles(dir), ["dummy"]);
        });

        it("a header or heading naming another version fails", () => {
            const header = headerOf("/**\n * Values checked against the jetstack chart v1.21.1\n * (cert-manager/cert-manager, tag v1.21.1).\n */\nimport x;");
            assert.equal(headerChecks(header, "v1.21.1"), true);
            for (const other of ["v1.21.2", "v1.21", "1.21.1x", "v1.2"]) assert.equal(headerChecks(header, other), false, other);
            assert.equal(headerChecks(headerOf("/** Values for chart 12.1.0, not checked. */"), "12.1.0"), false, "no 'checked against'");
            const halfBumped = headerOf("/**\n * Values checked against the jetstack chart v1.21.2\n * (cert-manager/cert-manager, tag v1.21.1).\n */");
            assert.equal(headerChecks(halfBumped, "v1.21.1"), false, "the chart's version is the first one named");
            assert.equal(headingNames("## Velero (`velero.ts`, vmware-tanzu chart 12.1.0, Velero v1.18.1)", "12.1.0"), true);
            assert.equal(headingNames("## Velero (`velero.ts`, vmware-tanzu chart 12.1.0, Velero v1.18.1)", "12.1.1"), false);
            assert.equal(headingNames("## Velero (`velero.ts`, vmware-tanzu chart 12.1.0, Velero v1.18.1)", "1.18.1"), false, "the app version is not the chart's");
        });
    });

    it("has an entry for every add-on file in components/platform, and a file for every entry", () => {
        assert.deepEqual(addonFiles(PLATFORM_DIR), addonKeys.map((key) => addons[key].file).sort());
    });

    it("begins with the eight add-ons in the order the rendered namespace lists follow (new ones are appended)", () => {
        assert.deepEqual(addonKeys.slice(0, 8), ["certManager", "velero", "envoyGateway", "externalSecrets", "falco", "flux", "monitoring", "kyverno"]);
    });

    it("each entry's module exports install", () => {
        for (const key of addonKeys) assert.equal(typeof (addons[key].load() as { install?: unknown }).install, "function", key);
    });

    it("each add-on file's header says its values were checked against the pinned chart version", () => {
        for (const key of addonKeys) {
            const { file, chart } = addons[key];
            assert.ok(headerChecks(headerOf(source(file)), chart.version), `${file}.ts: the "checked against" header does not name ${chart.version} (bumped without checking the values?)`);
        }
    });

    describe("docs/platform.md", () => {
        const doc = fs.readFileSync(PLATFORM_DOC, "utf8");

        it("has a section per add-on whose heading names the pinned chart version", () => {
            for (const key of addonKeys) {
                const { file, chart } = addons[key];
                const heading = headingOf(doc, file);
                assert.ok(heading, `no "## ... (\`${file}.ts\`, ...)" section`);
                assert.ok(headingNames(heading, chart.version), `${heading}: does not name ${chart.version}`);
            }
        });

        it("carries the add-on table the registry generates (run npm run docs:config)", () => {
            assert.equal(doc, withAddonTable(doc));
        });
    });

    it("no tenant may take an add-on's namespace, default or a kube- namespace", () => {
        const reserved = ["default", "cert-manager", "velero", "gateway-system", "external-secrets", "falco", "flux-system", "monitoring", "kyverno"];
        assert.deepEqual([...reservedNamespaces()].sort(), ["default", ...addonKeys.map((key) => addons[key].namespace)].sort());
        for (const name of new Set([...reserved, ...addonKeys.map((key) => addons[key].namespace), "kube-system", "kube-anything"])) {
            const { problems } = validateSettings({ ...loadStackSettings("local"), tenants: [{ name }] });
            assert.deepEqual(problems, ["tenants[0].name: is a reserved platform namespace"], name);
        }
    });
});
