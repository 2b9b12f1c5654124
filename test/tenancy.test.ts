/**
 * Every tenant of every stack, on every cluster it targets, as the offline render shows it.
 * Expected values come from the raw stack files and the literal defaults, never from
 * the tenancy code, so a wrong default or a missing rule fails here.
 */
import { strict as assert } from "assert";
import { readStackConfig, RenderDocument, RenderedResource, renderProgram, stackFilePath } from "../scripts/render-program";
import { editedStackFile, input, settingsOf } from "./mocks";
import { cidrContains, onCluster, Raw, releaseOn, ROLE_BINDING, sortBy, STACKS, subtree, targetsOf, tenantOn } from "./tenancy-helpers";
/** What the real stack files leave out, on a copy of local: GitOps, labels, private egress, a restore. */
const variant = (settings: Raw) => {
    settings.clusters[0].restore = { schedule: "tenants-daily" };
    settings.tenants.push({ name: "team-gamma", labels: { "cost-center": "cc-42" }, allowPrivateEgress: true, gitops: { url: "https://github.com/example/gamma" } });
    settings.tenants[0].gitops = { url: "ssh://git@github.com/example/alpha", branch: "release", path: "./deploy/local" };
    settings.tenants[1].limits = { default: { memory: "1Gi" } };
};
const CASES = [
    ...STACKS.map((stack) => ({ title: stack, stack, file: stackFilePath(stack) })),
    { title: "local with GitOps, labels, private egress and a restore", stack: "local", file: editedStackFile("local", variant) },
];
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
/** Tenant placements per case: local's two tenants on its one cluster, team-alpha on three clusters and team-beta on two, the variant's three tenants. */
const TENANTS_ON_CLUSTERS: Record<string, number> = { local: 2, staging: 5, production: 5, [CASES[3].title]: 3 };
const DEFAULT_QUOTA = { "requests.cpu": "4", "requests.memory": "8Gi", "limits.cpu": "8", "limits.memory": "16Gi" };
const ns = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
/** Each allow rule the issue names, by direction. */
const EXPECTED_INGRESS = [{ from: [ns("monitoring")] }, { from: [ns("gateway-system")] }, { from: [{ podSelector: {} }] }];
const dnsEgress = {
    to: [{ ...ns("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
    ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }],
};
const httpsEgress = (except: string[]) => ({ to: [{ ipBlock: { cidr: "0.0.0.0/0", except } }], ports: [{ port: 443, protocol: "TCP" }] });

/** The network CIDRs each cloud's config names (with the schema's documented defaults). */
function clusterNetworks(cluster: Raw): string[] {
    switch (cluster.cloud) {
        case "aws": return [cluster.vpcCidr ?? "10.0.0.0/16"];
        case "azure": return [cluster.vnetCidr ?? "10.1.0.0/16"];
        case "gcp": return [cluster.subnetCidr ?? "10.2.0.0/20", cluster.podsCidr ?? "10.20.0.0/14", cluster.servicesCidr ?? "10.24.0.0/20", cluster.masterCidr ?? "172.16.0.0/28"];
        default: return cluster.privateRanges ?? ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
    }
}

/** Rules of every policy as `[direction, podSelector, rule]`, so extra or missing ones show. */
function rulesOf(policies: RenderedResource[], key: "ingress" | "egress") {
    return policies.flatMap((p) => ((input(p, `spec.${key}`) as unknown[]) ?? []).map((rule) => ({ podSelector: input(p, "spec.podSelector"), rule })));
}

for (const { title, stack, file } of CASES) {
    describe(`tenancy: every tenant of ${title} on every target cluster`, () => {
        const raw = settingsOf(readStackConfig(file)) as Raw;
        const tenants: Raw[] = raw.tenants ?? [];
        const targets = (t: Raw) => targetsOf(raw, t);
        let doc: RenderDocument;
        before(async () => (doc = await renderProgram(stack, readStackConfig(file))));

        it("has exactly one Tenant per tenant per target cluster", () => {
            const expected = tenants.flatMap((t) => targets(t).map((c) => `${c.name}-${t.name}`)).sort();
            const rendered = doc.resources.filter((r) => r.type === "platform:tenancy:Tenant").map((r) => r.name).sort();
            assert.equal(expected.length, TENANTS_ON_CLUSTERS[title], `${title}: tenants times the clusters each is on`);
            assert.deepEqual(rendered, expected);
        });

        for (const t of tenants) {
            for (const c of targets(t)) {
                describe(`${t.name} on ${c.name}`, () => {
                    let own: RenderedResource[];
                    let cluster: (r: RenderedResource) => boolean;
                    const one = (type: string) => {
                        const found = own.filter((r) => r.type === type);
                        assert.equal(found.length, 1, `expected one ${type} in ${t.name} on ${c.name}, got ${found.length}`);
                        return found[0];
                    };
                    before(() => {
                        const tenant = tenantOn(doc, c.name, t.name);
                        assert.ok(tenant, "the Tenant is missing");
                        own = subtree(doc, tenant);
                        cluster = onCluster(doc, c.name);
                    });

                    it("lives in its own namespace on this cluster's provider, with team, Flux and restricted Pod Security labels", () => {
                        const namespace = one("kubernetes:core/v1:Namespace");
                        assert.equal(input(namespace, "metadata.name"), t.name);
                        assert.deepEqual(input(namespace, "metadata.labels"), {
                            ...(t.labels ?? {}),
                            "platform.example.io/tenant": t.name,
                            "pod-security.kubernetes.io/enforce": "restricted",
                            "pod-security.kubernetes.io/audit": "restricted",
                            "pod-security.kubernetes.io/warn": "restricted",
                            "toolkit.fluxcd.io/tenant": t.name,
                        });
                        for (const r of own.filter((x) => x.custom)) {
                            assert.ok(cluster(r), `${r.name} must use ${c.name}'s provider, uses ${r.provider}`);
                            if (r.type !== "kubernetes:core/v1:Namespace") assert.equal(input(r, "metadata.namespace"), t.name, `${r.name} must stay in ${t.name}`);
                        }
                    });

                    it("has its quota and default limits", () => {
                        const quota = Object.fromEntries(Object.entries(t.quota ?? {}).map(([k, v]) => [k, String(v)]));
                        assert.deepEqual(input(one("kubernetes:core/v1:ResourceQuota"), "spec.hard"), { ...DEFAULT_QUOTA, ...quota });
                        assert.deepEqual(input(one("kubernetes:core/v1:LimitRange"), "spec.limits"), [
                            {
                                type: "Container",
                                defaultRequest: { cpu: t.limits?.defaultRequest?.cpu ?? "100m", memory: t.limits?.defaultRequest?.memory ?? "128Mi" },
                                default: { cpu: t.limits?.default?.cpu ?? "500m", memory: t.limits?.default?.memory ?? "512Mi" },
                            },
                        ]);
                    });

                    it("denies all ingress and egress by default: empty pod selector, both policy types, no rules", () => {
                        const policies = own.filter((r) => r.type === NETPOL);
                        const denies = policies.filter((p) => !("ingress" in (p.inputs.spec as object)) && !("egress" in (p.inputs.spec as object)));
                        assert.equal(denies.length, 1, "exactly one policy without rules");
                        assert.deepEqual(input(denies[0], "spec.podSelector"), {});
                        assert.deepEqual([...(input(denies[0], "spec.policyTypes") as string[])].sort(), ["Egress", "Ingress"]);
                    });

                    it("allows exactly DNS, monitoring, the gateway, its own namespace and HTTPS out, for every pod", () => {
                        const policies = own.filter((r) => r.type === NETPOL);
                        const except = ["169.254.169.254/32", ...(c.cloud === "existing" && !t.allowPrivateEgress ? clusterNetworks(c) : [])];
                        const egress = rulesOf(policies, "egress");
                        const https = egress.map((e) => e.rule as Raw).find((rule) => rule.ports?.[0]?.port === 443);
                        assert.ok(https, "no HTTPS egress rule");
                        const actualExcept: string[] = https.to[0].ipBlock.except;
                        if (c.cloud === "existing") assert.deepEqual(actualExcept, except);
                        else {
                            assert.equal(actualExcept[0], "169.254.169.254/32");
                            // A cloud cluster's ranges are its own; what must hold is that they cover its networks.
                            for (const net of t.allowPrivateEgress ? [] : clusterNetworks(c)) {
                                assert.ok(actualExcept.some((x) => cidrContains(x, net)), `HTTPS egress reaches ${net} of ${c.name}`);
                            }
                        }
                        assert.deepEqual(sortBy(egress), sortBy([dnsEgress, { to: [{ podSelector: {} }] }, httpsEgress(actualExcept)].map((rule) => ({ podSelector: {}, rule }))));
                        assert.deepEqual(sortBy(rulesOf(policies, "ingress")), sortBy(EXPECTED_INGRESS.map((rule) => ({ podSelector: {}, rule }))));
                        for (const p of policies) {
                            const types = [...(input(p, "spec.policyTypes") as string[])].sort();
                            const directions = ["Egress", "Ingress"].filter((d) => d.toLowerCase() in (p.inputs.spec as object));
                            if (directions.length) assert.deepEqual(types, directions, `${p.name}: its rules take effect only for the types it lists`);
                        }
                    });

                    it("binds the configured groups to edit and view only", () => {
                        const groupBindings = own.filter((r) => r.type === ROLE_BINDING && (r.inputs.subjects as Raw[]).some((s) => s.kind === "Group"));
                        // The cluster's own cloud's list; an IAM role signs in to EKS as the group named after it.
                        const listed = (role: "edit" | "view"): string[] => t.groups?.[role]?.[c.cloud] ?? [];
                        const subject = (group: string) => (c.cloud === "aws" ? `iam-role:${group.split(":")[4]}:${group.split("/").pop()}` : group);
                        const expected = (["edit", "view"] as const).filter((role) => listed(role).length).map((role) => ({
                            role,
                            groups: listed(role).map((group) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: subject(group) })),
                        }));
                        const actual = groupBindings.map((b) => ({ role: input(b, "roleRef.name"), groups: b.inputs.subjects }));
                        assert.deepEqual(sortBy(actual), sortBy(expected));
                        for (const b of own.filter((r) => r.type.includes("rbac.authorization.k8s.io"))) {
                            assert.equal(b.type, ROLE_BINDING, `${b.name}: a tenant holds no cluster-wide RBAC`);
                            assert.deepEqual(b.inputs.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: input(b, "roleRef.name") });
                            assert.ok(["edit", "view"].includes(input(b, "roleRef.name") as string), `${b.name} binds ${input(b, "roleRef.name")}`);
                        }
                    });

                    it(t.gitops ? "syncs its repository as a ServiceAccount that can only edit its namespace" : "has no GitOps sync", () => {
                        const syncs = own.filter((r) => r.type.includes("toolkit.fluxcd.io"));
                        if (!t.gitops) return assert.deepEqual(syncs, []);
                        const source = one("kubernetes:source.toolkit.fluxcd.io/v1:GitRepository");
                        const sync = one("kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization");
                        assert.equal(input(source, "spec.url"), t.gitops.url);
                        assert.deepEqual(input(source, "spec.ref"), { branch: t.gitops.branch ?? "main" });
                        assert.equal(input(sync, "spec.path"), t.gitops.path ?? "./");
                        assert.equal(input(sync, "spec.targetNamespace"), t.name);
                        assert.deepEqual(input(sync, "spec.sourceRef"), { kind: "GitRepository", name: input(source, "metadata.name") });
                        assert.equal(input(sync, "spec.suspend"), c.restore !== undefined);
                        // Flux's lockdown (platform/flux.ts) applies a Kustomization as this account; without one, as `default`, bound to nothing.
                        const account = input(sync, "spec.serviceAccountName");
                        assert.equal(account, "gitops-reconciler");
                        assert.equal(input(sync, "metadata.namespace"), t.name);
                        assert.ok(own.some((r) => r.type === "kubernetes:core/v1:ServiceAccount" && input(r, "metadata.name") === account && input(r, "metadata.namespace") === t.name), `no ServiceAccount ${account} in ${t.name}`);
                        const defaults = doc.resources.filter((r) => cluster(r) && r.type.endsWith("RoleBinding") && (r.inputs.subjects as Raw[]).some((s) => s.kind === "ServiceAccount" && s.name === "default" && s.namespace === t.name));
                        assert.deepEqual(defaults, [], "the namespace's default account must stay unbound");
                        const grants = doc.resources.filter((r) => cluster(r) && r.type.endsWith("RoleBinding") && (r.inputs.subjects as Raw[]).some((s) => s.kind === "ServiceAccount" && s.name === account && s.namespace === t.name));
                        assert.deepEqual(grants.map((g) => [g.type, input(g, "metadata.namespace"), input(g, "roleRef.name")]), [[ROLE_BINDING, t.name, "edit"]]);
                        const flux = releaseOn(doc, c.name, "flux2");
                        assert.equal(!!flux, raw.addons?.flux?.enabled !== false, "the platform installs Flux unless disabled");
                        if (flux) for (const r of [source, sync]) assert.ok(r.dependencies.includes(flux.urn), `${r.name} must wait for Flux's CRDs`);
                    });
                });
            }
        }
    });
}
