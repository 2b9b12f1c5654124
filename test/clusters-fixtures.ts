/**
 * Shared by the cluster tests: one cloud cluster built alone from a real stack file (so its
 * adapters can be called with chosen grants), and small queries over a render.
 */
import { createCluster } from "../components/clusters";
import { ClusterConfig, PlatformConfig, validateSettings } from "../components/config";
import { BackupSource, PlatformCluster } from "../components/types";
import { RenderDocument, RenderedResource } from "../scripts/render-program";
import { loadStackSettings, record, stackConfig } from "./mocks";

export type CloudName = "aws" | "azure" | "gcp";
type Settings = Record<string, any>;

export interface Built<T> {
    readonly cluster: PlatformCluster;
    readonly config: ClusterConfig;
    readonly doc: RenderDocument;
    /** What `use` returned (adapter results, made while the program ran). */
    readonly used: T;
}

/** The `cloud` cluster of `stack` (optionally edited), alone; `use` calls its adapters during the run. */
export async function buildCluster<T>(stack: string, cloud: CloudName, use: (cluster: PlatformCluster) => T, edit?: (settings: Settings) => void): Promise<Built<T>> {
    const raw = structuredClone(loadStackSettings(stack)) as Settings;
    edit?.(raw);
    const { settings, problems } = validateSettings(raw);
    if (!settings) throw new Error(`invalid settings:\n${problems.join("\n")}`);
    const config = settings.clusters.find((c) => c.cloud === cloud);
    if (!config) throw new Error(`no ${cloud} cluster in ${stack}`);
    const platform: PlatformConfig = { ...settings, stack, secrets: {}, backupSources: new Map() };
    let cluster: PlatformCluster | undefined;
    let used: T | undefined;
    const doc = await record(stack, stackConfig({}), () => {
        cluster = createCluster(config, platform);
        used = use(cluster);
    });
    return { cluster: cluster!, config, doc, used: used as T };
}

export type CloudClusterConfig = Extract<ClusterConfig, { cloud: CloudName }>;
export const clusterConfigs = (stack: string, cloud: CloudName): CloudClusterConfig[] =>
    validateSettings(loadStackSettings(stack)).settings!.clusters.filter((c): c is CloudClusterConfig => c.cloud === cloud);

export const typed = (doc: RenderDocument, type: string): RenderedResource[] => doc.resources.filter((r) => r.type === type);

export function one(doc: RenderDocument, type: string, name?: string): RenderedResource {
    const found = typed(doc, type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
    return found[0];
}

export const byUrn = (doc: RenderDocument, urn: string): RenderedResource => {
    const found = doc.resources.find((r) => r.urn === urn);
    if (!found) throw new Error(`no resource ${urn}`);
    return found;
};

/** An IAM policy document registered as a JSON string. */
export interface PolicyStatement {
    Sid?: string;
    Effect: string;
    Action: string | string[];
    Resource?: string | string[];
    Principal?: Record<string, string> | string;
    Condition?: Record<string, Record<string, string>>;
}
export const statements = (json: unknown): PolicyStatement[] => (JSON.parse(String(json)) as { Statement: PolicyStatement[] }).Statement;
export const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Resources of a type whose URN lies under the component of `cluster` (its children, not the add-ons'). */
export const ownedBy = (doc: RenderDocument, type: string, componentType: string) => typed(doc, type).filter((r) => r.urn.includes(`${componentType}$`));

/** A restore source: `stack`'s first `cloud` cluster under another name (as a renamed or older cluster would be). */
export const renamedSource = (stack: string, cloud: CloudName, name: string): BackupSource => ({ stack, cluster: { ...clusterConfigs(stack, cloud)[0], name } });
