import { ResourceValidationPolicy } from "@pulumi/policy";
import { asList, byType, Check, get, isTrue, PlatformPolicy } from "../util";

const eks: Check = (props, args, report) => {
    if (get(props, "vpcConfig.endpointPublicAccess") !== false) {
        // The AWS default is a public endpoint: only an explicit false closes it.
        report(`${args.name}: EKS API endpoint is public; set vpcConfig.endpointPublicAccess: false`);
    }
    if (get(props, "vpcConfig.endpointPrivateAccess") !== true) {
        report(`${args.name}: EKS API endpoint is not reachable privately; set vpcConfig.endpointPrivateAccess: true`);
    }
    const secrets = asList(props.encryptionConfig).some(
        (c) => asList(get(c, "resources")).includes("secrets") && typeof get(c, "provider.keyArn") === "string",
    );
    if (!secrets) report(`${args.name}: Kubernetes secrets are not envelope-encrypted; set encryptionConfig { resources: [secrets], provider.keyArn: <KMS key> }`);
};

const aks: Check = (props, args, report) => {
    if (!isTrue(get(props, "apiServerAccessProfile.enablePrivateCluster"))) {
        report(`${args.name}: AKS API server is public; set apiServerAccessProfile.enablePrivateCluster: true`);
    }
    // etcd is encrypted at rest by the platform; KMS adds our own key. Without KMS, at least no
    // local (static, unaudited) accounts: every login goes through Entra ID and Azure RBAC.
    const kms = isTrue(get(props, "securityProfile.azureKeyVaultKms.enabled"));
    const entraOnly = isTrue(props.disableLocalAccounts) && isTrue(get(props, "aadProfile.managed")) && isTrue(get(props, "aadProfile.enableAzureRBAC"));
    if (!kms && !entraOnly) {
        report(`${args.name}: AKS secrets have neither KMS encryption (securityProfile.azureKeyVaultKms) nor Entra-only access (disableLocalAccounts + aadProfile.managed + enableAzureRBAC)`);
    }
};

const gke: Check = (props, args, report) => {
    if (!isTrue(get(props, "privateClusterConfig.enablePrivateEndpoint"))) {
        report(`${args.name}: GKE control plane has a public endpoint; set privateClusterConfig.enablePrivateEndpoint: true`);
    }
    const encryption = asList(props.databaseEncryption)[0];
    if (get(encryption, "state") !== "ENCRYPTED" || !get(encryption, "keyName")) {
        report(`${args.name}: GKE secrets are not encrypted with our key; set databaseEncryption { state: ENCRYPTED, keyName: <Cloud KMS key> }`);
    }
};

/** Production clusters: API server reachable only from inside the network, secrets encrypted with a key we hold. */
export const clusterPrivateAndEncrypted: PlatformPolicy<ResourceValidationPolicy> = {
    name: "cluster-private-endpoint-encrypted",
    description: "Clusters have a private API endpoint and encrypted Kubernetes secrets (mandatory in production).",
    severity: "critical",
    remediationSteps: "Set privateEndpoint: true for the cluster in Pulumi.<stack>.yaml; the cluster components add the encryption key.",
    ...byType({
        "aws:eks/cluster:Cluster": eks,
        "azure-native:containerservice:ManagedCluster": aks,
        "gcp:container/cluster:Cluster": gke,
    }),
};
