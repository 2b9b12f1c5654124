/**
 * What the platform tier does with each chart hook it meets (chart-hooks.ts). Job names are
 * the charts' with the program's release names; docs/integration.md has the same table.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { ControlPlane } from "./control-plane";
import { HookDecision, Job, jobCommand } from "./chart-hooks";

const KYVERNO_WEBHOOKS = "webhook.kyverno.io/managed-by=kyverno";

/** Kyverno 3.9.0's pre-delete hooks (templates/hooks/pre-delete-*.yaml), both run by `kyverno-readiness-checker`. */
export function kyvernoHooks(cp: ControlPlane, stopAdmissionController: () => Promise<void>): HookDecision[] {
    return [
        {
            job: "kyverno/kyverno-scale-to-zero",
            reason: "scales Kyverno's Deployments to zero before the uninstall (scale-deploy); here the admission controller is a host process, so it is stopped, and the Deployments are scaled as the hook does",
            work: async () => {
                await stopAdmissionController();
                for (const name of cp.kubectl("get", "deployments", "-n", "kyverno", "-l", "app.kubernetes.io/part-of=kyverno", "-o", "name").split("\n").filter(Boolean)) {
                    cp.kubectl("scale", "-n", "kyverno", name, "--replicas=0");
                }
            },
        },
        {
            job: "kyverno/kyverno-rm-webhooks",
            // cmd/readiness-checker/main.go runDeleteWebhooks at v1.19.0: the validating loop deletes ValidatingAdmissionPolicies of the configurations' names.
            reason: `delete-webhooks: deletes the MutatingWebhookConfigurations labelled ${KYVERNO_WEBHOOKS}, and for each such ValidatingWebhookConfiguration a ValidatingAdmissionPolicy of the same name (upstream v1.19.0 as written: the validating configurations themselves stay); done here the same way`,
            work: () => {
                cp.kubectl("delete", "mutatingwebhookconfigurations", "-l", KYVERNO_WEBHOOKS, "--ignore-not-found");
                for (const name of cp.kubectl("get", "validatingwebhookconfigurations", "-l", KYVERNO_WEBHOOKS, "-o", "jsonpath={.items[*].metadata.name}").split(" ").filter(Boolean)) {
                    cp.kubectl("delete", "validatingadmissionpolicy", name, "--ignore-not-found");
                }
            },
        },
    ];
}

/** Kyverno's webhook configurations that outlive its uninstall (see the hook above). */
export function leftoverKyvernoWebhooks(cp: ControlPlane): string[] {
    return cp.kubectl("get", "validatingwebhookconfigurations,mutatingwebhookconfigurations", "-l", KYVERNO_WEBHOOKS, "-o", "name").split("\n").filter(Boolean);
}

/**
 * Velero 12.1.0's pre-install/pre-upgrade hook (templates/upgrade-crds/upgrade-crds.yaml), on
 * by the chart's default `upgradeCRDs: true`, as every stack has it: done by the built
 * `velero`, with the Job's own arguments.
 */
export function veleroHooks(cp: ControlPlane, bin: string): HookDecision[] {
    return [
        {
            job: "velero/velero-upgrade-crds",
            reason: "applies Velero's CRDs of the server's version (velero install --crds-only --apply); run here by the built velero with the Job's own arguments",
            work: (job: Job) => {
                const command = jobCommand(job);
                if (command[0] !== "/velero" || command[1] !== "install" || !command.includes("--crds-only")) throw new Error(`${job.metadata.name} runs ${command.join(" ")}, not velero install --crds-only`);
                execFileSync(path.join(bin, "velero"), command.slice(1), { env: { ...process.env, KUBECONFIG: cp.kubeconfig }, stdio: ["ignore", "pipe", "pipe"] });
            },
        },
    ];
}
