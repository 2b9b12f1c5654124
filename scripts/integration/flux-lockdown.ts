/**
 * Flux's multi-tenancy lockdown, proven on the real source-controller and kustomize-controller
 * (host processes, .tools/bin) against the integration API server.
 *
 * The flux2 chart is refused by the module proxy (docs/integration.md), so `pulumi up` cannot
 * install Flux here. What the program asks of the chart is read from the offline render of
 * Pulumi.local.yaml (the flux2 Release's values), and turned into what the chart deploys
 * from those values (charts/flux2: `multitenancy.enabled` adds `--no-cross-namespace-refs=true`
 * and `--default-service-account=<defaultServiceAccount>` to kustomize-controller;
 * `kustomizeController.container.additionalArgs` are appended; `multitenancy.privileged: false`
 * binds the controller a role that may only impersonate service accounts instead of
 * cluster-admin). The controllers then reconcile Kustomizations from a local Git server, and
 * the checks read what they did.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ControlPlane } from "./control-plane";
import { ROOT } from "./engine";
import { createRepository, startGitServer } from "./git-server";
import { HostProcesses, waitFor } from "./host-processes";
import { GITOPS_SERVICE_ACCOUNT } from "../../components/tenancy/gitops";
import { getJson } from "./checks";

const FLUX = "flux-system";
const TENANT = "team-alpha";
/** The fixture's platform account (cluster-admin), as the platform's own Kustomizations use one. */
const PLATFORM_ACCOUNT = "platform-reconciler";

interface FluxValues {
    multitenancy?: { enabled?: boolean; defaultServiceAccount?: string; privileged?: boolean };
    kustomizeController?: { container?: { additionalArgs?: string[] } };
}

/** The flux2 Release's values in the offline render of Pulumi.local.yaml (Flux is on there). */
export function programFluxValues(): FluxValues {
    const render = JSON.parse(execFileSync("node", [path.join(ROOT, "dist", "scripts", "render.js"), "--stack", "local", "--format", "json"], { cwd: ROOT, encoding: "utf8", maxBuffer: 256 << 20 }));
    const releases = render.resources.filter((r: { type: string; inputs: { chart?: string } }) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart?.endsWith("flux2"));
    if (releases.length !== 1) throw new Error(`expected one flux2 Release in the local render, found ${releases.length}`);
    return releases[0].inputs.values as FluxValues;
}

/** kustomize-controller's lockdown flags and RBAC as the flux2 chart derives them from `values`. */
export function chartLockdown(values: FluxValues): { flags: string[]; impersonateOnly: boolean } {
    const mt = values.multitenancy ?? {};
    const flags = mt.enabled ? ["--no-cross-namespace-refs=true", `--default-service-account=${mt.defaultServiceAccount ?? "default"}`] : [];
    flags.push(...(values.kustomizeController?.container?.additionalArgs ?? []));
    return { flags, impersonateOnly: mt.enabled === true && mt.privileged === false };
}

const yamlDocs = (...docs: object[]) => docs.map((d) => JSON.stringify(d)).join("\n---\n");

/** The chart's controller RBAC (crd-controller; cluster-admin or only impersonation) and the fixture's accounts. */
function rbac(impersonateOnly: boolean) {
    const bind = (name: string, role: string, subjects: object[]) => ({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
        subjects,
    });
    const sa = (name: string, namespace = FLUX) => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } });
    const controllers = ["source-controller", "kustomize-controller"].map((name) => ({ kind: "ServiceAccount", name, namespace: FLUX }));
    const all = (verbs: string[], apiGroups: string[], resources: string[]) => ({ apiGroups, resources, verbs });
    return yamlDocs(
        { apiVersion: "v1", kind: "Namespace", metadata: { name: FLUX } },
        { apiVersion: "v1", kind: "Namespace", metadata: { name: TENANT } },
        sa("source-controller"),
        sa("kustomize-controller"),
        sa(PLATFORM_ACCOUNT),
        sa(GITOPS_SERVICE_ACCOUNT, TENANT),
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRole",
            metadata: { name: "crd-controller" },
            rules: [
                all(["*"], ["source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io"], ["*"]),
                all(["get", "list", "watch"], [""], ["namespaces", "secrets", "serviceaccounts"]),
                all(["create", "patch"], ["", "events.k8s.io"], ["events"]),
                all(["get", "list", "watch", "create", "update", "patch", "delete"], [""], ["configmaps"]),
                all(["get", "list", "watch", "create", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
            ],
        },
        bind("crd-controller", "crd-controller", controllers),
        impersonateOnly
            ? {
                  apiVersion: "rbac.authorization.k8s.io/v1",
                  kind: "ClusterRole",
                  metadata: { name: "cluster-reconciler-impersonator" },
                  rules: [all(["impersonate"], [""], ["serviceaccounts"])],
              }
            : { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "no-impersonator", namespace: FLUX } },
        bind("cluster-reconciler", impersonateOnly ? "cluster-reconciler-impersonator" : "cluster-admin", [controllers[1]]),
        bind(`flux-${PLATFORM_ACCOUNT}`, "cluster-admin", [{ kind: "ServiceAccount", name: PLATFORM_ACCOUNT, namespace: FLUX }]),
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name: `${GITOPS_SERVICE_ACCOUNT}-edit`, namespace: TENANT },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
            subjects: [{ kind: "ServiceAccount", name: GITOPS_SERVICE_ACCOUNT, namespace: TENANT }],
        },
    );
}

const clusterRole = (name: string) => yamlDocs({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name }, rules: [] });

/**
 * The repository both the platform and the tenant sync from: one directory per case. The
 * remote base is this same repository on 127.0.0.1, so that without the lockdown it would
 * load (and the check fail) without reaching the network.
 */
const fixture = (remoteBase: string) => ({
    "platform/cluster-role.yaml": clusterRole("integration-platform-owned"),
    "tenant/configmap.yaml": yamlDocs({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "tenant-settings" }, data: { synced: "yes" } }),
    "tenant/kustomization.yaml": yamlDocs({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: ["configmap.yaml"] }),
    "tenant-cluster-scoped/cluster-role.yaml": clusterRole("integration-tenant-escalation"),
    "tenant-remote-base/kustomization.yaml": yamlDocs({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", nameSuffix: "-from-remote", resources: [`${remoteBase}//tenant?ref=main`] }),
});

interface Case {
    namespace: string;
    name: string;
    path: string;
    serviceAccountName?: string;
    sourceNamespace?: string;
}

const kustomization = (c: Case) => ({
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name: c.name, namespace: c.namespace },
    spec: {
        interval: "1m",
        retryInterval: "5s",
        path: c.path,
        prune: false,
        sourceRef: { kind: "GitRepository", name: "fixture", ...(c.sourceNamespace ? { namespace: c.sourceNamespace } : {}) },
        ...(c.serviceAccountName ? { serviceAccountName: c.serviceAccountName } : {}),
        ...(c.namespace === TENANT ? { targetNamespace: TENANT } : {}),
    },
});

interface Ready {
    status: string;
    reason: string;
    message: string;
}

function readyOf(cp: ControlPlane, kind: string, namespace: string, name: string): Ready | undefined {
    const obj = getJson(cp, kind, "-n", namespace, name);
    return (obj.status?.conditions ?? []).find((c: { type: string }) => c.type === "Ready");
}

const exists = (cp: ControlPlane, ...args: string[]) => cp.kubectl("get", ...args, "--ignore-not-found", "-o", "name").trim() !== "";

/**
 * Runs the Flux controllers with the program's lockdown and checks five Kustomizations:
 * the platform's (its cluster-admin account) applies a ClusterRole; the tenant's with its
 * `edit` account applies a ConfigMap in its namespace; a tenant Kustomization without an
 * account applies as the namespace's `default` and is forbidden a ClusterRole; one naming
 * flux-system's source is refused; one with a remote base is refused.
 */
export async function checkFluxLockdown(cp: ControlPlane, bin: string, work: string, say: (line: string) => void, freePort: () => Promise<number>) {
    const values = programFluxValues();
    const { flags, impersonateOnly } = chartLockdown(values);
    say(`the program's flux2 values: multitenancy ${JSON.stringify(values.multitenancy)}, kustomize-controller additionalArgs ${JSON.stringify(values.kustomizeController?.container?.additionalArgs ?? [])}`);
    say(`kustomize-controller flags from the chart: ${flags.join(" ")}; controller RBAC: ${impersonateOnly ? "impersonation only" : "cluster-admin"}`);

    const dir = path.join(work, "flux");
    fs.mkdirSync(dir, { recursive: true });
    for (const crds of ["flux-source-crds.yaml", "flux-kustomize-crds.yaml"]) cp.kubectl("apply", "--server-side", "-f", path.join(bin, crds));
    cp.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/gitrepositories.source.toolkit.fluxcd.io", "crd/kustomizations.kustomize.toolkit.fluxcd.io");
    fs.writeFileSync(path.join(dir, "rbac.yaml"), rbac(impersonateOnly));
    cp.kubectl("apply", "-f", path.join(dir, "rbac.yaml"));

    const git = await startGitServer(dir);
    createRepository(dir, "fixture", fixture(git.url("fixture")));
    const processes = new HostProcesses(dir, say);
    try {
        const kubeconfigOf = (account: string) => {
            const file = path.join(dir, `${account}.kubeconfig`);
            cp.writeKubeconfig(file, cp.kubectl("create", "token", account, "-n", FLUX, "--duration=2h").trim());
            return file;
        };
        const storagePort = await freePort();
        fs.mkdirSync(path.join(dir, "artifacts"));
        const common = async (account: string) => ({
            env: { ...process.env, KUBECONFIG: kubeconfigOf(account), RUNTIME_NAMESPACE: FLUX },
            args: ["--metrics-addr=0", `--health-addr=127.0.0.1:${await freePort()}`, "--enable-leader-election=false", "--log-encoding=console"],
        });
        const source = await common("source-controller");
        processes.start("source-controller", path.join(bin, "source-controller"), [
            ...source.args,
            `--storage-path=${path.join(dir, "artifacts")}`,
            `--storage-addr=127.0.0.1:${storagePort}`,
            `--storage-adv-addr=127.0.0.1:${storagePort}`,
        ], source.env);
        const kustomize = await common("kustomize-controller");
        processes.start("kustomize-controller", path.join(bin, "kustomize-controller"), [...kustomize.args, ...flags], kustomize.env);

        const gitRepository = (namespace: string) => ({
            apiVersion: "source.toolkit.fluxcd.io/v1",
            kind: "GitRepository",
            metadata: { name: "fixture", namespace },
            spec: { interval: "1m", url: git.url("fixture"), ref: { branch: "main" } },
        });
        const cases: Record<string, Case> = {
            platform: { namespace: FLUX, name: "platform-owned", path: "./platform", serviceAccountName: PLATFORM_ACCOUNT },
            tenant: { namespace: TENANT, name: "tenant-settings", path: "./tenant", serviceAccountName: GITOPS_SERVICE_ACCOUNT },
            noAccount: { namespace: TENANT, name: "no-account", path: "./tenant-cluster-scoped" },
            crossNamespace: { namespace: TENANT, name: "cross-namespace", path: "./tenant", serviceAccountName: GITOPS_SERVICE_ACCOUNT, sourceNamespace: FLUX },
            remoteBase: { namespace: TENANT, name: "remote-base", path: "./tenant-remote-base", serviceAccountName: GITOPS_SERVICE_ACCOUNT },
        };
        fs.writeFileSync(path.join(dir, "sources.yaml"), yamlDocs(gitRepository(FLUX), gitRepository(TENANT)));
        cp.kubectl("apply", "-f", path.join(dir, "sources.yaml"));

        for (const namespace of [FLUX, TENANT]) {
            await waitFor(`GitRepository ${namespace}/fixture Ready`, 180_000, () => {
                processes.checkRunning();
                return readyOf(cp, "gitrepository", namespace, "fixture")?.status === "True";
            });
        }
        say(`GitRepository fixture: Ready in ${FLUX} and ${TENANT} (cloned from ${git.url("fixture")})`);
        // After the sources: a Kustomization that finds no artifact retries only after 30 s.
        fs.writeFileSync(path.join(dir, "kustomizations.yaml"), yamlDocs(...Object.values(cases).map(kustomization)));
        cp.kubectl("apply", "-f", path.join(dir, "kustomizations.yaml"));

        const outcome: Record<string, Ready> = {};
        await waitFor("every Kustomization to report Ready True or False", 300_000, () => {
            processes.checkRunning();
            for (const [key, c] of Object.entries(cases)) {
                const ready = readyOf(cp, "kustomization", c.namespace, c.name);
                if (ready && ready.status !== "Unknown") outcome[key] = ready;
            }
            return Object.keys(outcome).length === Object.keys(cases).length;
        });
        for (const [key, r] of Object.entries(outcome)) say(`${cases[key].namespace}/${cases[key].name}: Ready=${r.status} ${r.reason}: ${r.message.split("\n")[0].slice(0, 300)}`);

        const problems: string[] = [];
        const expect = (ok: boolean, what: string) => ok || problems.push(what);
        expect(outcome.platform.status === "True", "the platform's Kustomization (cluster-admin account) did not apply");
        expect(exists(cp, "clusterrole", "integration-platform-owned"), "the platform's ClusterRole was not created");
        expect(outcome.tenant.status === "True", "the tenant's Kustomization with its own account did not apply");
        expect(exists(cp, "configmap", "-n", TENANT, "tenant-settings"), "the tenant's ConfigMap was not created in its namespace");
        const defaultAccount = `system:serviceaccount:${TENANT}:${values.multitenancy?.defaultServiceAccount ?? "default"}`;
        expect(
            outcome.noAccount.status === "False" && outcome.noAccount.message.includes(defaultAccount) && /forbidden/i.test(outcome.noAccount.message),
            `a tenant Kustomization without serviceAccountName was not forbidden as ${defaultAccount}`,
        );
        expect(!exists(cp, "clusterrole", "integration-tenant-escalation"), "a tenant Kustomization created a ClusterRole");
        expect(
            outcome.crossNamespace.status === "False" && outcome.crossNamespace.message.includes("cross-namespace references have been blocked"),
            "a tenant Kustomization read flux-system's source",
        );
        // kustomize's secure file system refuses the fetched base: it lies outside the artifact.
        expect(outcome.remoteBase.status === "False" && outcome.remoteBase.message.includes("fs-security-constraint"), "a remote base was not refused");
        expect(!exists(cp, "configmap", "-n", TENANT, "tenant-settings-from-remote"), "the remote base was applied");
        if (problems.length) throw new Error(`Flux lockdown:\n  ${problems.join("\n  ")}\nkustomize-controller log:\n${processes.logOf("kustomize-controller", 15)}`);
    } finally {
        // While the controllers run: they remove their finalizers, so the tenant namespace can be deleted by destroy.
        const kinds = "kustomizations.kustomize.toolkit.fluxcd.io,gitrepositories.source.toolkit.fluxcd.io";
        try {
            cp.kubectl("delete", kinds, "--all", "--all-namespaces", "--timeout=60s");
        } catch (e) {
            // A Kustomization whose build fails may keep its finalizer: the fixture's own objects, released by hand.
            say(`Flux objects not deleted in 60 s, finalizers removed: ${String((e as { stderr?: string }).stderr ?? e).trim()}`);
            const left = cp.kubectl("get", kinds, "-A", "-o", 'jsonpath={range .items[*]}{.kind} {.metadata.name} {.metadata.namespace}{"\\n"}{end}');
            for (const [kind, name, namespace] of left.trim().split("\n").filter(Boolean).map((l) => l.split(" "))) {
                cp.kubectl("patch", `${kind.toLowerCase()}/${name}`, "-n", namespace, "--type=merge", "-p", '{"metadata":{"finalizers":null}}');
            }
        }
        await processes.stopAll();
        await git.close();
    }
}
