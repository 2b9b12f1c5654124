/**
 * The platform of one cluster: which add-ons it gets and the order they install in, in one
 * place. Add-ons install in parallel; an edge exists only where one needs another's output
 * (the gateway's certificate needs cert-manager). Each add-on's custom resources wait for
 * its own release (HelmAddon.customResource).
 *
 * Adding an add-on: one line in the `addons` block below (`name: enabled ? new X(...) : undefined`)
 * with an `X extends HelmAddon`. Its release then appears in `releases`, its namespace in the
 * platform backups, and a DR restore waits for it.
 *
 * Rebuild mode: `restoring` is true while the cluster's config has a `restore` block. Then
 * Velero's schedules pause, a Velero Restore is created after everything else, Kyverno only
 * audits (`kyvernoFailureAction`), and index.ts holds tenant GitOps (`suspendGitOps`).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddonsConfig, ClusterConfig, PlatformConfig } from "../config";
import { PlatformCluster } from "../types";
import { CertManager } from "./cert-manager";
import { EnvoyGateway } from "./envoy-gateway";
import { ExternalSecrets } from "./external-secrets";
import { Falco } from "./falco";
import { Flux } from "./flux";
import { HelmAddon } from "./helm-addon";
import { Kyverno } from "./kyverno";
import { Monitoring } from "./monitoring";
import { restoreFromBackup } from "./restore";
import { Velero } from "./velero";

export interface PlatformArgs {
    readonly cluster: PlatformCluster;
    /** The cluster's own config entry (dns, restore). */
    readonly clusterConfig: ClusterConfig;
    readonly addons: AddonsConfig;
    readonly secrets: PlatformConfig["secrets"];
}

export type AddonName = keyof AddonsConfig;

/**
 * Kyverno's validationFailureAction: the configured one, except Audit while restoring, since
 * a restore puts back objects admitted under older policies and must not be half-refused.
 */
export function kyvernoFailureAction(addons: AddonsConfig, restoring: boolean): "Audit" | "Enforce" {
    return restoring ? "Audit" : addons.kyverno.validationFailureAction;
}

/** Where the gateway serves without cloud DNS: `*.localhost` resolves to the machine itself. */
export const localDomain = (cluster: string) => `${cluster}.localhost`;

/** The platform add-ons of one cluster and the order they install in. */
export class Platform extends pulumi.ComponentResource {
    /** Releases by add-on; tenants' custom resources depend on the ones that install their CRDs. */
    readonly releases: Partial<Record<AddonName, k8s.helm.v3.Release>>;
    /** A `restore` block is set: see the file comment. */
    readonly restoring: boolean;
    readonly gatewayAddress: pulumi.Output<string | undefined>;
    readonly grafanaUrl: pulumi.Output<string | undefined>;
    readonly backupBucket: pulumi.Output<string | undefined>;

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:addons:Platform", name, {}, opts);
        const { cluster, clusterConfig, addons: config } = args;
        const child = { parent: this };
        const restore = clusterConfig.restore;
        this.restoring = restore !== undefined;

        const certManager = config.certManager.enabled
            ? new CertManager(
                  `${name}-cert-manager`,
                  { cluster, dnsZone: clusterConfig.dns?.zone, acmeEmail: config.certManager.acmeEmail, issuer: config.certManager.issuer },
                  child,
              )
            : undefined;
        const velero = config.velero.enabled ? new Velero(`${name}-velero`, { cluster, sourceCluster: restore?.sourceCluster, restoring: this.restoring }, child) : undefined;

        const addons: Partial<Record<AddonName, HelmAddon>> = {
            certManager,
            velero,
            envoyGateway: config.envoyGateway.enabled
                ? new EnvoyGateway(
                      `${name}-envoy-gateway`,
                      {
                          cluster,
                          domain: clusterConfig.dns?.domain ?? localDomain(cluster.name),
                          httpsRedirect: config.envoyGateway.httpsRedirect,
                          tls: certManager && { issuerName: certManager.issuer.name, after: [certManager.release, certManager.issuer.resource] },
                      },
                      child,
                  )
                : undefined,
            externalSecrets: config.externalSecrets.enabled ? new ExternalSecrets(`${name}-external-secrets`, { cluster, secretPrefix: config.externalSecrets.secretPrefix }, child) : undefined,
            falco: config.falco.enabled ? new Falco(`${name}-falco`, { cluster }, child) : undefined,
            flux: config.flux.enabled ? new Flux(`${name}-flux`, { cluster, platformRepository: config.flux.platformRepository, suspend: this.restoring }, child) : undefined,
            // monitoring needs the gateway and kyverno every other add-on: both follow.
        };
        if (config.monitoring.enabled) {
            const gateway = addons.envoyGateway as EnvoyGateway | undefined;
            const grafanaRoute = gateway && { domain: clusterConfig.dns?.domain ?? localDomain(cluster.name), tls: certManager !== undefined, after: [gateway.release, gateway.gateway] };
            addons.monitoring = new Monitoring(`${name}-monitoring`, { cluster, settings: config.monitoring, grafanaRoute, alertmanagerWebhookUrl: args.secrets.alertmanagerWebhookUrl }, child);
        }
        if (config.kyverno.enabled) {
            // Policies apply once every other add-on is up, and never in their namespaces.
            const others = Object.values(addons).filter((addon): addon is HelmAddon => addon !== undefined);
            addons.kyverno = new Kyverno(
                `${name}-kyverno`,
                {
                    cluster,
                    settings: config.kyverno,
                    validationFailureAction: kyvernoFailureAction(config, this.restoring),
                    platformNamespaces: others.map((addon) => addon.namespaceName),
                    platformReleases: others.map((addon) => addon.release),
                },
                child,
            );
        }
        const installed = Object.entries(addons).filter((entry): entry is [AddonName, HelmAddon] => entry[1] !== undefined);
        this.releases = Object.fromEntries(installed.map(([addon, component]) => [addon, component.release]));

        velero?.scheduleBackups({
            platformNamespaces: installed.map(([, component]) => component.namespaceName),
            hourly: config.velero.hourlyBackups,
        });
        if (restore && velero) {
            restoreFromBackup(velero, { restore, after: installed.filter(([, component]) => component !== velero).map(([, component]) => component) });
        }

        this.gatewayAddress = (addons.envoyGateway as EnvoyGateway | undefined)?.address ?? pulumi.output(undefined);
        this.grafanaUrl = (addons.monitoring as Monitoring | undefined)?.grafanaUrl ?? pulumi.output(undefined);
        this.backupBucket = velero ? pulumi.output(velero.storage.bucket) : pulumi.output(undefined);
        this.registerOutputs({ gatewayAddress: this.gatewayAddress, backupBucket: this.backupBucket });
    }
}
