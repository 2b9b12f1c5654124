/**
 * What the clouds would compute, for running the program with Pulumi mocks: per resource
 * type, the output fields a real `pulumi up` would fill in (endpoints, ARNs, issuers,
 * kubeconfigs...), and answers for data-source calls. Values a cloud alone can know are
 * visible placeholders (`<computed name.field>`), deterministic so renders are stable; where
 * the program parses a value (an ARN, a URL, a resource ID) the placeholder keeps its shape.
 */
import * as pulumi from "@pulumi/pulumi";

export const placeholder = (name: string, field: string) => `<computed ${name}.${field}>`;

type Args = pulumi.runtime.MockResourceArgs;
type Outputs = (args: Args) => Record<string, unknown>;

/** Account of the mocked AWS caller when the provider assumes no role. */
export const MOCK_AWS_ACCOUNT = "123456789012";

/** Inputs of every provider registered so far, by provider id: resources find their region, account, project. */
const providerInputs = new Map<string, Record<string, unknown>>();
const providerOf = (ref: string | undefined): Record<string, unknown> => (ref ? (providerInputs.get(ref.split("::").pop() ?? "") ?? {}) : {});
const str = (value: unknown, fallback: string) => (typeof value === "string" && value ? value : fallback);

const awsRegion = (ref?: string) => str(providerOf(ref).region, "us-east-1");
/** Providers receive structured settings JSON-encoded, as the engine passes them to the plugin. */
const decoded = (value: unknown): unknown => {
    try {
        return typeof value === "string" ? JSON.parse(value) : value;
    } catch {
        return value;
    }
};
function awsAccount(ref?: string): string {
    const roles = decoded(providerOf(ref).assumeRoles);
    const roleArn = Array.isArray(roles) && roles[0] && typeof roles[0] === "object" ? (roles[0] as { roleArn?: unknown }).roleArn : undefined;
    return typeof roleArn === "string" ? roleArn.split(":")[4] : MOCK_AWS_ACCOUNT;
}
const azureSubscription = (ref?: string) => str(providerOf(ref).subscriptionId, "00000000-0000-0000-0000-000000000000");
const gcpProject = (args: { inputs: Record<string, unknown>; provider?: string }) => str(args.inputs.project, str(providerOf(args.provider).project, "mock-project"));
/** A project number is a cloud's choice: derived from the id so each project has its own. */
const gcpProjectNumber = (project: string) => String([...project].reduce((n, ch) => (n * 31 + ch.charCodeAt(0)) % 1e12, 7)).padStart(12, "1");

const physical = (args: Args, key = "name") => str(args.inputs[key], args.name);

// ---------- AWS ----------
const aws: Record<string, Outputs> = {
    "aws:iam/role:Role": (a) => ({ name: physical(a), arn: `arn:aws:iam::${awsAccount(a.provider)}:role/${physical(a)}`, uniqueId: placeholder(a.name, "uniqueId") }),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (a) => ({
        arn: `arn:aws:iam::${awsAccount(a.provider)}:oidc-provider/${str(a.inputs.url, a.name).replace(/^https:\/\//, "")}`,
    }),
    "aws:kms/key:Key": (a) => ({ keyId: placeholder(a.name, "keyId"), arn: `arn:aws:kms:${str(a.inputs.region, awsRegion(a.provider))}:${awsAccount(a.provider)}:key/${placeholder(a.name, "keyId")}` }),
    "aws:eks/cluster:Cluster": (a) => ({
        name: physical(a),
        arn: `arn:aws:eks:${awsRegion(a.provider)}:${awsAccount(a.provider)}:cluster/${physical(a)}`,
        endpoint: `https://${placeholder(a.name, "endpoint")}`,
        certificateAuthority: { data: placeholder(a.name, "certificateAuthority") },
        identities: [{ oidcs: [{ issuer: `https://oidc.eks.${awsRegion(a.provider)}.amazonaws.com/id/${placeholder(a.name, "oidcId")}` }] }],
        platformVersion: placeholder(a.name, "platformVersion"),
    }),
    "aws:eks/nodeGroup:NodeGroup": (a) => ({ arn: `arn:aws:eks:${awsRegion(a.provider)}:${awsAccount(a.provider)}:nodegroup/${str(a.inputs.nodeGroupName, a.name)}`, status: "ACTIVE" }),
    "aws:ec2/launchTemplate:LaunchTemplate": (a) => ({ latestVersion: 1, defaultVersion: 1, arn: placeholder(a.name, "arn") }),
    "aws:s3/bucket:Bucket": (a) => ({ bucket: physical(a, "bucket"), arn: `arn:aws:s3:::${physical(a, "bucket")}`, bucketRegionalDomainName: placeholder(a.name, "bucketRegionalDomainName") }),
    "aws:ec2/eip:Eip": (a) => ({ publicIp: placeholder(a.name, "publicIp"), allocationId: placeholder(a.name, "allocationId") }),
    "aws:cloudwatch/logGroup:LogGroup": (a) => ({ arn: `arn:aws:logs:${awsRegion(a.provider)}:${awsAccount(a.provider)}:log-group:${physical(a)}` }),
    "aws:eks/addon:Addon": (a) => ({ addonVersion: placeholder(a.name, "addonVersion"), arn: placeholder(a.name, "arn") }),
};

// ---------- Azure ----------
const azureId = (a: Args, type: string, nameKey: string) =>
    `/subscriptions/${azureSubscription(a.provider)}/resourceGroups/${str(a.inputs.resourceGroupName, placeholder(a.name, "resourceGroupName"))}/providers/${type}/${physical(a, nameKey)}`;
const azureNamed = (type: string, nameKey: string, extra: Outputs = () => ({})): Outputs => (a) => ({ id: azureId(a, type, nameKey), name: physical(a, nameKey), ...extra(a) });
const azure: Record<string, Outputs> = {
    "azure-native:resources:ResourceGroup": (a) => ({ id: `/subscriptions/${azureSubscription(a.provider)}/resourceGroups/${physical(a, "resourceGroupName")}`, name: physical(a, "resourceGroupName") }),
    "azure-native:network:VirtualNetwork": azureNamed("Microsoft.Network/virtualNetworks", "virtualNetworkName"),
    "azure-native:network:Subnet": (a) => ({
        id: `${azureId(a, "Microsoft.Network/virtualNetworks", "virtualNetworkName")}/subnets/${physical(a, "subnetName")}`,
        name: physical(a, "subnetName"),
    }),
    "azure-native:managedidentity:UserAssignedIdentity": azureNamed("Microsoft.ManagedIdentity/userAssignedIdentities", "resourceName", (a) => ({
        clientId: placeholder(a.name, "clientId"),
        principalId: placeholder(a.name, "principalId"),
        tenantId: placeholder(a.name, "tenantId"),
    })),
    "azure-native:keyvault:Vault": azureNamed("Microsoft.KeyVault/vaults", "vaultName", (a) => ({
        properties: { ...(a.inputs.properties as object), vaultUri: `https://${physical(a, "vaultName")}.vault.azure.net/` },
    })),
    "azure-native:keyvault:Key": (a) => ({
        id: `${azureId(a, "Microsoft.KeyVault/vaults", "vaultName")}/keys/${physical(a, "keyName")}`,
        name: physical(a, "keyName"),
        keyUri: `https://${str(a.inputs.vaultName, "vault")}.vault.azure.net/keys/${physical(a, "keyName")}`,
        keyUriWithVersion: `https://${str(a.inputs.vaultName, "vault")}.vault.azure.net/keys/${physical(a, "keyName")}/${placeholder(a.name, "version")}`,
    }),
    "azure-native:containerservice:ManagedCluster": azureNamed("Microsoft.ContainerService/managedClusters", "resourceName", (a) => ({
        fqdn: placeholder(a.name, "fqdn"),
        privateFQDN: placeholder(a.name, "privateFQDN"),
        oidcIssuerProfile: { enabled: true, issuerURL: `https://${str(a.inputs.location, "westeurope")}.oic.prod-aks.azure.com/${placeholder(a.name, "issuerId")}/` },
    })),
    "azure-native:containerservice:AgentPool": (a) => ({
        id: `${azureId(a, "Microsoft.ContainerService/managedClusters", "resourceName")}/agentPools/${physical(a, "agentPoolName")}`,
        name: physical(a, "agentPoolName"),
    }),
    "azure-native:storage:StorageAccount": azureNamed("Microsoft.Storage/storageAccounts", "accountName", (a) => ({
        primaryEndpoints: { blob: `https://${physical(a, "accountName")}.blob.core.windows.net/` },
    })),
    "azure-native:storage:BlobContainer": (a) => ({
        id: `${azureId(a, "Microsoft.Storage/storageAccounts", "accountName")}/blobServices/default/containers/${physical(a, "containerName")}`,
        name: physical(a, "containerName"),
    }),
    "azure-native:network:PrivateEndpoint": azureNamed("Microsoft.Network/privateEndpoints", "privateEndpointName"),
    "azure-native:privatedns:PrivateZone": azureNamed("Microsoft.Network/privateDnsZones", "privateZoneName"),
    "azure-native:operationalinsights:Workspace": azureNamed("Microsoft.OperationalInsights/workspaces", "workspaceName", (a) => ({ customerId: placeholder(a.name, "customerId") })),
};

// ---------- GCP ----------
const gcpLocation = (a: Args) => str(a.inputs.location, str(a.inputs.region, str(providerOf(a.provider).region, "us-central1")));
const gcp: Record<string, Outputs> = {
    "gcp:compute/network:Network": (a) => ({ id: `projects/${gcpProject(a)}/global/networks/${physical(a)}`, selfLink: placeholder(a.name, "selfLink") }),
    "gcp:compute/subnetwork:Subnetwork": (a) => ({ id: `projects/${gcpProject(a)}/regions/${gcpLocation(a)}/subnetworks/${physical(a)}`, selfLink: placeholder(a.name, "selfLink") }),
    "gcp:kms/keyRing:KeyRing": (a) => ({ id: `projects/${gcpProject(a)}/locations/${gcpLocation(a)}/keyRings/${physical(a)}` }),
    "gcp:kms/cryptoKey:CryptoKey": (a) => ({ id: `${str(a.inputs.keyRing, placeholder(a.name, "keyRing"))}/cryptoKeys/${physical(a)}` }),
    "gcp:container/cluster:Cluster": (a) => ({
        id: `projects/${gcpProject(a)}/locations/${gcpLocation(a)}/clusters/${physical(a)}`,
        name: physical(a),
        endpoint: placeholder(a.name, "endpoint"),
        masterAuth: { clientCertificateConfig: { issueClientCertificate: false }, clusterCaCertificate: placeholder(a.name, "clusterCaCertificate") },
        masterVersion: placeholder(a.name, "masterVersion"),
    }),
    "gcp:serviceaccount/account:Account": (a) => {
        const email = `${physical(a, "accountId")}@${gcpProject(a)}.iam.gserviceaccount.com`;
        return { email, member: `serviceAccount:${email}`, name: `projects/${gcpProject(a)}/serviceAccounts/${email}`, uniqueId: placeholder(a.name, "uniqueId") };
    },
    "gcp:storage/bucket:Bucket": (a) => ({ name: physical(a), url: `gs://${physical(a)}`, selfLink: placeholder(a.name, "selfLink") }),
};

// ---------- Kubernetes ----------
const kubernetes: Record<string, Outputs> = {
    // The load balancer's address (an NLB hostname on EKS, an IP elsewhere): the DNS records point at it.
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": (a) => ({ status: { addresses: [{ value: placeholder(a.name, "address") }] } }),
};

/** Output fields per resource type (token): what the cloud computes that the program reads. */
export const computedOutputs: Record<string, Outputs> = { ...aws, ...azure, ...gcp, ...kubernetes };

/** Types whose outputs are exactly their inputs, and why that is all the program needs of them. */
const ECHOED_GROUPS: { readonly why: string; readonly types: readonly string[] }[] = [
    {
        why: "the program reads back nothing a cloud computes (or only names it chose itself)",
        types: [
            "aws:ec2/vpc:Vpc",
            "aws:ec2/subnet:Subnet",
            "aws:ec2/flowLog:FlowLog",
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
            "aws:ec2/internetGateway:InternetGateway",
            "aws:ec2/natGateway:NatGateway",
            "aws:ec2/routeTable:RouteTable",
            "aws:ec2/routeTableAssociation:RouteTableAssociation",
            "aws:eks/accessEntry:AccessEntry",
            "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
            "aws:iam/rolePolicy:RolePolicy",
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "aws:kms/alias:Alias",
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "aws:s3/bucketLogging:BucketLogging",
            "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "aws:s3/bucketPolicy:BucketPolicy",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketVersioning:BucketVersioning",
            "aws:route53/record:Record",
            "azure-native:authorization:RoleAssignment",
            "azure-native:dns:RecordSet",
            "azure-native:managedidentity:FederatedIdentityCredential",
            "azure-native:monitor:DiagnosticSetting",
            "azure-native:network:PrivateDnsZoneGroup",
            "azure-native:privatedns:VirtualNetworkLink",
            "azure-native:storage:BlobServiceProperties",
            "gcp:compute/router:Router",
            "gcp:compute/routerNat:RouterNat",
            "gcp:container/nodePool:NodePool",
            "gcp:dns/dnsManagedZoneIamMember:DnsManagedZoneIamMember",
            "gcp:dns/recordSet:RecordSet",
            "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
            "gcp:projects/iAMMember:IAMMember",
            "gcp:serviceaccount/iAMMember:IAMMember",
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            "gcp:storage/transferJob:TransferJob",
        ],
    },
    {
        why: "Kubernetes objects: the program reads back only the metadata it set",
        types: [
            "kubernetes:core/v1:ConfigMap",
            "kubernetes:core/v1:LimitRange",
            "kubernetes:core/v1:Namespace",
            "kubernetes:core/v1:ResourceQuota",
            "kubernetes:core/v1:Secret",
            "kubernetes:core/v1:ServiceAccount",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
            "kubernetes:rbac.authorization.k8s.io/v1:Role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
            "kubernetes:storage.k8s.io/v1:StorageClass",
            "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass",
            "kubernetes:helm.sh/v3:Release",
            "kubernetes:cert-manager.io/v1:Certificate",
            "kubernetes:cert-manager.io/v1:ClusterIssuer",
            "kubernetes:external-secrets.io/v1:ClusterSecretStore",
            "kubernetes:external-secrets.io/v1:SecretStore",
            "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyPatchPolicy",
            "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy",
            "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
            "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
            "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
            "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository",
            "kubernetes:kyverno.io/v1:ClusterPolicy",
            "kubernetes:monitoring.coreos.com/v1:PodMonitor",
            "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
            "kubernetes:velero.io/v1:BackupStorageLocation",
            "kubernetes:velero.io/v1:Restore",
            "kubernetes:velero.io/v1:Schedule",
            "kubernetes:velero.io/v1:VolumeSnapshotLocation",
        ],
    },
    {
        why: "a generated secret: the program only passes `result` on, and it renders as a secret either way",
        types: ["random:index/randomPassword:RandomPassword"],
    },
    {
        why: "providers: their inputs are recorded (region, account, project) for the resources that use them",
        types: ["pulumi:providers:aws", "pulumi:providers:azure-native", "pulumi:providers:gcp", "pulumi:providers:kubernetes", "pulumi:providers:random"],
    },
];

/**
 * Custom resource types answered with their own inputs. A type in neither this list nor
 * `computedOutputs` is refused (see `takeUnknownTypes`): a new resource type needs someone to
 * decide what its cloud would compute, instead of a silent echo the program may misread.
 */
export const echoedTypes: ReadonlySet<string> = new Set(ECHOED_GROUPS.flatMap((g) => g.types));

const unknownTypes = new Map<string, string>();
/**
 * The custom types met since the last call that the mocks do not know, as messages, and forgets
 * them. The render (`record`) and the unit tier (a root hook in test/mocks.ts) fail on any: a
 * throw from `newResource` itself would only surface as an unhandled rejection.
 */
export function takeUnknownTypes(): string[] {
    const found = [...unknownTypes].map(([type, name]) => `mock-cloud: unknown resource type ${type} (${name}): add what its cloud computes to computedOutputs, or the type to echoedTypes, in scripts/mock-cloud.ts`);
    unknownTypes.clear();
    return found;
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** Answers for data sources and provider functions, by function token. */
export const callAnswers: Record<string, (inputs: Record<string, unknown>, provider?: string) => Record<string, unknown>> = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": (_, provider) => {
        const region = awsRegion(provider);
        return { id: region, names: ["a", "b", "c"].map((z) => `${region}${z}`), zoneIds: [1, 2, 3].map((n) => `${region}-az${n}`), groupNames: [region] };
    },
    "aws:index/getCallerIdentity:getCallerIdentity": (_, provider) => {
        const account = awsAccount(provider);
        return { id: account, accountId: account, arn: `arn:aws:sts::${account}:assumed-role/mock/pulumi`, userId: placeholder("caller", "userId") };
    },
    "aws:index/getPartition:getPartition": () => ({ id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" }),
    // Another stack's backup key, found by the alias that stack gave it.
    "aws:kms/getAlias:getAlias": (inputs, provider) => {
        const alias = str(inputs.name, "alias/unknown");
        const arn = `arn:aws:kms:${str(inputs.region, awsRegion(provider))}:${awsAccount(provider)}:key/${placeholder(alias, "keyId")}`;
        return { id: alias, name: alias, arn: `arn:aws:kms:${str(inputs.region, awsRegion(provider))}:${awsAccount(provider)}:${alias}`, targetKeyArn: arn, targetKeyId: placeholder(alias, "keyId") };
    },
    "aws:lb/getHostedZoneId:getHostedZoneId": (inputs, provider) => ({ id: placeholder(`nlb-${str(inputs.region, awsRegion(provider))}`, "canonicalHostedZoneId") }),
    "azure-native:authorization:getClientConfig": (_, provider) => ({
        clientId: placeholder("deployer", "clientId"),
        objectId: placeholder("deployer", "objectId"),
        subscriptionId: azureSubscription(provider),
        tenantId: "00000000-0000-0000-0000-0000000000aa",
    }),
    "azure-native:containerservice:listManagedClusterUserCredentials": (inputs) => {
        const cluster = str(inputs.resourceName, "cluster");
        const kubeconfig = [
            "apiVersion: v1",
            "kind: Config",
            `clusters: [{ name: ${cluster}, cluster: { server: "https://${placeholder(cluster, "fqdn")}:443", certificate-authority-data: "${placeholder(cluster, "caData")}" } }]`,
        ].join("\n");
        return { kubeconfigs: [{ name: "clusterUser", value: base64(kubeconfig) }] };
    },
    "gcp:organizations/getProject:getProject": (inputs, provider) => {
        const project = str(inputs.projectId, str(providerOf(provider).project, "mock-project"));
        return { id: `projects/${project}`, projectId: project, number: gcpProjectNumber(project), name: project };
    },
    // The project's Cloud Storage service agent, named from the project's number as Google names it.
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": (inputs, provider) => {
        const project = str(inputs.project, str(providerOf(provider).project, "mock-project"));
        const email = `service-${gcpProjectNumber(project)}@gs-project-accounts.iam.gserviceaccount.com`;
        return { id: email, emailAddress: email, member: `serviceAccount:${email}`, project };
    },
};

export const cloudMocks: pulumi.runtime.Mocks = {
    newResource(args) {
        // Components hold only what the program registers on them; custom resources must be known.
        if (args.custom && !computedOutputs[args.type] && !echoedTypes.has(args.type) && !unknownTypes.has(args.type)) unknownTypes.set(args.type, args.name);
        const { id: computedId, ...computed } = computedOutputs[args.type]?.(args) ?? {};
        const id = args.id || (typeof computedId === "string" ? computedId : placeholder(args.name, "id"));
        if (args.type.startsWith("pulumi:providers:")) providerInputs.set(id, args.inputs);
        return { id, state: { ...args.inputs, ...computed } };
    },
    call(args) {
        const answer = callAnswers[args.token];
        if (!answer) {
            // A data source without an answer would silently return nothing; fail loudly instead.
            throw new Error(`mock-cloud: no answer for function ${args.token}; add one to scripts/mock-cloud.ts`);
        }
        return answer(args.inputs, args.provider);
    },
};
