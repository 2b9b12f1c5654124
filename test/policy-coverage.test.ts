/**
 * The pack and the mocks fail closed on resource types: a type no policy inspects must be
 * listed as not policed (with the reason), a type the mocks cannot answer for is refused, and
 * the two lists agree, so a new resource type fails here until someone decides both.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { checkRender, ResourceInput, runPolicy } from "../policy/offline";
import { isOwnComponent, knownTypes, NOT_POLICED, resourceTypesKnown } from "../policy/policies/coverage";
import { guards } from "../policy/policies";
import { computedOutputs, echoedTypes } from "../scripts/mock-cloud";
import { record, renderStack, stackConfig } from "./mocks";

const res = (type: string, name: string): ResourceInput => ({ type, name, urn: `urn:pulumi:s::platform::${type}::${name}`, inputs: {} });
const inspected = new Set(guards.flatMap((p) => p.inspects));

describe("policy: resource-type-known", () => {
    it("refuses, once per type, a type no policy inspects and NOT_POLICED does not list; passes known types and the program's components", async () => {
        const found = await runPolicy(resourceTypesKnown(guards), [
            res("newcloud:compute/cluster:Cluster", "a"),
            res("newcloud:compute/cluster:Cluster", "b"),
            res("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "admin"),
            res("aws:eks/cluster:Cluster", "inspected"),
            res("aws:ec2/vpc:Vpc", "listed"),
            res("platform:clusters:EksCluster", "component"),
        ]);
        assert.deepEqual(found, [
            {
                message: "newcloud:compute/cluster:Cluster (2 resources) is neither inspected by a policy nor listed as not policed: decide how it is policed (policy/policies/coverage.ts)",
                urn: "urn:pulumi:s::platform::newcloud:compute/cluster:Cluster::a",
            },
            {
                message: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole (1 resource) is neither inspected by a policy nor listed as not policed: decide how it is policed (policy/policies/coverage.ts)",
                urn: "urn:pulumi:s::platform::kubernetes:rbac.authorization.k8s.io/v1:ClusterRole::admin",
            },
        ]);
    });

    it("is part of the pack: an unknown type in a production render is a mandatory violation", async () => {
        const found = await checkRender({ stack: "production", resources: [{ ...res("newcloud:compute/vm:Vm", "vm"), urn: "urn:pulumi:production::platform::newcloud:compute/vm:Vm::vm" } as never] });
        assert.deepEqual(found.map((v) => [v.policy, v.level]), [["resource-type-known", "mandatory"]]);
    });

    // Distinct custom resource types per stack (components and providers included in the render).
    // Staging and production: +3 for the Gateway's DNS record types (Route 53, Azure DNS, Cloud DNS),
    // +1 for the backup stores' S3 access logging (BucketLogging; the other new resources are of known types).
    const TYPES: Record<string, number> = { local: 26, staging: 98, production: 102 };
    for (const [stack, count] of Object.entries(TYPES)) {
        it(`${stack}: every resource type of the render is inspected by a policy or listed as not policed`, async () => {
            const doc = await renderStack(stack);
            const types = new Set(doc.resources.filter((r) => !isOwnComponent(r.type)).map((r) => r.type));
            assert.equal(types.size, count);
            assert.deepEqual([...types].filter((t) => !knownTypes(guards).has(t)), []);
            assert.deepEqual((await checkRender(doc)).filter((v) => v.policy === "resource-type-known"), []);
        });
    }

    it("no type is both inspected and listed as not policed, and every reason says something", () => {
        assert.deepEqual(Object.keys(NOT_POLICED).filter((t) => inspected.has(t)), []);
        for (const [type, why] of Object.entries(NOT_POLICED)) assert.ok(why.length > 30, `${type}: "${why}"`);
    });
});

describe("mock cloud: known resource types only", () => {
    it("refuses a resource type it cannot answer for, naming the type and the resource", async () => {
        class Vm extends pulumi.CustomResource {
            constructor() {
                super("newcloud:compute/vm:Vm", "vm-1", { size: "large" });
            }
        }
        await assert.rejects(
            record("unit", stackConfig({}), () => new Vm()),
            { message: "mock-cloud: unknown resource type newcloud:compute/vm:Vm (vm-1): add what its cloud computes to computedOutputs, or the type to echoedTypes, in scripts/mock-cloud.ts" },
        );
    });

    it("needs no entry for the program's components", async () => {
        class Thing extends pulumi.ComponentResource {
            constructor() {
                super("platform:test:Thing", "thing");
            }
        }
        const doc = await record("unit", stackConfig({}), () => new Thing());
        assert.deepEqual(doc.resources.map((r) => r.type), ["platform:test:Thing"]);
    });

    it("no type is both computed and echoed", () => {
        assert.deepEqual(Object.keys(computedOutputs).filter((t) => echoedTypes.has(t)), []);
    });

    it("agrees with the pack: every type the mocks know is inspected or listed as not policed, and every listed type is one the mocks know", () => {
        const mocked = new Set([...Object.keys(computedOutputs), ...echoedTypes]);
        assert.deepEqual([...mocked].filter((t) => !knownTypes(guards).has(t)).sort(), []);
        // The stack itself is the engine's, never a mocked resource.
        assert.deepEqual(Object.keys(NOT_POLICED).filter((t) => !mocked.has(t)), ["pulumi:pulumi:Stack"]);
    });
});
