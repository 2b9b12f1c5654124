/**
 * A tenant reads only its own secrets: its namespaced SecretStore authenticates as the
 * tenant's own ServiceAccount, whose cloud identity reaches `tenants/<name>/` and nothing
 * else, on every cloud. Checked on the cloud resources themselves, in every stack.
 */
import { strict as assert } from "assert";
import { RenderDocument, RenderedResource } from "../scripts/render-program";
import { input, loadStackSettings, renderStack } from "./mocks";
import { onCluster, Raw, releaseOn, ROLE_BINDING, STACKS, subtree, targetsOf, tenantOn } from "./tenancy-helpers";

const STORE = "kubernetes:external-secrets.io/v1:SecretStore";
const KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6";
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

interface Scope {
    doc: RenderDocument;
    tenant: string;
    /** The ServiceAccount the store authenticates as, in the tenant namespace. */
    account: string;
    store: RenderedResource;
    /** The resources outside the Tenant that the store waits for: its identity. */
    identity: RenderedResource[];
    onThisCluster: (r: RenderedResource) => boolean;
}

/** Whether a Kubernetes label selector selects an object with `labels`. */
function selects(selector: Raw, labels: Record<string, string>): boolean {
    const exprs: Raw[] = selector.matchExpressions ?? [];
    return (
        Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
        exprs.every((e) =>
            e.operator === "In" ? e.values.includes(labels[e.key]) : e.operator === "NotIn" ? !e.values.includes(labels[e.key]) : e.operator === "Exists" ? e.key in labels : !(e.key in labels),
        )
    );
}

const ofType = (identity: RenderedResource[], type: string) => identity.filter((r) => r.type === type);
/**
 * What a tenant's store waits for outside the Tenant, by cloud: the secrets namespace, Role and
 * RoleBinding; the IAM role and its policy; the vault, its role assignment, the identity and its
 * federation; the service account, its workload-identity binding and the project grant.
 */
const IDENTITY_RESOURCES: Record<string, number> = { existing: 3, aws: 2, azure: 4, gcp: 3 };

/** Per cloud: the identity reaches only secrets under the tenant's prefix, and only this account may assume it. */
const cloudScope: Record<string, (s: Scope) => void> = {
    existing({ doc, tenant, account, store, onThisCluster }) {
        const remote = `secrets-tenants-${tenant}`;
        assert.equal(input(store, "spec.provider.kubernetes.remoteNamespace"), remote);
        const readers = doc.resources.filter((r) => onThisCluster(r) && r.type === ROLE_BINDING && input(r, "metadata.namespace") === remote);
        assert.equal(readers.length, 1, `one binding grants reads in ${remote}`);
        for (const r of readers) assert.deepEqual(r.inputs.subjects, [{ kind: "ServiceAccount", name: account, namespace: tenant }]);
        const elsewhere = doc.resources.filter(
            (r) => onThisCluster(r) && r.type.endsWith("Binding") && input(r, "metadata.namespace") !== remote && (r.inputs.subjects as Raw[]).some((s) => s.name === account && s.namespace === tenant),
        );
        assert.deepEqual(elsewhere.map((r) => r.name), [], "the secrets account holds nothing outside its secrets namespace");
    },
    aws({ tenant, account, identity }) {
        const policies = ofType(identity, "aws:iam/rolePolicy:RolePolicy").map((r) => JSON.parse(r.inputs.policy as string));
        assert.equal(policies.length, 1, "one IAM policy behind the store");
        for (const statement of policies.flatMap((p) => p.Statement)) {
            assert.equal(statement.Effect, "Allow");
            for (const action of [statement.Action].flat()) assert.match(action, /^secretsmanager:(GetSecretValue|DescribeSecret|ListSecretVersionIds|GetResourcePolicy)$/);
            for (const resource of [statement.Resource].flat()) assert.match(resource, new RegExp(`^arn:aws:secretsmanager:[a-z0-9-]+:\\d{12}:secret:tenants/${escape(tenant)}/\\*$`));
        }
        const trust = ofType(identity, "aws:iam/role:Role").map((r) => r.inputs.assumeRolePolicy as string);
        assert.equal(trust.length, 1);
        assert.match(trust[0], new RegExp(`"system:serviceaccount:${escape(tenant)}:${escape(account)}"`));
    },
    azure({ tenant, account, store, identity }) {
        const vaults = ofType(identity, "azure-native:keyvault:Vault");
        assert.equal(vaults.length, 1, "one Key Vault behind the store");
        const vaultName = vaults[0].inputs.vaultName as string;
        assert.equal(input(vaults[0], "properties.enableRbacAuthorization"), true, "access by role assignment, not vault access policies");
        assert.match(input(store, "spec.provider.azurekv.vaultUrl") as string, new RegExp(`^https://${escape(vaultName)}\\.vault\\.azure\\.net/?$`));
        const assignments = ofType(identity, "azure-native:authorization:RoleAssignment");
        assert.equal(assignments.length, 1, "one role assignment, on the vault");
        for (const a of assignments) {
            assert.match(a.inputs.scope as string, new RegExp(`/providers/Microsoft\\.KeyVault/vaults/${escape(vaultName)}$`));
            assert.match(a.inputs.roleDefinitionId as string, new RegExp(`/roleDefinitions/${KEY_VAULT_SECRETS_USER}$`));
        }
        const federation = ofType(identity, "azure-native:managedidentity:FederatedIdentityCredential");
        assert.deepEqual(federation.map((f) => f.inputs.subject), [`system:serviceaccount:${tenant}:${account}`]);
    },
    gcp({ tenant, account, identity }) {
        const grants = ofType(identity, "gcp:projects/iAMMember:IAMMember");
        assert.equal(grants.length, 1, "one conditional project grant");
        for (const g of grants) {
            assert.equal(g.inputs.role, "roles/secretmanager.secretAccessor");
            // Secret Manager ids cannot hold '/', so the prefix is spelled tenants_<name>_ there.
            assert.match(input(g, "condition.expression") as string, new RegExp(`^resource\\.name\\.startsWith\\("projects/[^/"]+/secrets/tenants_${escape(tenant)}_"\\)$`));
        }
        const users = ofType(identity, "gcp:serviceaccount/iAMMember:IAMMember");
        assert.deepEqual(users.map((u) => [u.inputs.role, (u.inputs.member as string).replace(/^serviceAccount:[^[]+/, "")]), [["roles/iam.workloadIdentityUser", `[${tenant}/${account}]`]]);
    },
};

for (const stack of STACKS) {
    describe(`tenancy: secrets of every tenant of ${stack}`, () => {
        const raw = loadStackSettings(stack) as Raw;
        let doc: RenderDocument;
        before(async () => (doc = await renderStack(stack)));

        for (const t of raw.tenants as Raw[]) {
            for (const c of targetsOf(raw, t)) {
                it(`${t.name} on ${c.name} (${c.cloud}): its own store, identity scoped to tenants/${t.name}/ only, no platform store`, () => {
                    const tenant = tenantOn(doc, c.name, t.name);
                    assert.ok(tenant, "the Tenant is missing");
                    const own = subtree(doc, tenant);
                    const stores = own.filter((r) => r.type === STORE);
                    assert.equal(stores.length, 1, "one namespaced SecretStore");
                    const store = stores[0];
                    assert.equal(input(store, "metadata.namespace"), t.name);
                    assert.ok(!own.some((r) => r.type.endsWith(":ClusterSecretStore")), "a tenant gets no ClusterSecretStore");
                    const text = JSON.stringify(input(store, "spec.provider"));
                    assert.doesNotMatch(text, /"namespace":/, "External Secrets rejects a namespaced store whose selectors name a namespace");
                    const account = [...text.matchAll(/"(?:serviceAccount|serviceAccountRef)":\{"name":"([^"]+)"/g)].map((m) => m[1]);
                    assert.equal(account.length, 1, `the store names one ServiceAccount: ${text}`);
                    assert.ok(own.some((r) => r.type === "kubernetes:core/v1:ServiceAccount" && input(r, "metadata.name") === account[0]), `${account[0]} is not the tenant's`);
                    const identity = doc.resources.filter((r) => !own.includes(r) && store.dependencies.includes(r.urn) && r.type !== "kubernetes:helm.sh/v3:Release");
                    // On a private AKS cluster it also waits for its vault's private DNS record (reachable from the cluster).
                    const privateVault = c.cloud === "azure" && c.privateEndpoint === true;
                    assert.equal(identity.length, IDENTITY_RESOURCES[c.cloud] + (privateVault ? 1 : 0), `the store waits for its identity: ${identity.map((r) => r.type).join(", ")}`);
                    assert.equal(identity.filter((r) => r.type === "azure-native:network:PrivateDnsZoneGroup").length, privateVault ? 1 : 0);
                    const eso = releaseOn(doc, c.name, "external-secrets");
                    assert.equal(!!eso, raw.addons?.externalSecrets?.enabled !== false, "the platform installs External Secrets unless disabled");
                    if (eso) assert.ok(store.dependencies.includes(eso.urn), "the store must wait for External Secrets' CRDs");

                    const labels = input(own.find((r) => r.type === "kubernetes:core/v1:Namespace")!, "metadata.labels") as Record<string, string>;
                    const onThisCluster = onCluster(doc, c.name);
                    const platformStores = doc.resources.filter((r) => onThisCluster(r) && r.type.endsWith(":ClusterSecretStore"));
                    assert.equal(platformStores.length, eso ? 1 : 0, "the platform's one ClusterSecretStore");
                    for (const shared of platformStores) {
                        const conditions: Raw[] = input(shared, "spec.conditions") as Raw[] ?? [];
                        assert.equal(conditions.length, 1, `${shared.name}: one condition, else it is open to every namespace`);
                        const opens = conditions.some((k) => (k.namespaces ?? []).includes(t.name) || (k.namespaceSelector && selects(k.namespaceSelector, labels)) || (k.namespaceRegexes ?? []).some((re: string) => new RegExp(re).test(t.name)));
                        assert.ok(!opens, `${shared.name} is usable from ${t.name}`);
                    }

                    const scope = cloudScope[c.cloud];
                    assert.ok(scope, `no scope check for cloud ${c.cloud}`);
                    scope({ doc, tenant: t.name, account: account[0], store, identity, onThisCluster });
                    // Whatever the cloud: nothing behind the store names another tenant's prefix or the platform's.
                    const behind = JSON.stringify([input(store, "spec.provider"), identity.map((r) => r.inputs)]);
                    for (const other of (raw.tenants as Raw[]).filter((o) => o.name !== t.name)) assert.doesNotMatch(behind, new RegExp(`tenants[/_-]${escape(other.name)}(?![a-z0-9-])`));
                    assert.doesNotMatch(behind, /platform[/_]/);
                });
            }
        }
    });
}
