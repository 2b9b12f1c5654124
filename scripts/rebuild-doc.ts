/**
 * The modeled rebuild table of docs/disaster-recovery.md, from the rebuild model over the
 * current production render: every cluster rebuilt as is, and rebuilt in the DR case (with
 * `restore: { schedule: tenants-daily }`). Written by `npm run docs:config`; a test fails
 * when the doc and the model disagree, so the doc's counts and minutes never go stale.
 */
import * as fs from "fs";
import * as path from "path";
import { parseCommandLine } from "./cli";
import { withBlock } from "./config-reference";
import { modelRebuild, toMarkdown } from "./rebuild-model";
import { readStackConfig, renderProgram, RenderDocument, stackFilePath, StackConfig } from "./render-program";

export const DR_DOC = path.join(__dirname, "..", "..", "docs", "disaster-recovery.md");
export const DR_STACK = "production";
/** What the runbook's people do before and around the rebuild: declare, choose the backup, review the change. */
export const HUMAN_STEPS_MINUTES = 45;

const CLOUDS: Record<string, string> = {
    "platform:clusters:EksCluster": "AWS",
    "platform:clusters:AksCluster": "Azure",
    "platform:clusters:GkeCluster": "GCP",
    "platform:clusters:ExistingCluster": "existing",
};

/** The stack's config with `restore: { schedule }` on every cluster: the DR rebuild. */
export function restoring(config: StackConfig, schedule = "tenants-daily"): StackConfig {
    const key = "platform:clusters";
    const clusters = (JSON.parse(config.values[key]) as Record<string, unknown>[]).map((c) => ({ ...c, restore: { schedule } }));
    return { ...config, values: { ...config.values, [key]: JSON.stringify(clusters) } };
}

const tenths = (minutes: number) => Math.round(minutes * 10) / 10;
const hours = (minutes: number) => {
    const whole = Math.round(minutes);
    return whole < 60 ? `${whole} min` : `${Math.floor(whole / 60)} h ${String(whole % 60).padStart(2, "0")} min`;
};

/** The block between the doc's rebuild-model markers, from two renders of the same stack. */
export function rebuildBlock(plain: RenderDocument, dr: RenderDocument): string {
    const [before, after] = [modelRebuild(plain), modelRebuild(dr)];
    const cloudOf = new Map(plain.resources.filter((r) => !r.parent && r.type in CLOUDS).map((r) => [r.name, CLOUDS[r.type]]));
    const rows = after.map((m) => {
        const p = before.find((b) => b.cluster === m.cluster)!;
        return `| ${m.cluster} | ${cloudOf.get(m.cluster)} | ${p.resources} / ${m.resources} | ${tenths(p.minutes)} | ${tenths(m.minutes)} | ${hours(m.minutes + HUMAN_STEPS_MINUTES)} |`;
    });
    return [
        `Stack \`${plain.stack}\`: every cluster rebuilt as is, and in the DR case with \`restore: { schedule: tenants-daily }\``,
        `(which adds the Velero Restore). With the runbook's human steps, about ${HUMAN_STEPS_MINUTES} minutes, the last column is the`,
        "modeled time from declaring the incident to tenants' namespaces back.",
        "",
        "| cluster | cloud | resources (as is / DR) | rebuild as is (min) | DR rebuild with restore (min) | with the human steps |",
        "|---|---|---:|---:|---:|---:|",
        ...rows,
        "",
        "<details><summary>Full critical paths (DR case), as the model prints them</summary>",
        "",
        toMarkdown(after).trimEnd(),
        "",
        "</details>",
    ].join("\n");
}

/** Renders the stack as is and in the DR case, and returns the block. */
export async function currentRebuildBlock(stack = DR_STACK): Promise<string> {
    const config = readStackConfig(stackFilePath(stack));
    const plain = await renderProgram(stack, config);
    const dr = await renderProgram(stack, restoring(config));
    return rebuildBlock(plain, dr);
}

export const withRebuildBlock = (doc: string, block: string) => withBlock(doc, "rebuild-model", block);

const USAGE = `usage: node dist/scripts/rebuild-doc.js   (part of npm run docs:config)

Renders the production stack as is and with restore on every cluster, runs the rebuild model
on both and rewrites the modeled rebuild table of docs/disaster-recovery.md.
`;

if (require.main === module) {
    parseCommandLine("rebuild-doc", USAGE, { options: {} });
    currentRebuildBlock().then((block) => {
        fs.writeFileSync(DR_DOC, withRebuildBlock(fs.readFileSync(DR_DOC, "utf8"), block));
        process.stderr.write("docs/disaster-recovery.md: modeled rebuild table regenerated\n");
    });
}
