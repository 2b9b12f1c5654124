/**
 * The platform's alert rules: the one source of truth for both the PrometheusRule the
 * cluster gets (monitoring.ts) and the rules file promtool checks and unit-tests
 * (scripts/alert-rules.ts, test/alerts/). Pure data, no Pulumi, so a script can print it.
 *
 * Metrics come from what kube-prometheus-stack scrapes out of the box (node-exporter,
 * kube-state-metrics, kubelet/cAdvisor, the API server) and from the add-ons' own
 * exporters: Envoy proxies (gateway), cert-manager (certificates) and Velero (backups).
 */
import YAML from "yaml";

export type Severity = "warning" | "critical";

export interface AlertRule {
    readonly alert: string;
    readonly expr: string;
    /** How long the condition must hold before the alert fires (absorbs scrape gaps and restarts). */
    readonly for: string;
    readonly labels: { readonly severity: Severity };
    readonly annotations: { readonly summary: string; readonly description: string };
}

export interface AlertRuleGroup {
    readonly name: string;
    readonly rules: readonly AlertRule[];
}

const rule = (alert: string, severity: Severity, forDuration: string, expr: string, summary: string, description: string): AlertRule => ({
    alert,
    expr,
    for: forDuration,
    labels: { severity },
    annotations: { summary, description },
});

// Pseudo and read-only filesystems never fill up in a way anyone can act on.
const realFs = 'fstype!~"tmpfs|overlay|squashfs|ramfs|nsfs",mountpoint!=""';
const DAY = 24 * 3600;

export const alertRuleGroups: readonly AlertRuleGroup[] = [
    {
        name: "node-health",
        rules: [
            rule(
                "NodeDown",
                "critical",
                "5m",
                'kube_node_status_condition{condition="Ready",status="true"} == 0',
                "Node {{ $labels.node }} is not Ready",
                "The kubelet on {{ $labels.node }} has not reported Ready for 5 minutes; its pods are being evicted or are unreachable.",
            ),
            rule(
                "NodeHighCPU",
                "warning",
                "15m",
                '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))) > 90',
                "Node {{ $labels.instance }} CPU above 90%",
                "CPU on {{ $labels.instance }} has been {{ $value | humanize }}% busy for 15 minutes.",
            ),
            rule(
                "NodeHighMemory",
                "warning",
                "15m",
                "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) > 90",
                "Node {{ $labels.instance }} memory above 90%",
                "Memory on {{ $labels.instance }} has been {{ $value | humanize }}% used for 15 minutes; the OOM killer is next.",
            ),
            rule(
                "NodeDiskFillingUp",
                "warning",
                "1h",
                // Trend-based, so a disk that is merely full-ish but stable stays quiet.
                `predict_linear(node_filesystem_avail_bytes{${realFs}}[6h], ${DAY}) < 0 and node_filesystem_avail_bytes{${realFs}} / node_filesystem_size_bytes{${realFs}} < 0.4 and node_filesystem_readonly{${realFs}} == 0`,
                "Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} will be full within 24 hours",
                "At the rate of the last 6 hours, {{ $labels.mountpoint }} on {{ $labels.instance }} runs out of space within a day.",
            ),
            rule(
                "NodeDiskCritical",
                "critical",
                "5m",
                `node_filesystem_avail_bytes{${realFs}} / node_filesystem_size_bytes{${realFs}} < 0.05 and node_filesystem_readonly{${realFs}} == 0`,
                "Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} is over 95% full",
                "Only {{ $value | humanizePercentage }} of {{ $labels.mountpoint }} on {{ $labels.instance }} is free.",
            ),
        ],
    },
    {
        name: "pod-health",
        rules: [
            rule(
                "PodCrashLooping",
                "warning",
                "15m",
                'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1',
                "Container {{ $labels.namespace }}/{{ $labels.pod }}/{{ $labels.container }} is crash looping",
                "The container has been in CrashLoopBackOff for 15 minutes.",
            ),
            rule(
                "PodNotReady",
                "warning",
                "15m",
                // Phase, not the Ready condition: completed Job pods are never Ready and are fine.
                'sum by (namespace, pod) (kube_pod_status_phase{phase=~"Pending|Unknown|Failed"}) > 0',
                "Pod {{ $labels.namespace }}/{{ $labels.pod }} has not been running for 15 minutes",
                "The pod is Pending, Unknown or Failed: check scheduling, image pulls and its events.",
            ),
            rule(
                "PodHighMemory",
                "warning",
                "15m",
                'sum by (namespace, pod, container) (container_memory_working_set_bytes{container!="",container!="POD"}) / sum by (namespace, pod, container) (kube_pod_container_resource_limits{resource="memory"}) > 0.9',
                "Container {{ $labels.namespace }}/{{ $labels.pod }}/{{ $labels.container }} is near its memory limit",
                "Working set is {{ $value | humanizePercentage }} of the memory limit; the container will be OOM-killed.",
            ),
        ],
    },
    {
        // The Kubernetes API server: every controller of the platform and every deploy depends on it.
        name: "api-performance",
        rules: [
            rule(
                "APIHighErrorRate",
                "critical",
                "10m",
                'sum(rate(apiserver_request_total{job="apiserver",code=~"5.."}[5m])) / sum(rate(apiserver_request_total{job="apiserver"}[5m])) > 0.05',
                "Kubernetes API error rate above 5%",
                "{{ $value | humanizePercentage }} of API server requests returned 5xx over the last 5 minutes.",
            ),
            rule(
                "APIHighLatency",
                "warning",
                "10m",
                // WATCH and CONNECT are long-lived by design and would always look slow.
                'histogram_quantile(0.95, sum by (le) (rate(apiserver_request_duration_seconds_bucket{job="apiserver",verb!~"WATCH|CONNECT"}[5m]))) > 1',
                "Kubernetes API p95 latency above 1s",
                "The 95th percentile of API server request latency is {{ $value | humanizeDuration }}.",
            ),
            rule(
                "APIDown",
                "critical",
                "5m",
                'absent(up{job="apiserver"} == 1)',
                "Kubernetes API server unreachable",
                "Prometheus has not been able to scrape any API server endpoint for 5 minutes.",
            ),
        ],
    },
    {
        name: "storage",
        rules: [
            rule(
                "PersistentVolumeUsageHigh",
                "warning",
                "5m",
                "kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes > 0.8",
                "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is over 80% full",
                "{{ $value | humanizePercentage }} of the volume is used.",
            ),
            rule(
                "PersistentVolumeUsageCritical",
                "critical",
                "5m",
                "kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes > 0.9",
                "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is over 90% full",
                "{{ $value | humanizePercentage }} of the volume is used; expand it now.",
            ),
        ],
    },
    {
        // Envoy proxies of the shared Gateway, as clients see them (downstream).
        name: "gateway",
        rules: [
            rule(
                "GatewayHighErrorRate",
                "critical",
                "10m",
                'sum by (namespace) (rate(envoy_http_downstream_rq_xx{envoy_response_code_class="5"}[5m])) / sum by (namespace) (rate(envoy_http_downstream_rq_xx[5m])) > 0.05',
                "Gateway 5xx rate above 5% in {{ $labels.namespace }}",
                "{{ $value | humanizePercentage }} of requests through the gateway returned 5xx over the last 5 minutes.",
            ),
        ],
    },
    {
        name: "certificates",
        rules: [
            rule(
                "CertificateExpiringSoon",
                "warning",
                "15m",
                `certmanager_certificate_expiration_timestamp_seconds - time() < ${7 * DAY}`,
                "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 7 days",
                "cert-manager renews 30 days ahead by default; a certificate this close to expiry is failing to renew. It expires in {{ $value | humanizeDuration }}.",
            ),
            rule(
                "CertificateExpiryCritical",
                "critical",
                "5m",
                `certmanager_certificate_expiration_timestamp_seconds - time() < ${2 * DAY}`,
                "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 2 days",
                "It expires in {{ $value | humanizeDuration }}; check the Certificate's events and the issuer.",
            ),
        ],
    },
    {
        name: "backups",
        rules: [
            rule(
                "VeleroBackupFailed",
                "critical",
                "0m",
                "increase(velero_backup_failure_total[1h]) > 0 or increase(velero_backup_partial_failure_total[1h]) > 0",
                "A Velero backup of schedule {{ $labels.schedule }} failed",
                "At least one backup failed or partially failed in the last hour: `velero backup describe` the latest one.",
            ),
            rule(
                "VeleroNoRecentBackup",
                "critical",
                "10m",
                // Daily schedules plus two hours of slack; manual backups (no schedule) are not tracked.
                `time() - velero_backup_last_successful_timestamp{schedule!=""} > ${26 * 3600}`,
                "No successful backup of schedule {{ $labels.schedule }} for 26 hours",
                "The last successful backup is {{ $value | humanizeDuration }} old; a restore now would lose more than a day.",
            ),
        ],
    },
];

/** Every alert name, in order. */
export const alertNames = (): string[] => alertRuleGroups.flatMap((g) => g.rules.map((r) => r.alert));

/** The groups as a Prometheus rules file (what promtool reads). */
export function rulesFileYaml(): string {
    return YAML.stringify({ groups: alertRuleGroups }, { lineWidth: 0 });
}
