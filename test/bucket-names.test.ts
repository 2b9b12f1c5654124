/**
 * Bucket names within S3's and GCS's 63 characters: the copy outside the region and the access
 * log bucket are named after the backup bucket, which with a 40-character cluster name (the
 * longest config allows) and a long region would not fit, and S3 would refuse it only at `up`.
 */
import { strict as assert } from "assert";
import { relatedBucketName } from "../components/clusters/shared";
import { readStackConfig, RenderDocument, renderProgram } from "../scripts/render-program";
import { editedStackFile } from "./mocks";

/** S3's rule for a name without dots, which is also GCS's: 3-63 of a-z, 0-9 and '-', a letter or digit at each end. */
const VALID_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const LONG_AWS = "a".repeat(32) + "-aws-ap1";
const LONG_GCP = "g".repeat(32) + "-gcp-na1";

const bucketNames = (doc: RenderDocument) => ({
    s3: doc.resources.filter((r) => r.type === "aws:s3/bucket:Bucket").map((r) => String(r.inputs.bucket)),
    gcs: doc.resources.filter((r) => r.type === "gcp:storage/bucket:Bucket").map((r) => String(r.inputs.name)),
});

describe("bucket names within 63 characters", () => {
    it("a name that fits is the backup bucket's name and the suffix, as every existing stack has it", () => {
        assert.equal(relatedBucketName("velero-prod-aws-use1-7182b097", "us-west-2"), "velero-prod-aws-use1-7182b097-us-west-2");
        assert.equal(relatedBucketName("velero-prod-aws-use1-7182b097", "logs"), "velero-prod-aws-use1-7182b097-logs");
    });

    it("production with 40-character cluster names and the longest regions: every bucket name valid and distinct", async () => {
        const file = editedStackFile("production", (s: any) => {
            const [aws, , gcp] = s.clusters;
            assert.deepEqual([aws.name, gcp.name], ["prod-aws-use1", "prod-gcp-euw4"]);
            Object.assign(aws, { name: LONG_AWS, region: "ap-southeast-1", backupCopyRegion: "ap-southeast-2" });
            Object.assign(gcp, { name: LONG_GCP, region: "northamerica-northeast1", backupCopyRegion: "northamerica-northeast2" });
            for (const tenant of s.tenants) tenant.clusters = tenant.clusters?.map((c: string) => ({ "prod-aws-use1": LONG_AWS, "prod-gcp-euw4": LONG_GCP })[c] ?? c);
        });
        const { s3, gcs } = bucketNames(await renderProgram("production", readStackConfig(file)));
        // The store, its copy, and each one's access log bucket, on both clouds.
        assert.equal(s3.length, 4, s3.join(", "));
        assert.equal(gcs.length, 4, gcs.join(", "));
        for (const name of [...s3, ...gcs]) assert.match(name, VALID_BUCKET, `${name} (${name.length} characters)`);
        assert.equal(new Set([...s3, ...gcs]).size, 8, "two buckets share a name");
        // The copy keeps its store's name up to where it must be cut: found by a reader of the plan.
        for (const name of s3) assert.ok(name.startsWith(`velero-${LONG_AWS}-`), name);
        for (const name of gcs) assert.ok(name.startsWith(`velero-${LONG_GCP}-`), name);
    });
});
