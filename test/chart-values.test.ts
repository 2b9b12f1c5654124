/**
 * components/chart-values.ts: how a stack's extra chart values merge over the platform's, and
 * which of them the guards refuse. Pure functions; expected values written out.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { guardViolations, mergeValues } from "../components/chart-values";
import { withExtraValues } from "../components/platform/helm-addon";
import { record, stackConfig, valueOf } from "./mocks";

describe("chart values: merging a stack's values over the platform's", () => {
    it("merges objects key by key at any depth; lists, null and scalars replace", () => {
        const ours = { a: { b: 1, c: { d: 2 } }, list: [1, 2], keep: "x", gone: { deep: true } };
        const theirs = { a: { c: { e: 3 } }, list: [3], gone: null, added: "y" };
        assert.deepEqual(mergeValues(ours, theirs), { a: { b: 1, c: { d: 2, e: 3 } }, list: [3], keep: "x", gone: null, added: "y" });
        assert.deepEqual(ours, { a: { b: 1, c: { d: 2 } }, list: [1, 2], keep: "x", gone: { deep: true } }, "the platform's values are not changed");
    });

    it("leaves the platform's values as they are (the same object) when the stack adds none", () => {
        const ours = { a: 1 };
        assert.equal(withExtraValues(ours, undefined), ours);
        assert.equal(withExtraValues(ours, {}), ours);
    });

    it("merges into an Output (an identity annotation) inside it, keeping it secret", async () => {
        let merged: pulumi.Input<Record<string, unknown>> | undefined;
        await record("unit", stackConfig({}), () => {
            merged = withExtraValues({ serviceAccount: pulumi.secret({ annotations: { role: "arn" } }), replicas: 1 }, { serviceAccount: { labels: { team: "a" } }, replicas: 2 });
        });
        const values = merged as Record<string, unknown>;
        assert.equal(values.replicas, 2);
        const account = values.serviceAccount as pulumi.Output<unknown>;
        assert.equal(pulumi.Output.isInstance(account), true);
        assert.deepEqual(await valueOf(account), { annotations: { role: "arn" }, labels: { team: "a" } });
        assert.equal(await pulumi.isSecret(account), true);
    });
});

describe("chart values: guarded keys", () => {
    const guards = [
        { path: "**.securityContext", why: "pod security" },
        { path: "serviceAccount.server", why: "identity" },
        { path: "config.*.namespaceSelector", why: "exclusions" },
    ];
    const refused = (values: Record<string, unknown>) => guardViolations(values, guards).map((v) => `${v.path.join(".")} (${v.guard.path})`);

    it("refuses the guarded key and anything inside it", () => {
        assert.deepEqual(refused({ serviceAccount: { server: { annotations: { a: "b" } } } }), ["serviceAccount.server (serviceAccount.server)"]);
        assert.deepEqual(refused({ config: { webhooks: { namespaceSelector: {} } } }), ["config.webhooks.namespaceSelector (config.*.namespaceSelector)"]);
    });

    it("finds `**` keys at any depth, also inside lists", () => {
        assert.deepEqual(refused({ securityContext: {}, controller: { pod: { securityContext: { privileged: true } } }, initContainers: [{ name: "x", securityContext: {} }] }), [
            "securityContext (**.securityContext)",
            "controller.pod.securityContext (**.securityContext)",
            "initContainers.0.securityContext (**.securityContext)",
        ]);
    });

    it("refuses a list, null or scalar that would replace a guarded key from above", () => {
        assert.deepEqual(refused({ serviceAccount: null }), ["serviceAccount (serviceAccount.server)"]);
        assert.deepEqual(refused({ serviceAccount: ["x"] }), ["serviceAccount (serviceAccount.server)"]);
        assert.deepEqual(refused({ config: { webhooks: "off" } }), ["config.webhooks (config.*.namespaceSelector)"]);
    });

    it("accepts what only sits next to a guarded key", () => {
        assert.deepEqual(refused({ serviceAccount: { create: true, client: { name: "x" } }, config: { webhooks: { timeoutSeconds: 10 } }, controller: { replicas: 2, securityContexts: "a different key" } }), []);
    });
});
