/**
 * Private endpoints in an AKS cluster's VNet for the data it keeps in Azure services (the
 * secret-store Key Vaults, Velero's storage account), with the private DNS zones that make
 * their usual names resolve to those endpoints inside the VNet. With them the services refuse
 * public network access; only the cluster's network (and what is peered to it) reaches them.
 *
 * The endpoints and zones belong to the cluster (its resource group): a rebuilt cluster gets
 * new ones for the same retained vaults and account.
 */
import * as network from "@pulumi/azure-native/network";
import * as privatedns from "@pulumi/azure-native/privatedns";
import * as pulumi from "@pulumi/pulumi";
import { subnetCidr } from "./shared";

/**
 * What a private endpoint connects to (its group id): a Key Vault, a storage account's blob
 * service, or the read-only copy of it that a read-access geo-redundant account keeps in the
 * paired region (`<account>-secondary.blob.core.windows.net`, reached through its own endpoint).
 */
export type PrivateLinkTarget = "vault" | "blob" | "blob_secondary";

/** Azure public cloud's private link zones (Azure China and Government use others). */
export const PRIVATE_ZONES = {
    vault: "privatelink.vaultcore.azure.net",
    blob: "privatelink.blob.core.windows.net",
};
type PrivateZoneKey = keyof typeof PRIVATE_ZONES;
/** The zone each target's record goes in: the copy's `<account>-secondary` sits next to `<account>`. */
const ZONE_OF: Record<PrivateLinkTarget, PrivateZoneKey> = { vault: "vault", blob: "blob", blob_secondary: "blob" };

export interface PrivateLinksArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    readonly vnetId: pulumi.Input<string>;
    /** The subnet the endpoints' network interfaces live in. */
    readonly subnetId: pulumi.Input<string>;
}

export class PrivateLinks {
    private readonly zones = new Map<PrivateZoneKey, privatedns.PrivateZone>();

    constructor(
        private readonly name: string,
        private readonly args: PrivateLinksArgs,
        private readonly opts: pulumi.CustomResourceOptions,
    ) {}

    /** The zone `target`'s records go in, linked to the cluster's VNet (created once). */
    private zone(target: PrivateZoneKey): privatedns.PrivateZone {
        const existing = this.zones.get(target);
        if (existing) return existing;
        const zone = new privatedns.PrivateZone(`${this.name}-zone-${target}`, { privateZoneName: PRIVATE_ZONES[target], resourceGroupName: this.args.resourceGroupName, location: "global" }, this.opts);
        new privatedns.VirtualNetworkLink(
            `${this.name}-zone-${target}`,
            {
                virtualNetworkLinkName: "cluster-vnet",
                privateZoneName: zone.name,
                resourceGroupName: this.args.resourceGroupName,
                location: "global",
                virtualNetwork: { id: this.args.vnetId },
                // The endpoints' records come from their zone groups, not from VM auto-registration.
                registrationEnabled: false,
            },
            this.opts,
        );
        this.zones.set(target, zone);
        return zone;
    }

    /**
     * A private endpoint for `resourceId` (a vault or a storage account), registered in its zone.
     * Returns the zone group: once it exists, the resource's name resolves to the endpoint.
     */
    endpoint(role: string, resourceId: pulumi.Input<string>, target: PrivateLinkTarget): network.PrivateDnsZoneGroup {
        const endpointName = `pe-${role}`;
        const endpoint = new network.PrivateEndpoint(
            `${this.name}-pe-${role}`,
            {
                privateEndpointName: endpointName,
                resourceGroupName: this.args.resourceGroupName,
                location: this.args.location,
                subnet: { id: this.args.subnetId },
                privateLinkServiceConnections: [{ name: endpointName, privateLinkServiceId: resourceId, groupIds: [target] }],
            },
            this.opts,
        );
        return new network.PrivateDnsZoneGroup(
            `${this.name}-pe-${role}`,
            {
                privateDnsZoneGroupName: "default",
                privateEndpointName: endpoint.name,
                resourceGroupName: this.args.resourceGroupName,
                privateDnsZoneConfigs: [{ name: target, privateDnsZoneId: this.zone(ZONE_OF[target]).id }],
            },
            this.opts,
        );
    }
}

/** A Key Vault's network settings: no public access when private, Azure's trusted services not exempted. */
export const vaultNetwork = (isPrivate: boolean) => (isPrivate ? { publicNetworkAccess: "Disabled", networkAcls: { defaultAction: "Deny" as const, bypass: "None" as const } } : {});

/** A storage account's network settings when private: no public access, and a firewall that denies by default. */
export const storageNetwork = (isPrivate: boolean) => (isPrivate ? { publicNetworkAccess: "Disabled" as const, networkRuleSet: { defaultAction: "Deny" as const, bypass: "None" as const } } : {});

export interface PrivateNetworkArgs {
    readonly config: { readonly name: string; readonly vnetCidr: string };
    readonly groupName: pulumi.Input<string>;
    readonly vnet: network.VirtualNetwork;
    /** The subnet created before these (Azure changes one subnet of a VNet at a time). */
    readonly after: network.Subnet;
    readonly location: string;
}

/**
 * The two subnets a private AKS cluster adds at the end of its VNet, away from the nodes' half:
 * the API server's (a /28 delegated to AKS: API Server VNet Integration) and the private
 * endpoints' (a /27), and the private links that use the latter.
 */
export function privateNetwork(name: string, args: PrivateNetworkArgs, opts: pulumi.CustomResourceOptions) {
    const prefix = Number(args.config.vnetCidr.split("/")[1]);
    const endpointSubnet = new network.Subnet(
        `${name}-endpoints`,
        {
            subnetName: "private-endpoints",
            virtualNetworkName: args.vnet.name,
            resourceGroupName: args.groupName,
            addressPrefix: subnetCidr(args.config.vnetCidr, 27, 2 ** (27 - prefix) - 2),
        },
        { ...opts, dependsOn: [args.after] },
    );
    const apiServerSubnet = new network.Subnet(
        `${name}-apiserver`,
        {
            subnetName: "apiserver",
            virtualNetworkName: args.vnet.name,
            resourceGroupName: args.groupName,
            addressPrefix: subnetCidr(args.config.vnetCidr, 28, 2 ** (28 - prefix) - 1),
            delegations: [{ name: "aks", serviceName: "Microsoft.ContainerService/managedClusters" }],
        },
        { ...opts, dependsOn: [endpointSubnet] },
    );
    const links = new PrivateLinks(name, { resourceGroupName: args.groupName, location: args.location, vnetId: args.vnet.id, subnetId: endpointSubnet.id }, opts);
    return { endpointSubnet, apiServerSubnet, links };
}
