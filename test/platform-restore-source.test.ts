/**
 * A restore from another stack's backups (`restore.source: { stack, cluster }`): the drill of
 * docs/disaster-recovery.md, kept as test/fixtures/Pulumi.dr-drill.yaml, reads production's
 * real bucket, read-only; a source the program cannot find is a config error naming the path.
 * Bucket names are written out here (sha256 of stack, cluster and account, computed by hand),
 * never taken from the code under test.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { resolveBackupSources, validateSettings } from "../components/config";
import { RenderDocument } from "../scripts/render-program";
import { addonOf, kindNamed, ofKind, Raw, renderFixture } from "./platform-helpers";
import { statements } from "./clusters-fixtures";
import { loadStackSettings, renderStack } from "./mocks";

/** velero-<cluster>-<sha256("production\0prod-aws-use1\0222222222222")[0:8]> */
const PRODUCTION_BUCKET = "velero-prod-aws-use1-7182b097";
/** The drill's own, empty bucket: sha256("dr-drill\0drill-aws-use1\0222222222222"). */
const DRILL_BUCKET = "velero-drill-aws-use1-e32203da";
const BSL = "velero.io/v1:BackupStorageLocation";
const POLICY = "aws:iam/rolePolicy:RolePolicy";


describe("restore.source: the drill against production's backups (test/fixtures/Pulumi.dr-drill.yaml)", () => {
    let drill: RenderDocument;
    before(async () => {
        drill = await renderFixture("dr-drill");
    });

    it("attaches production's real bucket as a read-only location, in production's region", () => {
        const velero = addonOf(drill, "drill-aws-use1", "velero");
        const source = kindNamed(velero.children, BSL, "source-prod-aws-use1").inputs.spec as Raw;
        assert.deepEqual(
            { accessMode: source.accessMode, default: source.default, objectStorage: source.objectStorage, config: source.config, provider: source.provider },
            { accessMode: "ReadOnly", default: false, objectStorage: { bucket: PRODUCTION_BUCKET }, config: { region: "us-east-1" }, provider: "aws" },
        );
        const own = kindNamed(velero.children, BSL, "default").inputs.spec as Raw;
        assert.deepEqual({ accessMode: own.accessMode, bucket: own.objectStorage.bucket }, { accessMode: "ReadWrite", bucket: DRILL_BUCKET });
    });

    it("names the bucket exactly as production's own render creates it", async () => {
        const production = await renderStack("production");
        const buckets = production.resources.filter((r) => r.type === "aws:s3/bucket:Bucket").map((r) => r.inputs.bucket);
        // The primary, and its copy outside the region (backup-copy.test.ts), each with its access-log bucket.
        assert.deepEqual(buckets, [PRODUCTION_BUCKET, `${PRODUCTION_BUCKET}-us-west-2`, `${PRODUCTION_BUCKET}-us-west-2-logs`, `${PRODUCTION_BUCKET}-logs`]);
    });

    it("creates nothing of production's: its bucket is attached, never managed by the drill", () => {
        const buckets = drill.resources.filter((r) => r.type === "aws:s3/bucket:Bucket").map((r) => r.inputs.bucket);
        assert.deepEqual(buckets, [DRILL_BUCKET, `${DRILL_BUCKET}-us-west-2`, `${DRILL_BUCKET}-us-west-2-logs`, `${DRILL_BUCKET}-logs`]);
        const touching = drill.resources.filter((r) => r.type.startsWith("aws:s3/") && JSON.stringify(r.inputs).includes(PRODUCTION_BUCKET));
        assert.deepEqual(touching.map((r) => r.name), []);
    });

    it("gives the drill's Velero read access to production's backups, and write access only to restores/", () => {
        const policies = drill.resources.filter((r) => r.type === POLICY && String(r.inputs.policy).includes(PRODUCTION_BUCKET));
        assert.equal(policies.length, 1, "one grant on production's bucket");
        const arn = `arn:aws:s3:::${PRODUCTION_BUCKET}`;
        assert.deepEqual(statements(policies[0].inputs.policy), [
            { Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: [arn] },
            { Effect: "Allow", Action: ["s3:GetObject"], Resource: [`${arn}/*`] },
            // Velero uploads the restore's own log and results there (restore_controller.go); the backups stay untouchable.
            { Effect: "Allow", Action: ["s3:PutObject"], Resource: [`${arn}/restores/*`] },
            // Production's backup key, found by the alias production gave it (alias/<bucket>), used through S3 only.
            {
                Effect: "Allow",
                Action: ["kms:Decrypt", "kms:GenerateDataKey"],
                Resource: [`arn:aws:kms:us-east-1:222222222222:key/<computed alias/${PRODUCTION_BUCKET}.keyId>`],
                Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } },
            },
        ]);
    });

    it("restores the latest tenants-daily backup, after both locations", () => {
        const restores = ofKind(drill.resources, "velero.io/v1:Restore");
        assert.equal(restores.length, 1);
        assert.equal((restores[0].inputs.spec as Raw).scheduleName, "tenants-daily");
        const locations = ofKind(addonOf(drill, "drill-aws-use1", "velero").children, BSL);
        assert.equal(locations.length, 2);
        for (const location of locations) assert.ok(restores[0].dependencies.includes(location.urn), `the Restore waits for ${location.name}`);
    });
});

describe("restore.source: config errors", () => {
    const withSource = (source: unknown) => (s: Raw) => {
        s.clusters[0].restore = { schedule: "tenants-daily", source };
    };

    it("an unknown stack, cluster, or a cluster of another cloud: each named with its path, all at once", async () => {
        const error = await renderFixture("dr-drill", (s) => {
            s.clusters[0].restore.source = { stack: "prodution", cluster: "prod-aws-use1" };
            s.clusters.push({ ...structuredClone(s.clusters[0]), name: "drill-two", restore: { schedule: "tenants-daily", source: { stack: "production", cluster: "prod-aws-use2" } } });
            s.clusters.push({ ...structuredClone(s.clusters[0]), name: "drill-three", restore: { schedule: "tenants-daily", source: { stack: "production", cluster: "prod-gcp-euw4" } } });
        }).then(
            () => assert.fail("the render must fail"),
            (e: Error) => e,
        );
        const lines = error.message.split("\n").slice(1);
        assert.equal(lines.length, 3, error.message);
        assert.match(lines[0], /^ {2}- clusters\[0\]\.restore\.source\.stack: no stack file \/\S+\/Pulumi\.prodution\.yaml: the source stack's file must be in the project directory$/);
        assert.equal(lines[1], `  - clusters[1].restore.source.cluster: stack production has no cluster "prod-aws-use2" (its clusters: prod-aws-use1, prod-azure-weu, prod-gcp-euw4)`);
        assert.equal(lines[2], `  - clusters[2].restore.source.cluster: "prod-gcp-euw4" in stack production is a gcp cluster and this one is aws; Velero restores from a store of its own cloud`);
        assert.ok(!/\n\s+at /.test(error.message), "no stack trace");
    });

    it("the cluster's own store, named as a source", async () => {
        await assert.rejects(renderFixture("dr-drill", withSource({ stack: "dr-drill", cluster: "drill-aws-use1" })), /clusters\[0\]\.restore\.source: names this cluster's own store; leave source out to restore from it/);
        await assert.rejects(renderFixture("dr-drill", withSource({ cluster: "drill-aws-use1" })), /clusters\[0\]\.restore\.source: names this cluster's own store/);
    });

    it("the old sourceCluster key and a source without a cluster are schema errors", () => {
        const settings = loadStackSettings("production") as Raw;
        settings.clusters[0].restore = { schedule: "tenants-daily", sourceCluster: "prod-aws-use1" };
        settings.clusters[1].restore = { schedule: "tenants-daily", source: { stack: "production" } };
        const problems = validateSettings(settings).problems;
        assert.equal(problems.length, 2, problems.join("\n"));
        assert.match(problems[0], /^clusters\[0\]\.restore\.sourceCluster: unknown key/);
        assert.match(problems[1], /^clusters\[1\]\.restore\.source\.cluster: /);
    });

    it("a source stack file that is not valid YAML, or whose entry is invalid", () => {
        const dir = fs.mkdtempSync("/tmp/platform-source-");
        fs.writeFileSync(path.join(dir, "Pulumi.broken.yaml"), "config: [unclosed\n");
        fs.writeFileSync(path.join(dir, "Pulumi.odd.yaml"), "config:\n  platform:environment: production\n  platform:clusters:\n    - { name: old-aws, cloud: aws, region: mars-1 }\n");
        const drill = validateSettings(loadStackSettings("production")).settings!.clusters[0];
        const restoring = (stack: string) => ({ ...drill, restore: { schedule: "tenants-daily", fromCopy: false, source: { stack, cluster: "old-aws" } } });
        const { sources, problems } = resolveBackupSources([restoring("broken"), restoring("odd")], "dr-drill", dir);
        assert.equal(sources.size, 0);
        assert.equal(problems.length, 2, problems.join("\n"));
        assert.match(problems[0], /^clusters\[0\]\.restore\.source\.stack: \/tmp\/platform-source-\w+\/Pulumi\.broken\.yaml is not valid YAML \(/);
        assert.match(problems[1], /^clusters\[1\]\.restore\.source\.cluster: "old-aws" in Pulumi\.odd\.yaml is not a valid cluster \(region: must be an AWS region such as us-east-1; /);
    });
});
