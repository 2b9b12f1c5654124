/**
 * Tenants' sign-in on EKS: one access entry per IAM role (EKS allows one per principal and
 * cluster), whose only Kubernetes group is named after the role itself, and no access policy
 * association, so the role holds exactly what RoleBindings to that group grant. Two tenants
 * naming one role share its entry; each binds the group in its own namespace.
 */
import * as eks from "@pulumi/aws/eks";
import { Provider } from "@pulumi/aws/provider";
import * as pulumi from "@pulumi/pulumi";
import { TenantAccess } from "../types";
import { shortHash } from "./shared";

/**
 * The Kubernetes group an IAM role signs in as: `iam-role:<account>:<role name>`. A role name
 * is unique in its account whatever its path, so this names the role, readably, in RoleBindings.
 */
export function kubernetesGroupOf(roleArn: string): string {
    const [, , , , account, resource] = roleArn.split(":");
    return `iam-role:${account}:${resource.split("/").pop()}`;
}

export interface EksTenantAccessArgs {
    readonly cluster: eks.Cluster;
    readonly provider: Provider;
    readonly parent: pulumi.Resource;
}

/** The access entries of one cluster's tenant roles, made on first use. */
export class EksTenantAccess {
    private readonly entries = new Map<string, eks.AccessEntry>();

    /** `name` starts every entry's name (the cluster component's name). */
    constructor(
        private readonly name: string,
        private readonly args: EksTenantAccessArgs,
    ) {}

    grant(roleArns: readonly string[]): TenantAccess {
        return { groups: roleArns.map(kubernetesGroupOf), resources: roleArns.map((arn) => this.entryFor(arn)) };
    }

    private entryFor(principalArn: string): eks.AccessEntry {
        let entry = this.entries.get(principalArn);
        if (!entry) {
            entry = new eks.AccessEntry(
                // Keyed by the ARN: which tenant named the role first changes nothing.
                `${this.name}-tenant-${shortHash(6, principalArn)}`,
                { clusterName: this.args.cluster.name, principalArn, type: "STANDARD", kubernetesGroups: [kubernetesGroupOf(principalArn)] },
                { parent: this.args.parent, provider: this.args.provider },
            );
            this.entries.set(principalArn, entry);
        }
        return entry;
    }
}
