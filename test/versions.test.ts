/**
 * components/versions.ts holds exact pins only: an upgrade is a reviewed edit there, never a
 * side effect of a re-run. The checker is tested on its own first, so a pin table that
 * happens to be clean cannot hide a checker that accepts everything.
 */
import { strict as assert } from "assert";
import { addonKeys, addons } from "../components/platform/addons";
import { artifacts, charts, images } from "../components/versions";

// MAJOR.MINOR.PATCH with an optional leading "v" (cert-manager and Envoy Gateway tag so) and pre-release.
const EXACT = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const RANGE = /[\^~>*<=|\s]|(^|\.)[xX](\.|$)/;

/** Why `version` is not an exact pin, or undefined when it is. */
function notExact(version: unknown): string | undefined {
    if (typeof version !== "string" || version === "") return "missing";
    if (RANGE.test(version)) return "a range";
    if (!EXACT.test(version)) return "not MAJOR.MINOR.PATCH";
    return undefined;
}

/** The tag of an image or artifact reference (`repo/name:tag`), ignoring a registry port. */
const tagOf = (reference: string) => /:([^/:]+)$/.exec(reference)?.[1];

describe("versions.ts", () => {
    it("the checker rejects ranges, wildcards and missing patch versions, and accepts exact pins", () => {
        for (const bad of ["^1.2.3", "~1.2.3", "1.x", "1.2.x", "1.X.0", ">1.0.0", ">=1.0.0", "*", "1.2", "1", "", "latest", "1.2.3 || 1.2.4", undefined]) {
            assert.ok(notExact(bad), `accepted ${JSON.stringify(bad)}`);
        }
        for (const good of ["1.2.3", "v1.21.1", "12.1.0", "2.9.0", "88.5.3", "1.0.0-rc.1"]) assert.equal(notExact(good), undefined, good);
    });

    it("every chart pin is exact", () => {
        const entries = Object.entries(charts);
        // Exactly the registry's charts: no pin without an add-on (an add-on without a pin does not compile).
        assert.deepEqual(new Set(entries.map(([, pin]) => pin)), new Set(addonKeys.map((key) => addons[key].chart)));
        for (const [addon, pin] of entries) assert.equal(notExact(pin.version), undefined, `${addon}: chart ${pin.chart} version "${pin.version}" is ${notExact(pin.version)}`);
    });

    it("every chart names its source: an https repository, or an oci:// reference without one", () => {
        for (const [addon, pin] of Object.entries(charts)) {
            const repo = (pin as { repo?: string }).repo;
            if (pin.chart.startsWith("oci://")) assert.equal(repo, undefined, addon);
            else assert.match(repo ?? "", /^https:\/\//, `${addon}: repository`);
        }
    });

    it("every image and artifact has an exact tag", () => {
        for (const [name, reference] of Object.entries({ ...images, ...artifacts })) {
            const tag = tagOf(reference);
            assert.equal(notExact(tag), undefined, `${name}: ${reference} has tag ${tag}`);
        }
    });
});
