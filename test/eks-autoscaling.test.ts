/**
 * EKS pools scale and HPAs have metrics: cluster-autoscaler (image of the cluster's minor,
 * discovering this cluster's node groups, an IRSA role that may resize only them) and
 * metrics-server on every EKS cluster; on AKS, GKE and the adopted cluster neither (their
 * clouds, or owners, do it). Expected values are written out from the stack files.
 */
import { strict as assert } from "assert";
import { CLUSTER_GAPS } from "../components/clusters/gaps";
import { addons } from "../components/platform/addons";
import { clusterAutoscalerImages, kubernetesVersions } from "../components/versions";
import { RenderDocument } from "../scripts/render-program";
import { renderStack } from "./mocks";
import { RESOURCELESS_READS } from "./platform-helpers";
import { Raw, RELEASE } from "./tenancy-helpers";

const releases = (doc: RenderDocument, chart: string) => doc.resources.filter((r) => r.type === RELEASE && r.inputs.chart === chart);
const EKS = { staging: { cluster: "stg-aws-use1", account: "111111111111" }, production: { cluster: "prod-aws-use1", account: "222222222222" } };
/** Each EKS pool's bounds as the stack files write them: `[minSize, maxSize]`. */
const POOL_BOUNDS: Record<string, Record<string, [number, number]>> = {
    staging: { system: [2, 3], general: [1, 5] },
    production: { system: [3, 6], general: [3, 30], batch: [0, 20] },
};

describe("EKS autoscaling: what each cloud lacks (the cluster contract)", () => {
    it("EKS lacks a node autoscaler and resource metrics; AKS and GKE have both; an adopted cluster is its owner's", () => {
        assert.deepEqual(CLUSTER_GAPS, { aws: ["nodeAutoscaler", "resourceMetrics"], azure: [], gcp: [], existing: [] });
        assert.deepEqual([addons.clusterAutoscaler.fills, addons.metricsServer.fills], ["nodeAutoscaler", "resourceMetrics"]);
    });
});

describe("EKS autoscaling: the pins", () => {
    it("cluster-autoscaler chart 9.59.0 and metrics-server chart 3.13.1, from their repositories", () => {
        assert.deepEqual(addons.clusterAutoscaler.chart, { chart: "cluster-autoscaler", version: "9.59.0", repo: "https://kubernetes.github.io/autoscaler" });
        assert.deepEqual(addons.metricsServer.chart, { chart: "metrics-server", version: "3.13.1", repo: "https://kubernetes-sigs.github.io/metrics-server/" });
    });

    it("an autoscaler image for every Kubernetes minor an EKS cluster may run, each the matching minor", () => {
        assert.deepEqual(Object.keys(clusterAutoscalerImages).sort(), [...kubernetesVersions.aws].sort());
        for (const [minor, tag] of Object.entries(clusterAutoscalerImages)) assert.match(tag, new RegExp(`^v${minor.replace(".", "\\.")}\\.\\d+$`), minor);
    });
});

for (const [stack, { cluster, account }] of Object.entries(EKS)) {
    describe(`EKS autoscaling (${stack})`, () => {
        let doc: RenderDocument;
        before(async () => {
            doc = await renderStack(stack);
        });

        it("cluster-autoscaler only on the EKS cluster: this cluster's node groups, the image of its minor (1.33)", () => {
            const found = releases(doc, "cluster-autoscaler");
            assert.deepEqual(found.map((r) => r.name), [`${cluster}-platform-cluster-autoscaler-release`]);
            const [release] = found;
            assert.equal(release.inputs.version, "9.59.0");
            assert.equal(release.inputs.namespace, "cluster-autoscaler");
            const values = release.inputs.values as Raw;
            assert.deepEqual(
                { cloudProvider: values.cloudProvider, awsRegion: values.awsRegion, autoDiscovery: values.autoDiscovery, image: values.image },
                { cloudProvider: "aws", awsRegion: "us-east-1", autoDiscovery: { clusterName: cluster }, image: { tag: "v1.33.6" } },
            );
            assert.equal(values.extraArgs.expander, "least-waste");
            assert.deepEqual(values.securityContext, { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } });
        });

        it("the node groups it discovers keep the stack file's bounds, and their size is the autoscaler's (the system pool never below its minimum)", () => {
            const groups = doc.resources.filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup" && r.name.startsWith(`${cluster}-`));
            const bounds = Object.fromEntries(groups.map((g) => [g.name.slice(cluster.length + 1), [(g.inputs.scalingConfig as Raw).minSize, (g.inputs.scalingConfig as Raw).maxSize]]));
            assert.deepEqual(bounds, POOL_BOUNDS[stack]);
            // Pulumi never resets the size the autoscaler chose; the autoscaler only sets the desired size within the bounds.
            for (const group of groups) assert.deepEqual(group.ignoreChanges, ["scalingConfig.desiredSize"], group.name);
            const values = releases(doc, "cluster-autoscaler")[0].inputs.values as Raw;
            // Discovery by the tags EKS puts on this cluster's groups, no fixed group list (which would carry its own bounds).
            assert.deepEqual([values.autoDiscovery, values.autoscalingGroups], [{ clusterName: cluster }, undefined]);
            assert.equal(values.extraArgs["skip-nodes-with-system-pods"], true);
        });

        it("its service account assumes a role trusted by that one service account, allowed to resize only this cluster's tagged node groups", () => {
            const [release] = releases(doc, "cluster-autoscaler");
            const sa = (release.inputs.values as Raw).rbac.serviceAccount;
            assert.equal(sa.name, "cluster-autoscaler");
            const role = doc.resources.find((r) => r.type === "aws:iam/role:Role" && r.name === `${cluster}-cluster-autoscaler-cluster-autoscaler-irsa`)!;
            assert.equal(sa.annotations["eks.amazonaws.com/role-arn"], `arn:aws:iam::${account}:role/${role.inputs.name}`);
            const trust = JSON.parse(role.inputs.assumeRolePolicy as string);
            assert.match(JSON.stringify(trust.Statement[0].Condition.StringEquals), /"[^"]+:sub":"system:serviceaccount:cluster-autoscaler:cluster-autoscaler"/);
            const policies = doc.resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.startsWith(`${cluster}-cluster-autoscaler-`));
            assert.equal(policies.length, 1);
            assert.deepEqual(JSON.parse(policies[0].inputs.policy as string).Statement, [
                {
                    Effect: "Allow",
                    Action: RESOURCELESS_READS,
                    Resource: ["*"],
                },
                {
                    Effect: "Allow",
                    Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                    Resource: [`arn:aws:autoscaling:us-east-1:${account}:autoScalingGroup:*:autoScalingGroupName/eks-*`],
                    Condition: { StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true", [`aws:ResourceTag/k8s.io/cluster-autoscaler/${cluster}`]: "owned" } },
                },
                { Effect: "Allow", Action: ["eks:DescribeNodegroup"], Resource: [`arn:aws:eks:us-east-1:${account}:nodegroup/${cluster}/*/*`] },
            ]);
        });

        it("metrics-server only on the EKS cluster", () => {
            const found = releases(doc, "metrics-server");
            assert.deepEqual(found.map((r) => [r.name, r.inputs.version, r.inputs.namespace]), [[`${cluster}-platform-metrics-server-release`, "3.13.1", "metrics-server"]]);
            assert.equal((found[0].inputs.values as Raw).replicas, stack === "production" ? 2 : 1);
        });
    });
}

describe("EKS autoscaling (local)", () => {
    it("neither on the adopted cluster: its owner decides", async () => {
        const doc = await renderStack("local");
        assert.ok(releases(doc, "velero").length + releases(doc, "kyverno").length > 0, "the local render holds the platform's releases");
        assert.deepEqual([...releases(doc, "cluster-autoscaler"), ...releases(doc, "metrics-server")], []);
    });
});
