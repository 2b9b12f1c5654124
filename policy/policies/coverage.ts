/**
 * The pack fails closed: every resource type in a stack is either inspected by one of its
 * policies or listed below with the reason it needs none. A type that is neither (a new
 * cloud's cluster, a new add-on's objects, a ClusterRole) is a violation until someone
 * decides how it is policed, instead of passing unseen.
 */
import { StackValidationPolicy } from "@pulumi/policy";
import { PlatformPolicy } from "../util";

/** Why each group of types needs no policy of its own. */
const NOT_POLICED_GROUPS: { readonly why: string; readonly types: readonly string[] }[] = [
    {
        why: "the cluster's own network: what faces the internet is policed on the cluster endpoint and the nodes",
        types: [
            "aws:ec2/vpc:Vpc",
            "aws:ec2/subnet:Subnet",
            "aws:ec2/internetGateway:InternetGateway",
            "aws:ec2/natGateway:NatGateway",
            "aws:ec2/eip:Eip",
            "aws:ec2/routeTable:RouteTable",
            "aws:ec2/routeTableAssociation:RouteTableAssociation",
            "azure-native:network:VirtualNetwork",
            "azure-native:network:Subnet",
            "gcp:compute/network:Network",
            "gcp:compute/subnetwork:Subnetwork",
            "gcp:compute/router:Router",
            "gcp:compute/routerNat:RouterNat",
        ],
    },
    {
        why: "etcd's encryption keys: cluster-private-endpoint-encrypted checks that the cluster uses one",
        types: ["aws:kms/alias:Alias", "azure-native:keyvault:Key", "gcp:kms/keyRing:KeyRing", "gcp:kms/cryptoKey:CryptoKey"],
    },
    {
        why: "identities and bindings that can only name one resource (a service account, a bucket, a zone, a key), so they cannot be too broad",
        types: [
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            "azure-native:managedidentity:UserAssignedIdentity",
            "azure-native:managedidentity:FederatedIdentityCredential",
            "gcp:serviceaccount/account:Account",
            "gcp:serviceaccount/iAMMember:IAMMember",
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            "gcp:dns/dnsManagedZoneIamMember:DnsManagedZoneIamMember",
            "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
        ],
    },
    {
        why: "AWS-managed policies EKS requires (cluster, worker nodes, ECR pull, CNI, EBS CSI): their documents are AWS's, not in the program",
        types: ["aws:iam/rolePolicyAttachment:RolePolicyAttachment"],
    },
    {
        why: "EKS access for the configured adminRoleArns (cluster admin by design), tenants' IAM roles (a Kubernetes group each, no access policy: test/tenant-access.test.ts) and the EKS-managed add-ons",
        types: ["aws:eks/accessEntry:AccessEntry", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "aws:eks/addon:Addon"],
    },
    {
        why: "what holds the backups beyond the settings backup-bucket-settings polices: TLS-only policy, ownership, the data resource group",
        types: [
            "aws:s3/bucketPolicy:BucketPolicy",
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "azure-native:resources:ResourceGroup",
        ],
    },
    {
        why: "the private path to the data stores (endpoints, their DNS zones and VNet links): azure-data-private checks that the stores refuse public access",
        types: ["azure-native:network:PrivateEndpoint", "azure-native:network:PrivateDnsZoneGroup", "azure-native:privatedns:PrivateZone", "azure-native:privatedns:VirtualNetworkLink"],
    },
    {
        why: "objects inside the cluster: Kyverno admits them, the add-on and tenant tests check them; RBAC: namespaced roles, and cluster-wide bindings only as cluster-role-binding-accounts allows",
        types: [
            "kubernetes:core/v1:ConfigMap",
            "kubernetes:core/v1:Secret",
            "kubernetes:core/v1:ServiceAccount",
            "kubernetes:rbac.authorization.k8s.io/v1:Role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
            "kubernetes:storage.k8s.io/v1:StorageClass",
            "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass",
            "kubernetes:cert-manager.io/v1:Certificate",
            "kubernetes:cert-manager.io/v1:ClusterIssuer",
            "kubernetes:external-secrets.io/v1:ClusterSecretStore",
            "kubernetes:external-secrets.io/v1:SecretStore",
            "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyPatchPolicy",
            "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy",
            "kubernetes:gateway.networking.k8s.io/v1:Gateway",
            "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
            "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
            "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
            "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository",
            "kubernetes:monitoring.coreos.com/v1:PodMonitor",
            "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
            "kubernetes:velero.io/v1:BackupStorageLocation",
            "kubernetes:velero.io/v1:Schedule",
            "kubernetes:velero.io/v1:Restore",
        ],
    },
    {
        why: "the Gateway's DNS records: each names the apex or the wildcard of the cluster's own domain, in its own zone, at its Gateway's address (test/gateway-dns.test.ts)",
        types: ["aws:route53/record:Record", "azure-native:dns:RecordSet", "gcp:dns/recordSet:RecordSet"],
    },
    {
        why: "generated secrets: they stay secret Outputs",
        types: ["random:index/randomPassword:RandomPassword"],
    },
    {
        why: "each cluster's own providers (the render and the stack files refuse default providers) and the stack itself",
        types: ["pulumi:providers:aws", "pulumi:providers:azure-native", "pulumi:providers:gcp", "pulumi:providers:kubernetes", "pulumi:providers:random", "pulumi:pulumi:Stack"],
    },
];

/** Type token -> why no policy inspects it. */
export const NOT_POLICED: Readonly<Record<string, string>> = Object.fromEntries(NOT_POLICED_GROUPS.flatMap((g) => g.types.map((t) => [t, g.why])));

/** This program's own components (`platform:<folder>:<Class>`) hold no cloud settings; their children are policed. */
export const isOwnComponent = (type: string) => type.startsWith("platform:");

/** The types `guards` inspect plus those listed as not policed: everything else is refused. */
export function knownTypes(guards: readonly PlatformPolicy[]): Set<string> {
    return new Set([...guards.flatMap((p) => p.inspects), ...Object.keys(NOT_POLICED)]);
}

/** Every resource type of the stack is inspected by one of `guards` or listed in NOT_POLICED. */
export function resourceTypesKnown(guards: readonly PlatformPolicy[]): PlatformPolicy<StackValidationPolicy> {
    const known = knownTypes(guards);
    return {
        name: "resource-type-known",
        description: "Every resource type is inspected by a policy of this pack or listed as not policed, with the reason (policy/policies/coverage.ts).",
        severity: "high",
        remediationSteps: "Police the new type in a policy of policy/policies/, or add it to NOT_POLICED in policy/policies/coverage.ts with the reason.",
        inspects: [],
        validateStack: (args, report) => {
            const unknown = new Map<string, string[]>();
            for (const r of args.resources) {
                if (known.has(r.type) || isOwnComponent(r.type)) continue;
                unknown.set(r.type, [...(unknown.get(r.type) ?? []), r.urn]);
            }
            for (const [type, urns] of unknown) {
                report(`${type} (${urns.length} resource${urns.length > 1 ? "s" : ""}) is neither inspected by a policy nor listed as not policed: decide how it is policed (policy/policies/coverage.ts)`, urns[0]);
            }
        },
    };
}
