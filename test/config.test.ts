import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, knownKeys, loadConfig, PlatformConfig, validateSettings } from "../components/config";
import { editedStackFile, loadStackSettings, record, stackConfig, valueOf } from "./mocks";

type Settings = Record<string, any>;
const stacks = ["local", "staging", "production"];

/** The problems a stack reports after `edit` changes a deep copy of its settings. */
function problemsAfter(stack: string, edit: (s: Settings) => void): string[] {
    const settings = structuredClone(loadStackSettings(stack)) as Settings;
    edit(settings);
    return validateSettings(settings).problems;
}

function assertProblem(problems: string[], pathPrefix: string, fragment?: RegExp) {
    const match = problems.find((p) => p.startsWith(`${pathPrefix}: `) && (!fragment || fragment.test(p)));
    assert.ok(match, `expected a problem at ${pathPrefix}${fragment ? ` matching ${fragment}` : ""}, got:\n${problems.join("\n")}`);
}

describe("config: the stack files", () => {
    for (const stack of stacks) {
        it(`Pulumi.${stack}.yaml is valid`, () => {
            assert.deepEqual(validateSettings(loadStackSettings(stack)).problems, []);
        });
    }

    it("fills defaults per environment", () => {
        const prod = validateSettings(loadStackSettings("production")).settings!;
        const staging = validateSettings(loadStackSettings("staging")).settings!;
        assert.equal(prod.addons.kyverno.validationFailureAction, "Enforce");
        assert.equal(staging.addons.kyverno.validationFailureAction, "Audit");
        assert.equal(prod.addons.monitoring.retention, "30d");
        assert.equal(prod.addons.monitoring.storageSize, "50Gi");
        assert.equal(prod.addons.certManager.issuer, "letsencrypt-prod");
        assert.equal(staging.addons.certManager.issuer, "letsencrypt-staging");
        const tenant = staging.tenants.find((t) => t.name === "team-alpha")!;
        assert.deepEqual(tenant.quota, { "requests.cpu": "4", "requests.memory": "8Gi", "limits.cpu": "8", "limits.memory": "16Gi" });
        assert.deepEqual(tenant.limits, { defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" } });
    });

    it("keeps quota defaults for keys a tenant does not set", () => {
        const settings = validateSettings({ ...loadStackSettings("local"), tenants: [{ name: "t1", quota: { "requests.cpu": "1" } }] }).settings!;
        assert.equal(settings.tenants[0].quota["requests.cpu"], "1");
        assert.equal(settings.tenants[0].quota["limits.memory"], "16Gi");
    });
});

describe("config: each rule names its path", () => {
    const rules: [string, string, (s: Settings) => void, string, RegExp?][] = [
        ["unknown cloud", "staging", (s) => (s.clusters[0].cloud = "digitalocean"), "clusters[0].cloud", /one of aws, azure, gcp, existing/],
        ["AWS region naming", "staging", (s) => (s.clusters[0].region = "westeurope"), "clusters[0].region", /AWS region/],
        ["Azure region naming", "staging", (s) => (s.clusters[1].region = "West Europe"), "clusters[1].region", /Azure region/],
        ["GCP region naming", "staging", (s) => (s.clusters[2].region = "us-east-1"), "clusters[2].region", /GCP region/],
        ["cluster name is a DNS-1123 label", "staging", (s) => (s.clusters[0].name = "Prod_AWS"), "clusters[0].name", /DNS-1123/],
        ["cluster name at most 40 characters", "staging", (s) => (s.clusters[0].name = "a".repeat(41)), "clusters[0].name", /40/],
        ["cluster names unique", "staging", (s) => (s.clusters[1].name = s.clusters[0].name), "clusters[1].name", /already the name of clusters\[0\]/],
        ["tenant names unique", "staging", (s) => (s.tenants[1].name = s.tenants[0].name), "tenants[1].name", /already/],
        ["tenant name is a DNS-1123 label", "staging", (s) => (s.tenants[0].name = "Team Alpha"), "tenants[0].name", /DNS-1123/],
        ["tenant name is not a platform namespace", "staging", (s) => (s.tenants[0].name = "kube-system"), "tenants[0].name", /reserved/],
        ["kubernetesVersion is MAJOR.MINOR", "staging", (s) => (s.clusters[0].kubernetesVersion = "1.33.2"), "clusters[0].kubernetesVersion", /MAJOR.MINOR/],
        ["kubernetesVersion unquoted in YAML", "staging", (s) => (s.clusters[0].kubernetesVersion = 1.3), "clusters[0].kubernetesVersion", /quoted/],
        ["kubernetesVersion supported by the cloud", "staging", (s) => (s.clusters[2].kubernetesVersion = "1.25"), "clusters[2].kubernetesVersion", /one of/],
        ["a system pool is required", "staging", (s) => (s.clusters[0].nodePools = s.clusters[0].nodePools.filter((p: Settings) => p.role !== "system")), "clusters[0].nodePools", /system/],
        ["minSize <= maxSize", "staging", (s) => Object.assign(s.clusters[0].nodePools[1], { minSize: 6, maxSize: 3 }), "clusters[0].nodePools[1].minSize", /<= maxSize/],
        ["minSize >= 0", "staging", (s) => (s.clusters[0].nodePools[1].minSize = -1), "clusters[0].nodePools[1].minSize", />= 0/],
        ["system pools have minSize >= 1", "staging", (s) => (s.clusters[0].nodePools[0].minSize = 0), "clusters[0].nodePools[0].minSize", /system pool/],
        ["node pool names unique", "staging", (s) => (s.clusters[2].nodePools[1].name = "system"), "clusters[2].nodePools[1].name", /already/],
        ["AKS pool names", "staging", (s) => (s.clusters[1].nodePools[1].name = "general-purpose"), "clusters[1].nodePools[1].name", /AKS/],
        ["taint effects", "production", (s) => (s.clusters[0].nodePools[2].taints[0].effect = "NoScheduleOnTuesdays"), "clusters[0].nodePools[2].taints[0].effect", /NoSchedule, PreferNoSchedule or NoExecute/],
        ["tenant quotas are quantities", "staging", (s) => (s.tenants[0].quota = { "requests.cpu": "four" }), "tenants[0].quota.requests.cpu", /quantity/],
        ["tenant quota keys are resource names", "staging", (s) => (s.tenants[0].quota = { "request.cpu": "4" }), "tenants[0].quota.request.cpu", /ResourceQuota/],
        ["tenant clusters exist", "staging", (s) => (s.tenants[1].clusters = ["stg-aws-use1", "stg-aws-usw2"]), "tenants[1].clusters[1]", /names no cluster/],
        ["unknown key in a cluster", "staging", (s) => (s.clusters[0].nodepools = []), "clusters[0].nodepools", /unknown key/],
        ["unknown key in a node pool", "staging", (s) => (s.clusters[0].nodePools[0].maxsize = 3), "clusters[0].nodePools[0].maxsize", /unknown key/],
        ["unknown key in add-ons", "staging", (s) => (s.addons.kyvern = { enabled: true }), "addons.kyvern", /unknown key/],
        ["unknown key in a tenant", "staging", (s) => (s.tenants[0].quotas = {}), "tenants[0].quotas", /unknown key/],
        ["unknown platform: key", "staging", (s) => (s.tenant = []), "tenant", /unknown key platform:tenant/],
        ["environment", "staging", (s) => (s.environment = "prod"), "environment"],
        ["restore names one backup", "staging", (s) => (s.clusters[0].restore = { backupName: "b1", schedule: "tenants-daily" }), "clusters[0].restore", /exactly one/],
        ["authorized networks are CIDRs", "staging", (s) => (s.clusters[0].authorizedNetworks = ["203.0.113.0"]), "clusters[0].authorizedNetworks[0]", /CIDR/],
        ["acme e-mail with DNS", "staging", (s) => delete s.addons.certManager.acmeEmail, "addons.certManager.acmeEmail", /required/],
        ["restore needs Velero", "staging", (s) => Object.assign(s, { addons: { ...s.addons, velero: { enabled: false } } }, (s.clusters[0].restore = { schedule: "tenants-daily" })), "clusters[0].restore", /needs addons.velero.enabled/],
        ["existing cluster backup with Velero", "local", (s) => delete s.clusters[0].backup, "clusters[0].backup", /required while addons.velero/],
        ["existing cluster kubeconfig is explicit", "local", (s) => delete s.clusters[0].kubeconfig, "clusters[0].kubeconfig"],
        ["backup credentials for existing clusters", "local", (s) => delete s.backupCredentials, "backupCredentials", /pulumi config set --secret/],
        ["backup credentials name both keys", "local", (s) => delete s.backupCredentials.secretAccessKey, "backupCredentials.secretAccessKey"],
        ["unknown key in the backup credentials", "local", (s) => (s.backupCredentials.accessKey = "x"), "backupCredentials.accessKey", /unknown key/],
        ["alertmanager webhook is an https URL", "local", (s) => (s.alertmanagerWebhookUrl = "http://alerts.example.com/hook"), "alertmanagerWebhookUrl", /https:\/\//],
        ["alertmanager webhook is a string", "local", (s) => (s.alertmanagerWebhookUrl = 443), "alertmanagerWebhookUrl", /https:\/\//],
        ["grafana admin password is long enough", "local", (s) => (s.grafanaAdminPassword = "hunter2"), "grafanaAdminPassword", /at least 16 characters/],
        ["charts.wait is a boolean", "local", (s) => (s.charts = { wait: "no" }), "charts.wait"],
        ["unknown key in charts", "local", (s) => (s.charts = { dir: "/srv/charts" }), "charts.dir", /unknown key/],
        ["tenant groups are given per cloud", "staging", (s) => (s.tenants[0].groups.edit = ["team-alpha-developers"]), "tenants[0].groups.edit", /per cloud: \{ aws: \[IAM role ARNs\]/],
        ["tenant groups name only the four clouds", "staging", (s) => (s.tenants[0].groups.edit.digitalocean = ["team-alpha"]), "tenants[0].groups.edit.digitalocean", /unknown key/],
        ["EKS tenant groups are IAM role ARNs", "staging", (s) => (s.tenants[0].groups.edit.aws = ["arn:aws:iam::111111111111:user/alice"]), "tenants[0].groups.edit.aws[0]", /IAM role ARN/],
        ["AKS tenant groups are Entra object IDs", "staging", (s) => (s.tenants[0].groups.view.azure = ["team-alpha-viewers"]), "tenants[0].groups.view.azure[0]", /Entra ID group object ID \(a UUID/],
        ["GKE tenant groups are Google group e-mails", "staging", (s) => (s.tenants[0].groups.edit.gcp = ["team-alpha-developers"]), "tenants[0].groups.edit.gcp[0]", /Google group's e-mail/],
        ["GKE tenant groups need the cluster's security group", "staging", (s) => delete s.clusters[2].securityGroup, "tenants[0].groups.edit.gcp", /needs clusters\[2\]\.securityGroup \(stg-gcp-euw4\)/],
        ["the GKE security group is gke-security-groups@", "staging", (s) => (s.clusters[2].securityGroup = "admins@example.com"), "clusters[2].securityGroup", /gke-security-groups@<your domain>/],
        ["a tenant's IAM role is not an admin role", "production", (s) => (s.tenants[1].groups.view.aws = ["arn:aws:iam::222222222222:role/platform-admins"]), "tenants[1].groups.view.aws[0]", /adminRoleArns \(prod-aws-use1\)/],
        ["adopted clusters' tenant groups are not system: groups", "local", (s) => (s.tenants[0].groups.edit.existing = ["system:masters"]), "tenants[0].groups.edit.existing[0]", /system:/],
    ];
    for (const [rule, stack, edit, at, fragment] of rules) {
        it(rule, () => assertProblem(problemsAfter(stack, edit), at, fragment));
    }

    it("a group in another cloud's form is reported on every cloud at once", () => {
        const problems = problemsAfter("production", (s) => {
            s.tenants[0].groups.edit = { aws: ["team-alpha-developers"], azure: ["team-alpha-developers@example.com"], gcp: ["00000000-0000-0000-0000-0000000a1f01"] };
        });
        const groupProblems = problems.filter((p) => p.startsWith("tenants[0].groups."));
        assert.deepEqual(groupProblems.map((p) => p.split(":")[0]).sort(), ["tenants[0].groups.edit.aws[0]", "tenants[0].groups.edit.azure[0]", "tenants[0].groups.edit.gcp[0]"]);
    });
});

describe("config: a stack file with several mistakes", () => {
    const renderCli = path.join(__dirname, "..", "scripts", "render.js");
    const file = editedStackFile("staging", (s: Settings) => {
        s.clusters[0].cloud = "digitalocean";
        Object.assign(s.clusters[1].nodePools[1], { minSize: 9, maxSize: 2 });
        s.clusters[2].name = s.clusters[1].name;
        s.clusters[2].nodePools = s.clusters[2].nodePools.filter((p: Settings) => p.role !== "system");
        s.clusters[1].nodePools[0].instancetype = "Standard_D4s_v5";
        s.tenants[0].quota = { "requests.memory": "8 GB" };
    });
    const result = spawnSync(process.execPath, [renderCli, "--stack", "staging", "--config-file", file], { encoding: "utf8" });

    it("exits 1 before registering anything", () => {
        assert.equal(result.status, 1);
        assert.equal(result.stdout, "");
    });
    it("names every path", () => {
        for (const at of ["clusters[0].cloud", "clusters[1].nodePools[1].minSize", "clusters[2].name", "clusters[2].nodePools", "clusters[1].nodePools[0].instancetype", "tenants[0].quota.requests.memory"]) {
            assert.match(result.stderr, new RegExp(`^  - ${at.replace(/[[\].]/g, "\\$&")}: `, "m"), `missing ${at} in:\n${result.stderr}`);
        }
    });
    it("prints no stack trace", () => {
        assert.doesNotMatch(result.stderr, /^\s+at /m);
    });
});

describe("config: one schema for the keys and the secrets", () => {
    const WEBHOOK = "https://alerts.example.com/hook";
    const GRAFANA = "correct-horse-battery-staple";
    const withSecrets = { ...loadStackSettings("local"), backupCredentials: { accessKeyId: "minio", secretAccessKey: "minio-secret" }, alertmanagerWebhookUrl: WEBHOOK, grafanaAdminPassword: GRAFANA };
    const load = async (secretKeys: string[]) => {
        let config: PlatformConfig | undefined;
        await record("unit", stackConfig(withSecrets, secretKeys), () => {
            config = loadConfig();
        });
        return config!;
    };

    it("knows exactly the schema's top-level keys, the three secrets among them", () => {
        assert.deepEqual([...knownKeys], ["environment", "clusters", "addons", "charts", "tenants", "backupCredentials", "alertmanagerWebhookUrl", "grafanaAdminPassword"]);
    });

    it("hands every secret key on as a secret Output, and keeps it out of the plain settings", async () => {
        const config = await load(["backupCredentials", "alertmanagerWebhookUrl", "grafanaAdminPassword"]);
        assert.deepEqual(Object.keys(config.secrets).sort(), ["alertmanagerWebhookUrl", "backupCredentials", "grafanaAdminPassword"]);
        for (const [key, output] of Object.entries(config.secrets)) assert.equal(await pulumi.isSecret(output as pulumi.Output<unknown>), true, key);
        assert.deepEqual(await valueOf(config.secrets.backupCredentials!), { accessKeyId: "minio", secretAccessKey: "minio-secret" });
        assert.equal(await valueOf(config.secrets.alertmanagerWebhookUrl!), WEBHOOK);
        assert.equal(await valueOf(config.secrets.grafanaAdminPassword!), GRAFANA);
        for (const key of ["backupCredentials", "alertmanagerWebhookUrl", "grafanaAdminPassword"]) assert.ok(!(key in config), `${key} in the plain settings`);
    });

    it("refuses every secret key given in plain text, naming each", async () => {
        const error = await load([]).then(
            () => undefined,
            (err: unknown) => err,
        );
        assert.ok(error instanceof ConfigError, String(error));
        assert.deepEqual(error.problems, [
            "backupCredentials: must be a secret; set it with `pulumi config set --secret`",
            "alertmanagerWebhookUrl: must be a secret; set it with `pulumi config set --secret`",
            "grafanaAdminPassword: must be a secret; set it with `pulumi config set --secret`",
        ]);
    });
});
