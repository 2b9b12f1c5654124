/**
 * The book of workload identities every cluster keeps: one cloud identity per Kubernetes
 * service account (its annotation can name only one), and per grant the resources that give
 * that identity exactly what the grant names. The clouds differ only in what those resources
 * are (`CloudIdentity`); how they are keyed, named and deduplicated is decided here, once.
 */
import * as pulumi from "@pulumi/pulumi";
import { IdentityGrant, WorkloadIdentity } from "../types";
import { shortHash } from "./shared";

/** Where the resources of one grant go and what they are called. */
export interface GrantPlacement {
    /** `<cluster>-<namespace>-<serviceAccount>-<kind>-<hash of what the grant names>`. */
    readonly name: string;
    /** The caller's parent and dependencies, and an alias from the name the grant had before. */
    readonly opts: pulumi.CustomResourceOptions;
    /** A second resource of the same grant (`<name>-<role>`), aliased the same way. */
    child(role: string): GrantPlacement;
}

/** One service account's identity in one cloud. The cloud's provider is the cloud's to add. */
export interface CloudIdentity {
    /** What makes the identity (IAM role; managed identity and federation; service account and binding). */
    readonly resources: pulumi.Resource[];
    /** What the workload needs to assume it. */
    readonly workload: Omit<WorkloadIdentity, "resources">;
    /** The resources that give the identity what `grant` names, placed at `at`. */
    addGrant(grant: IdentityGrant, at: GrantPlacement): pulumi.Resource[];
}

export type CreateIdentity = (base: string, namespace: string, serviceAccount: string, opts: pulumi.CustomResourceOptions) => CloudIdentity;

/** What a grant names, beyond its kind: two grants are the same grant exactly when these agree. */
export function grantSubject(grant: IdentityGrant): string[] {
    switch (grant.kind) {
        case "backupStorage":
            return [grant.access, grant.storage.cluster];
        case "dnsZone":
            return [grant.zone];
        case "secretsRead":
            return [grant.prefix];
        case "nodeGroupScaling":
            return [];
    }
}

/** The resource name of a grant: from the grant itself, so the order of the calls does not matter. */
export const grantResourceName = (base: string, grant: IdentityGrant) => `${base}-${grant.kind}-${shortHash(6, grant.kind, ...grantSubject(grant))}`;

/** The grant kinds that had call-order names before grants were named from what they grant; later kinds never did. */
const KINDS_NAMED_BY_CALL_ORDER: readonly IdentityGrant["kind"][] = ["backupStorage", "dnsZone", "secretsRead"];

function placement(name: string, formerName: string | undefined, opts: pulumi.CustomResourceOptions): GrantPlacement {
    return {
        name,
        opts: formerName === undefined ? opts : { ...opts, aliases: [{ name: formerName }] },
        child: (role) => placement(`${name}-${role}`, formerName === undefined ? undefined : `${formerName}-${role}`, opts),
    };
}

interface Account {
    readonly identity: CloudIdentity;
    readonly resources: pulumi.Resource[];
    readonly grants: Set<string>;
    /** Grants per kind, in call order: only to name the alias of what the grant was called before. */
    readonly countByKind: Map<string, number>;
}

export class IdentityBook {
    private readonly accounts = new Map<string, Account>();

    /** `prefix` starts every resource name (the cluster component's name). */
    constructor(
        private readonly prefix: string,
        private readonly create: CreateIdentity,
    ) {}

    /** The identity of `namespace/serviceAccount`, holding `grant` too. Asking twice for one grant adds nothing. */
    grant(namespace: string, serviceAccount: string, grant: IdentityGrant, opts: pulumi.CustomResourceOptions): WorkloadIdentity {
        const base = `${this.prefix}-${namespace}-${serviceAccount}`;
        const key = `${namespace}/${serviceAccount}`;
        let account = this.accounts.get(key);
        if (!account) {
            const identity = this.create(base, namespace, serviceAccount, opts);
            account = { identity, resources: [...identity.resources], grants: new Set(), countByKind: new Map() };
            this.accounts.set(key, account);
        }
        const name = grantResourceName(base, grant);
        if (!account.grants.has(name)) {
            account.grants.add(name);
            const count = (account.countByKind.get(grant.kind) ?? 0) + 1;
            account.countByKind.set(grant.kind, count);
            // Until every stack has run `up` once with these names: the call-order name they replace.
            const formerName = KINDS_NAMED_BY_CALL_ORDER.includes(grant.kind) ? `${base}-${grant.kind}${count > 1 ? `-${count}` : ""}` : undefined;
            account.resources.push(...account.identity.addGrant(grant, placement(name, formerName, opts)));
        }
        return { ...account.identity.workload, resources: [...account.resources] };
    }
}
