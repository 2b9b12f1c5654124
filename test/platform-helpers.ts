/**
 * Shared by the platform add-on tests (test/platform-*.test.ts): which stacks render, where an
 * add-on of a cluster sits in the render, and the checks every add-on gets. Expected values
 * stay in the tests; nothing here reads the add-on code.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CLUSTER_GAPS } from "../components/clusters/gaps";
import type { Cloud } from "../components/config-fields";
import { AddonDeclaration, AddonKey, addonKeys, addons } from "../components/platform/addons";
import { BackupSource, BackupStorage, IdentityGrant, PlatformCluster, WorkloadIdentity } from "../components/types";
import { readStackConfig, RenderDocument, RenderedResource, renderProgram } from "../scripts/render-program";
import { loadStackSettings } from "./mocks";

export type Raw = Record<string, any>;
export const RELEASE = "kubernetes:helm.sh/v3:Release";
export const STACKS = ["local", "staging", "production"];

/** The offline render of a stack file; a stack that fails to render fails its tests. */
export { renderStack } from "./mocks";

/** The clusters a stack file declares, as written. */
export const clustersOf = (stack: string): Raw[] => loadStackSettings(stack).clusters as Raw[];
export const environmentOf = (stack: string): string => loadStackSettings(stack).environment as string;

/**
 * The registry's add-ons that a cluster (as its stack file writes it) gets, in registry order:
 * all of them but those that fill a gap (`fills`) its cloud does not have (the contract's
 * clusters/gaps.ts). The gaps themselves, and which clusters get which add-on, are written out
 * in test/eks-autoscaling.test.ts.
 */
export const addonKeysOn = (cluster: Raw): AddonKey[] =>
    addonKeys.filter((key) => {
        const { fills } = addons[key] as AddonDeclaration;
        return fills === undefined || CLUSTER_GAPS[cluster.cloud as Cloud].includes(fills);
    });
/** The same, as component suffixes (`<cluster>-platform-<file>`). */
export const addonFilesOn = (cluster: Raw): string[] => addonKeysOn(cluster).map((key) => addons[key].file);

export interface RenderedAddon {
    readonly component: RenderedResource;
    readonly release: RenderedResource;
    /** The component's direct children (namespace, release, custom resources, secrets). */
    readonly children: RenderedResource[];
}

/** The add-on `suffix` (e.g. `cert-manager`) of `cluster` in the render. */
export function addonOf(doc: RenderDocument, cluster: string, suffix: string): RenderedAddon {
    const name = `${cluster}-platform-${suffix}`;
    const component = doc.resources.find((r) => r.name === name && !r.custom);
    assert.ok(component, `${doc.stack}: no add-on component ${name}`);
    const children = doc.resources.filter((r) => r.parent === component.urn);
    const releases = children.filter((r) => r.type === RELEASE);
    assert.equal(releases.length, 1, `${name}: exactly one Helm release`);
    return { component, release: releases[0], children };
}

/** The namespace the add-on installs into (HelmAddon's `<name>-namespace`; an identity may add others). */
export function namespaceOf(addon: RenderedAddon): RenderedResource {
    const ns = addon.children.find((r) => r.type === "kubernetes:core/v1:Namespace" && r.name === `${addon.component.name}-namespace`);
    assert.ok(ns, `${addon.component.name}: no namespace`);
    return ns;
}

/** Custom resources of a kind (`cert-manager.io/v1:ClusterIssuer`) among `resources`. */
export const ofKind = (resources: RenderedResource[], apiVersionKind: string) => resources.filter((r) => r.type === `kubernetes:${apiVersionKind}`);

/** The one resource of a kind whose metadata.name is `name`. */
export function kindNamed(resources: RenderedResource[], apiVersionKind: string, name: string): RenderedResource {
    const found = ofKind(resources, apiVersionKind).filter((r) => (r.inputs.metadata as Raw | undefined)?.name === name);
    assert.equal(found.length, 1, `expected one ${apiVersionKind} named ${name}, found ${found.length}`);
    return found[0];
}

export function assertDependsOn(resource: RenderedResource, on: RenderedResource) {
    assert.ok(resource.dependencies.includes(on.urn), `${resource.name} must depend on ${on.name}`);
}

/**
 * The add-on's custom resources of `crTypes` are exactly `expected` (`Kind/name`, any order),
 * and each waits for the add-on's release.
 */
export function assertCustomResourcesAfterRelease(addon: RenderedAddon, crTypes: RegExp, expected: string[]) {
    const crs = addon.children.filter((r) => crTypes.test(r.type));
    const found = crs.map((r) => `${r.type.split(":").pop()}/${(r.inputs.metadata as Raw | undefined)?.name}`).sort();
    assert.deepEqual(found, [...expected].sort(), `${addon.component.name}: custom resources matching ${crTypes}`);
    for (const cr of crs) assertDependsOn(cr, addon.release);
}

/** Values of a rendered release. */
export const valuesOf = (release: RenderedResource) => release.inputs.values as Raw;

/**
 * Renders test/fixtures/Pulumi.<stack>.yaml (optionally edited: the `platform:*` settings,
 * without the prefix) the way the CLI would hand it to the program.
 */
export function renderFixture(stack: string, edit?: (settings: Raw) => void): Promise<RenderDocument> {
    const source = path.join(__dirname, "..", "..", "test", "fixtures", `Pulumi.${stack}.yaml`);
    let file = source;
    if (edit) {
        const doc = YAML.parse(fs.readFileSync(source, "utf8"));
        const settings: Raw = {};
        for (const [key, value] of Object.entries<unknown>(doc.config)) if (key.startsWith("platform:")) settings[key.slice(9)] = value;
        edit(settings);
        for (const [key, value] of Object.entries(settings)) doc.config[`platform:${key}`] = value;
        file = path.join(fs.mkdtempSync("/tmp/platform-fixture-"), `Pulumi.${stack}.yaml`);
        fs.writeFileSync(file, YAML.stringify(doc));
    }
    return renderProgram(stack, readStackConfig(file));
}

/**
 * Wildcards in a grant: `*` anywhere (IAM Resource, RBAC verbs or resources), an ARN whose
 * resource is only a wildcard (`arn:aws:s3:::*`, `arn:aws:route53:::hostedzone/*`), or a
 * subscription-, resource-group- or project-wide scope. Strings holding JSON (IAM policy
 * documents) are searched too.
 */
export function broadGrants(value: unknown, at = ""): string[] {
    if (typeof value === "string") {
        const trimmed = value.trim();
        if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
            try {
                return broadGrants(JSON.parse(trimmed), at);
            } catch {
                /* not JSON: check it as a string */
            }
        }
        if (trimmed === "*") return [`${at}: "*"`];
        const arn = /^arn:[^:]+:([^:]+):[^:]*:[^:]*:(.*)$/.exec(trimmed);
        if (arn) {
            const [, service, resource] = arn;
            // S3 ARNs have no resource type: "bucket/*" is one bucket's objects.
            const wildcardOnly = service === "s3" ? resource.startsWith("*") : /^([a-z-]+[/:])?\*$/.test(resource) || resource.startsWith("*");
            if (wildcardOnly) return [`${at}: ${trimmed}`];
        }
        if (/^\/subscriptions\/[^/]+(\/resourceGroups\/[^/]+)?\/?$/i.test(trimmed)) return [`${at}: subscription/resource-group scope ${trimmed}`];
        return [];
    }
    if (Array.isArray(value)) return value.flatMap((v, i) => broadGrants(v, `${at}[${i}]`));
    if (isUnscopableStatement(value)) return [];
    if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => broadGrants(v, at ? `${at}.${k}` : k));
    return [];
}

/**
 * Reads that take no resource, so IAM accepts only `"*"` for them: cluster-autoscaler's
 * Describe calls (its AWS README; the exact statement is test/eks-autoscaling.test.ts's).
 */
export const RESOURCELESS_READS = [
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
];

/**
 * IAM statements whose actions have nothing narrower to name: Route53's GetChange polls a
 * change id that only exists once the record is submitted, so AWS offers `change/*` alone;
 * the resourceless reads above take only `"*"`.
 */
const UNSCOPABLE: Record<string, string> = { "route53:GetChange": "arn:aws:route53:::change/*", ...Object.fromEntries(RESOURCELESS_READS.map((a) => [a, "*"])) };
function isUnscopableStatement(value: unknown): boolean {
    if (!value || typeof value !== "object" || !("Action" in value) || !("Resource" in value)) return false;
    const list = (v: unknown) => (Array.isArray(v) ? v : [v]).map(String);
    const actions = list((value as Raw).Action);
    const resources = list((value as Raw).Resource);
    return actions.every((a) => a in UNSCOPABLE) && resources.every((r) => actions.every((a) => UNSCOPABLE[a] === r));
}

/**
 * A grant on a whole GCP project. A project binding whose IAM condition limits it to names
 * under one prefix (`resource.name.startsWith(...)`, how Secret Manager scopes by prefix) is not.
 */
export function isProjectWide(resource: RenderedResource): boolean {
    if (!/^gcp:projects\/iAM(Member|Binding|Policy):/.test(resource.type)) return false;
    const expression = (resource.inputs.condition as Raw | undefined)?.expression;
    return !(typeof expression === "string" && /^resource\.name\.startsWith\("projects\/[^"]+\/secrets\/[^"]+"\)$/.test(expression));
}

/** A resource and everything below it in the parent tree. */
export function descendants(doc: RenderDocument, root: RenderedResource): RenderedResource[] {
    const found = [root];
    for (let i = 0; i < found.length; i++) found.push(...doc.resources.filter((r) => r.parent === found[i].urn));
    return found;
}

/**
 * A cluster that records the grants it is asked for and hands out the given backup storage
 * (the source cluster's name becomes the prefix). Each grant gets its own identity: an annotation, a pod
 * label and a resource (a ConfigMap, standing in for the cloud's) numbered by the grant's call,
 * so a merge that keeps only some grants shows. Resources need a Kubernetes provider from `opts`.
 */
export function fakeCluster(calls: { sa: string; grant: IdentityGrant }[], storage?: Omit<BackupStorage, "prefix" | "cluster">): PlatformCluster {
    const identity = (sa: string, n: number, opts?: pulumi.ComponentResourceOptions): WorkloadIdentity => ({
        serviceAccountAnnotations: { [`example.com/grant-${n}`]: sa },
        podLabels: { [`example.com/use-${n}`]: "true" },
        resources: [new k8s.core.v1.ConfigMap(`${sa.replace("/", "-")}-grant-${n}`, { data: { grant: String(n) } }, opts)],
    });
    return {
        name: "fake",
        cloud: "existing",
        environment: "local",
        kubeconfig: pulumi.output("kubeconfig"),
        provider: undefined as never,
        apiEndpoint: pulumi.output("https://fake"),
        oidcIssuer: pulumi.output(undefined),
        privateRanges: [],
        provisionsLoadBalancers: false,
        workloadIdentity: (namespace, sa, grant, opts) => {
            calls.push({ sa: `${namespace}/${sa}`, grant });
            return identity(`${namespace}/${sa}`, calls.length, opts);
        },
        backupStorage: (source?: BackupSource) => {
            if (!storage) throw new Error("this fake cluster has no backup storage");
            const owner = source?.cluster.name ?? "fake";
            return { ...storage, cluster: owner, prefix: owner };
        },
        secretStoreProvider: () => ({}),
        dns01Solver: () => undefined,
        gatewayServiceAnnotations: () => ({}),
        tenantAccess: (_namespace, _role, groups) => ({ groups: [...groups.existing], resources: [] }),
        gatewayRecords: () => [],
        gaps: [],
        nodeAutoscalerValues: () => {
            throw new Error("the fake cluster has no nodeAutoscaler gap");
        },
    };
}
