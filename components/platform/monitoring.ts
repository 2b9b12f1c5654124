/**
 * kube-prometheus-stack: Prometheus, Alertmanager, Grafana, node-exporter and
 * kube-state-metrics, plus the platform's alert rules (alert-rules.ts) as a PrometheusRule
 * and a PodMonitor for each other add-on's metrics endpoint (the registry's `scrape`).
 *
 * Values checked against kube-prometheus-stack 88.6.1 (charts/kube-prometheus-stack of
 * prometheus-community/helm-charts at ed5d7d9b5933, the commit the Go module proxy serves;
 * app v0.93.1, Alertmanager v0.34.0). From 88.5.3 its values.yaml only gained HTTPRoute
 * `timeouts` and a newer webhook-certgen tag; none of ours changed. Its grafana subchart is
 * 12.11.2; our grafana values were read against 12.11.1 (grafana-community/helm-charts, tag
 * grafana-12.11.1), as no source of 12.11.2 was at hand (the proxy serves only 13.0.1).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AddonsConfig, byEnv } from "../config";
import { AddonContext, addonKeys, addons, ScrapeTarget } from "./addons";
import { alertRuleGroups } from "./alert-rules";
import { GATEWAY_NAME, GATEWAY_NAMESPACE } from "./envoy-gateway";
import { AddonArgs, fromRegistry, HelmAddon, requests } from "./helm-addon";

export const MONITORING_NAMESPACE = addons.monitoring.namespace;
/** Service names fixed by `fullnameOverride`, so routes and docs do not depend on the release name. */
export const GRAFANA_SERVICE = "grafana";
const GRAFANA_ADMIN_SECRET = "grafana-admin";
const WEBHOOK_SECRET = "alertmanager-webhook";
/** Where the operator mounts `alertmanagerSpec.secrets`: /etc/alertmanager/secrets/<secret>/<key>. */
const WEBHOOK_URL_FILE = `/etc/alertmanager/secrets/${WEBHOOK_SECRET}/url`;

export interface MonitoringArgs extends AddonArgs {
    /** `addons.monitoring`: Prometheus retention and volume size. */
    readonly settings: AddonsConfig["monitoring"];
    /**
     * Grafana's route on the shared Gateway (envoy-gateway.ts): served at `grafana.<domain>`.
     * Without `sectionName` the route binds every listener that admits it, which with the
     * HTTPS redirect on is the HTTPS listener only. Default: no route (reach Grafana with a port-forward).
     */
    readonly grafanaRoute?: {
        readonly domain: string;
        /** Whether the Gateway terminates TLS for `*.<domain>` (the URL's scheme). */
        readonly tls: boolean;
        /** Default: `platform` in `gateway-system` (envoy-gateway.ts). */
        readonly gateway?: { readonly name: string; readonly namespace: string; readonly sectionName?: string };
        /** What the route waits for: the release that installs the Gateway API CRDs, the Gateway. Default: none. */
        readonly after?: pulumi.Input<pulumi.Resource>[];
    };
    /** Secret `platform:alertmanagerWebhookUrl`. Default: no receiver (alerts stay in Alertmanager's UI). */
    readonly alertmanagerWebhookUrl?: pulumi.Output<string>;
    /** Secret `platform:grafanaAdminPassword`. Default: a random password (@pulumi/random), generated once and kept in the state. */
    readonly grafanaAdminPassword?: pulumi.Output<string>;
    /** The other add-ons' metrics endpoints, each in its add-on's namespace (addons.ts `scrape`). Default: none. */
    readonly scrape?: readonly { readonly namespace: string; readonly target: ScrapeTarget }[];
    /** Install after these. Default: none (installs in parallel with the other add-ons). */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export class Monitoring extends HelmAddon {
    readonly alertRules: k8s.apiextensions.CustomResource;
    readonly grafanaRoute?: k8s.apiextensions.CustomResource;
    /** The Secret Grafana reads its admin credentials from (`admin-user`, `admin-password`). */
    readonly grafanaAdminSecret: k8s.core.v1.Secret;
    /** One PodMonitor per scrape target, by job. */
    readonly podMonitors: Record<string, k8s.apiextensions.CustomResource>;
    /** `https://grafana.<domain>`, or undefined without a route. */
    readonly grafanaUrl: pulumi.Output<string | undefined>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        const route = args.grafanaRoute;
        const grafanaHost = route ? `grafana.${route.domain}` : undefined;
        const grafanaUrl = route ? `${route.tls ? "https" : "http"}://${grafanaHost}` : undefined;
        const webhook = args.alertmanagerWebhookUrl;
        // The chart mounts the Secrets below, so they must exist before the release, yet they
        // live in the namespace this add-on creates: the release waits on them through promises.
        const adminSecretReady = deferred<pulumi.Resource>();
        const webhookSecretReady = deferred<pulumi.Resource | undefined>();
        super(
            name,
            {
                cluster: args.cluster,
                // Privileged (addons.ts): node-exporter needs the host's network, PID namespace and root filesystem.
                ...fromRegistry(addons.monitoring, args),
                values: () => values(args, grafanaHost, grafanaUrl, webhook !== undefined),
                dependsOn: [...(args.dependsOn ?? []), adminSecretReady.promise, webhookSecretReady.promise.then((s) => s ?? adminSecretReady.promise)],
            },
            opts,
            "platform:addons:Monitoring",
        );
        const inNamespace = { parent: this, dependsOn: [this.namespace] };

        const password = args.grafanaAdminPassword ?? randomPassword(name, this);
        this.grafanaAdminSecret = new k8s.core.v1.Secret(
            `${name}-grafana-admin`,
            {
                metadata: { name: GRAFANA_ADMIN_SECRET, namespace: MONITORING_NAMESPACE },
                stringData: { "admin-user": "admin", "admin-password": password },
            },
            inNamespace,
        );
        const webhookSecret = webhook
            ? new k8s.core.v1.Secret(
                  `${name}-alertmanager-webhook`,
                  { metadata: { name: WEBHOOK_SECRET, namespace: MONITORING_NAMESPACE }, stringData: { url: pulumi.secret(webhook) } },
                  inNamespace,
              )
            : undefined;
        adminSecretReady.resolve(this.grafanaAdminSecret);
        webhookSecretReady.resolve(webhookSecret);

        this.alertRules = this.customResource("alert-rules", {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: { name: "platform-alerts", namespace: MONITORING_NAMESPACE, labels: { "app.kubernetes.io/part-of": "platform" } },
            spec: { groups: alertRuleGroups },
        });
        // In this namespace, so they need nothing of the add-on but its pods' labels; Prometheus
        // selects every PodMonitor (podMonitorSelectorNilUsesHelmValues below).
        this.podMonitors = Object.fromEntries(
            (args.scrape ?? []).map(({ namespace, target }) => [
                target.job,
                this.customResource(`scrape-${target.job}`, {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "PodMonitor",
                    metadata: { name: target.job, namespace: MONITORING_NAMESPACE, labels: { "app.kubernetes.io/part-of": "platform" } },
                    spec: {
                        namespaceSelector: { matchNames: [namespace] },
                        selector: { matchLabels: target.podLabels },
                        podMetricsEndpoints: [{ port: target.port, path: target.path ?? "/metrics" }],
                    },
                }),
            ]),
        );

        if (route && grafanaHost) {
            const gateway = route.gateway ?? { name: GATEWAY_NAME, namespace: GATEWAY_NAMESPACE };
            this.grafanaRoute = this.customResource(
                "grafana-route",
                {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata: { name: "grafana", namespace: MONITORING_NAMESPACE },
                    spec: {
                        parentRefs: [{ name: gateway.name, namespace: gateway.namespace, ...(gateway.sectionName ? { sectionName: gateway.sectionName } : {}) }],
                        hostnames: [grafanaHost],
                        rules: [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ name: GRAFANA_SERVICE, port: 80 }] }],
                    },
                },
                { dependsOn: route.after as pulumi.Resource[] | undefined },
            );
        }
        this.grafanaUrl = pulumi.output(grafanaUrl);
        this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status, grafanaUrl: this.grafanaUrl });
    }
}

/** What monitoring takes from another add-on (platform/index.ts): Grafana's route on the shared Gateway. */
export interface MonitoringLinks {
    readonly grafanaRoute?: MonitoringArgs["grafanaRoute"];
}

/** The Platform's entry (addons.ts): retention and volume from the settings, the webhook from the secrets. */
export function install(name: string, { cluster, charts, addons: settings, secrets }: AddonContext, links: MonitoringLinks, opts?: pulumi.ComponentResourceOptions): Monitoring {
    // Every enabled add-on's endpoints, whether or not it installs before this one: a PodMonitor only names labels.
    const scrape = addonKeys.filter((key) => settings[key].enabled).flatMap((key) => addons[key].scrape.map((target) => ({ namespace: addons[key].namespace, target })));
    return new Monitoring(
        name,
        {
            cluster,
            charts,
            extraValues: settings.monitoring.values,
            settings: settings.monitoring,
            grafanaRoute: links.grafanaRoute,
            alertmanagerWebhookUrl: secrets.alertmanagerWebhookUrl,
            grafanaAdminPassword: secrets.grafanaAdminPassword,
            scrape,
        },
        opts,
    );
}

/**
 * A generated admin password, when the stack sets none. Default providers are disabled; random
 * needs no credentials, so it gets its own explicit provider (a plugin that must be installed:
 * air-gapped stacks set `platform:grafanaAdminPassword` instead).
 */
function randomPassword(name: string, parent: pulumi.Resource): pulumi.Output<string> {
    const provider = new random.Provider(`${name}-random`, {}, { parent });
    return new random.RandomPassword(`${name}-grafana-admin`, { length: 32, special: false }, { parent, provider }).result;
}

function values(args: MonitoringArgs, grafanaHost: string | undefined, grafanaUrl: string | undefined, webhook: boolean): Record<string, unknown> {
    return {
        // Object names stay the same whatever the release is called (the chart cuts them at 26 characters).
        fullnameOverride: "kube-prometheus-stack",
        prometheus: {
            prometheusSpec: {
                retention: args.settings.retention,
                // Memory follows the number of series, which grows with the cluster.
                resources: requests("200m", byEnv(args.cluster.environment, { local: "512Mi", staging: "1Gi", production: "2Gi" })),
                storageSpec: {
                    volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: args.settings.storageSize } } } },
                },
                // Select every PrometheusRule/ServiceMonitor/PodMonitor/Probe, not only this release's:
                // the other add-ons ship their own monitors, and the platform's rules are a separate resource.
                ruleSelectorNilUsesHelmValues: false,
                serviceMonitorSelectorNilUsesHelmValues: false,
                podMonitorSelectorNilUsesHelmValues: false,
                probeSelectorNilUsesHelmValues: false,
            },
        },
        alertmanager: {
            alertmanagerSpec: { secrets: webhook ? [WEBHOOK_SECRET] : [], resources: requests("10m", "64Mi") },
            ...(webhook ? { config: alertmanagerConfig() } : {}),
        },
        // One replica each: the operator and kube-state-metrics elect no leader (a second
        // kube-state-metrics would export every series twice), and Grafana keeps its database in the pod.
        prometheusOperator: {
            resources: requests("50m", "128Mi"),
            // The sidecar that reloads Prometheus and Alertmanager on a config change (the operator adds it).
            prometheusConfigReloader: { resources: requests("10m", "32Mi") },
            // Hook jobs that create and patch the operator's admission webhook certificate.
            admissionWebhooks: { patch: { resources: requests("10m", "32Mi") } },
        },
        "kube-state-metrics": { resources: requests("50m", "128Mi") },
        "prometheus-node-exporter": { resources: requests("20m", "32Mi") },
        grafana: {
            fullnameOverride: GRAFANA_SERVICE,
            resources: requests("50m", "128Mi"),
            // The dashboard and datasource sidecars.
            sidecar: { resources: requests("10m", "64Mi") },
            // The `helm test` pod.
            testFramework: { resources: requests("10m", "32Mi") },
            // Credentials from a Secret this component owns: nothing secret passes through Helm values.
            admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
            // Links and redirects Grafana generates must point at the public URL, not the pod.
            ...(grafanaHost ? { "grafana.ini": { server: { domain: grafanaHost, root_url: grafanaUrl } } } : {}),
        },
    };
}

/** The chart's default routing, plus a webhook receiver that reads its URL from the mounted Secret. */
function alertmanagerConfig(): Record<string, unknown> {
    return {
        route: {
            receiver: "platform-webhook",
            group_by: ["namespace", "alertname"],
            routes: [{ receiver: "null", matchers: ['alertname = "Watchdog"'] }],
        },
        receivers: [{ name: "null" }, { name: "platform-webhook", webhook_configs: [{ url_file: WEBHOOK_URL_FILE, send_resolved: true }] }],
    };
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
    let resolve!: (value: T) => void;
    const promise = new Promise<T>((r) => (resolve = r));
    return { promise, resolve };
}
