/**
 * GKE workload identity: a Google service account per Kubernetes service account, which only
 * `<project>.svc.id.goog[<ns>/<sa>]` may impersonate, and one IAM binding per grant on the one
 * resource it names: the bucket, the managed zone, or (Secret Manager has no per-prefix
 * resource) the secrets whose names start with the prefix, through an IAM condition.
 */
import * as dns from "@pulumi/gcp/dns";
import * as projects from "@pulumi/gcp/projects";
import { Provider } from "@pulumi/gcp/provider";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as storage from "@pulumi/gcp/storage";
import * as pulumi from "@pulumi/pulumi";
import { IdentityGrant, WorkloadIdentity } from "../types";
import { shortHash } from "./shared";

/**
 * Secret Manager ids cannot contain `/`: `tenants/team-a/` becomes `tenants_team-a_`. `_` never
 * occurs in a tenant name (a DNS label), so one tenant's prefix is never a prefix of another's.
 */
export const secretIdPrefix = (prefix: string) => prefix.replace(/\//g, "_");

/** Service account ids: 6-30 characters, project-wide; readable part plus a hash of what makes it unique. */
export function gsaAccountId(stack: string, cluster: string, namespace: string, serviceAccount: string): string {
    const readable = `${namespace}-${serviceAccount}`.replace(/[^a-z0-9-]/g, "-").slice(0, 16).replace(/-+$/, "");
    return `wi-${readable}-${shortHash(8, stack, cluster, namespace, serviceAccount)}`;
}

export interface GcpIdentityArgs {
    readonly stack: string;
    readonly clusterName: string;
    readonly project: string;
    readonly projectNumber: pulumi.Output<string>;
    readonly provider: Provider;
}

interface Identity {
    readonly account: serviceaccount.Account;
    readonly resources: pulumi.Resource[];
    readonly grants: Map<string, number>;
}

export class GcpWorkloadIdentities {
    private readonly identities = new Map<string, Identity>();

    constructor(
        private readonly name: string,
        private readonly args: GcpIdentityArgs,
    ) {}

    create(namespace: string, serviceAccount: string, grant: IdentityGrant, opts: pulumi.CustomResourceOptions): WorkloadIdentity {
        const { project, provider } = this.args;
        const base = `${this.name}-${namespace}-${serviceAccount}`;
        const childOpts = { ...opts, provider };
        const key = `${namespace}/${serviceAccount}`;
        let entry = this.identities.get(key);
        if (!entry) {
            const account = new serviceaccount.Account(
                `${base}-gsa`,
                {
                    accountId: gsaAccountId(this.args.stack, this.args.clusterName, namespace, serviceAccount),
                    displayName: `${this.args.clusterName} ${namespace}/${serviceAccount}`,
                    description: `Workload identity of ${namespace}/${serviceAccount} on ${this.args.clusterName}`,
                },
                childOpts,
            );
            const federation = new serviceaccount.IAMMember(
                `${base}-wi-user`,
                { serviceAccountId: account.name, role: "roles/iam.workloadIdentityUser", member: `serviceAccount:${project}.svc.id.goog[${namespace}/${serviceAccount}]` },
                childOpts,
            );
            entry = { account, resources: [account, federation], grants: new Map() };
            this.identities.set(key, entry);
        }
        const count = (entry.grants.get(grant.kind) ?? 0) + 1;
        entry.grants.set(grant.kind, count);
        const grantName = `${base}-${grant.kind}${count > 1 ? `-${count}` : ""}`;
        entry.resources.push(...this.bind(grantName, entry.account, grant, childOpts));
        return { serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": entry.account.email }, podLabels: {}, resources: [...entry.resources] };
    }

    private bind(name: string, account: serviceaccount.Account, grant: IdentityGrant, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
        const member = account.member;
        switch (grant.kind) {
            case "backupStorage": {
                const role = grant.access === "readWrite" ? "roles/storage.objectAdmin" : "roles/storage.objectViewer";
                const bucketAccess = new storage.BucketIAMMember(name, { bucket: grant.storage.bucket, role, member }, opts);
                if (grant.access === "readOnly") return [bucketAccess];
                // Velero signs download URLs (`velero backup logs`) with its own account, and only its own.
                const signing = new serviceaccount.IAMMember(`${name}-sign`, { serviceAccountId: account.name, role: "roles/iam.serviceAccountTokenCreator", member }, opts);
                return [bucketAccess, signing];
            }
            case "dnsZone":
                return [new dns.DnsManagedZoneIamMember(name, { project: this.args.project, managedZone: grant.zone, role: "roles/dns.admin", member }, opts)];
            case "secretsRead": {
                const idPrefix = secretIdPrefix(grant.prefix);
                return [
                    new projects.IAMMember(
                        name,
                        {
                            project: this.args.project,
                            role: "roles/secretmanager.secretAccessor",
                            member,
                            condition: {
                                title: `secrets ${grant.prefix}`,
                                description: `Only secrets whose id starts with ${idPrefix}`,
                                // Names use the project number; versions (`.../versions/N`) share the secret's prefix.
                                expression: pulumi.interpolate`resource.name.startsWith("projects/${this.args.projectNumber}/secrets/${idPrefix}")`,
                            },
                        },
                        opts,
                    ),
                ];
            }
        }
    }
}
