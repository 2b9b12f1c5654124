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
import { IdentityGrant } from "../types";
import { CloudIdentity, GrantPlacement } from "./identity-book";
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

/** A Google service account for one service account, usable by it alone; each grant adds one IAM binding on the resource it names. */
export function gcpIdentity(base: string, args: GcpIdentityArgs, namespace: string, serviceAccount: string, opts: pulumi.CustomResourceOptions): CloudIdentity {
    const childOpts = { ...opts, provider: args.provider };
    const account = new serviceaccount.Account(
        `${base}-gsa`,
        {
            accountId: gsaAccountId(args.stack, args.clusterName, namespace, serviceAccount),
            displayName: `${args.clusterName} ${namespace}/${serviceAccount}`,
            description: `Workload identity of ${namespace}/${serviceAccount} on ${args.clusterName}`,
        },
        childOpts,
    );
    const federation = new serviceaccount.IAMMember(
        `${base}-wi-user`,
        { serviceAccountId: account.name, role: "roles/iam.workloadIdentityUser", member: `serviceAccount:${args.project}.svc.id.goog[${namespace}/${serviceAccount}]` },
        childOpts,
    );
    return {
        resources: [account, federation],
        workload: { serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": account.email }, podLabels: {} },
        addGrant: (grant, at) => bind(at, account, grant, args),
    };
}

function bind(at: GrantPlacement, account: serviceaccount.Account, grant: IdentityGrant, args: GcpIdentityArgs): pulumi.Resource[] {
    const member = account.member;
    const opts = { ...at.opts, provider: args.provider };
    switch (grant.kind) {
        case "backupStorage": {
            const role = grant.access === "readWrite" ? "roles/storage.objectAdmin" : "roles/storage.objectViewer";
            const bucketAccess = new storage.BucketIAMMember(at.name, { bucket: grant.storage.bucket, role, member }, opts);
            if (grant.access === "readOnly") return [bucketAccess];
            // Velero signs download URLs (`velero backup logs`) with its own account, and only its own.
            const sign = at.child("sign");
            const signing = new serviceaccount.IAMMember(sign.name, { serviceAccountId: account.name, role: "roles/iam.serviceAccountTokenCreator", member }, { ...sign.opts, provider: args.provider });
            return [bucketAccess, signing];
        }
        case "nodeGroupScaling":
            throw new pulumi.RunError(`cluster ${args.clusterName}: GKE scales its node pools itself (clusters/gaps.ts); nothing asks for nodeGroupScaling here`);
        case "dnsZone":
            return [new dns.DnsManagedZoneIamMember(at.name, { project: args.project, managedZone: grant.zone, role: "roles/dns.admin", member }, opts)];
        case "secretsRead": {
            const idPrefix = secretIdPrefix(grant.prefix);
            return [
                new projects.IAMMember(
                    at.name,
                    {
                        project: args.project,
                        role: "roles/secretmanager.secretAccessor",
                        member,
                        condition: {
                            title: `secrets ${grant.prefix}`,
                            description: `Only secrets whose id starts with ${idPrefix}`,
                            // Names use the project number; versions (`.../versions/N`) share the secret's prefix.
                            expression: pulumi.interpolate`resource.name.startsWith("projects/${args.projectNumber}/secrets/${idPrefix}")`,
                        },
                    },
                    opts,
                ),
            ];
        }
    }
}
