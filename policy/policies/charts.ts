import { ResourceValidationPolicy } from "@pulumi/policy";
import { byType, Check, PlatformPolicy } from "../util";

// Exact SemVer 2.0 (an optional leading "v", as some charts tag). No ranges, no "latest".
const EXACT = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

const exactVersion: Check = (props, args, report) => {
    const version = props.version;
    if (version === undefined || version === "") {
        report(`${args.name}: chart ${props.chart ?? "?"} has no version, so Helm installs whatever is newest; pin it in components/versions.ts`);
    } else if (typeof version !== "string" || !EXACT.test(version)) {
        report(`${args.name}: chart ${props.chart ?? "?"} version "${version}" is not an exact version (no ranges such as ^ ~ x > *); pin it in components/versions.ts`);
    }
};

/** Chart versions exact: an upgrade is a reviewed change to versions.ts, never a side effect of a re-run. */
export const chartVersionExact: PlatformPolicy<ResourceValidationPolicy> = {
    name: "helm-chart-version-exact",
    description: "Helm releases install an exact chart version (no range, no default to latest).",
    severity: "high",
    remediationSteps: "Set the exact chart version in components/versions.ts.",
    ...byType({
        "kubernetes:helm.sh/v3:Release": exactVersion,
        "kubernetes:helm.sh/v4:Chart": exactVersion,
    }),
};
