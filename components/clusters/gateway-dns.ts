/**
 * The shared Gateway's names: `<domain>` and `*.<domain>` in the cluster's zone, pointing at
 * the load balancer the Gateway's status reports. Made here, by Pulumi, rather than by
 * external-dns: the zone's write access stays with whoever runs `pulumi up` (no controller in
 * the cluster holding it; on GCP external-dns would also need read on every zone of the
 * project), and a record change shows in the preview like any other (docs/platform.md).
 */
import { getHostedZoneIdOutput } from "@pulumi/aws/lb";
import { Provider as AwsProvider } from "@pulumi/aws/provider";
import * as route53 from "@pulumi/aws/route53";
import * as azureDns from "@pulumi/azure-native/dns";
import { Provider as AzureProvider } from "@pulumi/azure-native/provider";
import * as gcpDns from "@pulumi/gcp/dns";
import { Provider as GcpProvider } from "@pulumi/gcp/provider";
import * as pulumi from "@pulumi/pulumi";
import { AZURE_DNS_ZONE_ID } from "../config";
import { GatewayDns } from "../types";

/** Short enough that a rebuilt load balancer's new address is picked up within minutes. */
export const GATEWAY_RECORD_TTL = 300;

/** The two names the Gateway serves, by role: the apex (Grafana and friends live below it too) and the wildcard. */
const NAMES = { apex: (domain: string) => domain, wildcard: (domain: string) => `*.${domain}` } as const;

/** The address once the load balancer has one; `pulumi up` waits for it on the Gateway (envoy-gateway.ts). */
function required(address: pulumi.Output<string | undefined>, cluster: string): pulumi.Output<string> {
    return address.apply((a) => {
        if (!a) throw new Error(`cluster ${cluster}: the Gateway reports no load balancer address, so its DNS records cannot be made`);
        return a;
    });
}

/** Route 53 alias A records to the Network Load Balancer (an alias works at the apex, a CNAME does not). */
export function route53Records(name: string, dns: GatewayDns, address: pulumi.Output<string | undefined>, at: { cluster: string; region: string; provider: AwsProvider; parent: pulumi.Resource }): pulumi.Resource[] {
    const opts = { parent: at.parent, provider: at.provider };
    const nlbZone = getHostedZoneIdOutput({ loadBalancerType: "network", region: at.region }, opts).apply((z) => z.id);
    const target = required(address, at.cluster);
    return Object.entries(NAMES).map(
        ([role, of]) =>
            new route53.Record(
                `${name}-gateway-${role}`,
                { zoneId: dns.zone, name: of(dns.domain), type: "A", aliases: [{ name: target, zoneId: nlbZone, evaluateTargetHealth: true }] },
                opts,
            ),
    );
}

/**
 * Azure DNS A records to the load balancer's public IP, names relative to the zone (`@` and
 * `*` when the domain is the zone). The zone may live in another subscription than the
 * cluster: then the records get a provider of their own for it.
 */
export function azureRecords(name: string, dns: GatewayDns, address: pulumi.Output<string | undefined>, at: { cluster: string; subscriptionId: string; provider: AzureProvider; parent: pulumi.Resource }): pulumi.Resource[] {
    const [, subscriptionId, resourceGroupName, zoneName] = AZURE_DNS_ZONE_ID.exec(dns.zone)!;
    const provider = subscriptionId.toLowerCase() === at.subscriptionId.toLowerCase() ? at.provider : new AzureProvider(`${name}-dns-azure`, { subscriptionId }, { parent: at.parent });
    const relative = (fqdn: string) => (fqdn === zoneName ? "@" : fqdn.slice(0, -(zoneName.length + 1)));
    const ip = required(address, at.cluster);
    return Object.entries(NAMES).map(
        ([role, of]) =>
            new azureDns.RecordSet(
                `${name}-gateway-${role}`,
                { resourceGroupName, zoneName, relativeRecordSetName: relative(of(dns.domain)), recordType: "A", ttl: GATEWAY_RECORD_TTL, aRecords: [{ ipv4Address: ip }] },
                { parent: at.parent, provider },
            ),
    );
}

/** Cloud DNS A records in the managed zone (names end with a dot). */
export function cloudDnsRecords(name: string, dns: GatewayDns, address: pulumi.Output<string | undefined>, at: { cluster: string; project: string; provider: GcpProvider; parent: pulumi.Resource }): pulumi.Resource[] {
    const ip = required(address, at.cluster);
    return Object.entries(NAMES).map(
        ([role, of]) =>
            new gcpDns.RecordSet(
                `${name}-gateway-${role}`,
                { project: at.project, managedZone: dns.zone, name: `${of(dns.domain)}.`, type: "A", ttl: GATEWAY_RECORD_TTL, rrdatas: [ip] },
                { parent: at.parent, provider: at.provider },
            ),
    );
}
