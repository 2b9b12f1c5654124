/**
 * The platform's Falco rules for two workload profiles: API containers and PostgreSQL
 * containers. Loaded after Falco's own `falco_rules.yaml` (falco-rules 5.1.0), whose macros
 * `spawned_process`, `open_read`, `open_write`, `container` and `outbound` they reuse;
 * everything else they need is defined here with a `platform_` prefix, so a user can extend
 * a list with Falco's `override: { items: append }` instead of editing the rule.
 *
 * Falco sees system calls, not SQL or HTTP: "superuser creation" watches the client tools
 * that create one, "brute force" the tools and local logins an attacker would use, and
 * "failed connections" refused or unreachable connects. Protocol-level failures (bad
 * passwords, HTTP 401 floods) belong to PostgreSQL's logs and the gateway's metrics.
 */
import YAML from "yaml";

type Priority = "CRITICAL" | "ERROR" | "WARNING" | "NOTICE";
interface FalcoList { list: string; items: string[] }
interface FalcoMacro { macro: string; condition: string }
interface FalcoRule { rule: string; desc: string; condition: string; output: string; priority: Priority; tags: string[] }

const list = (name: string, items: string[]): FalcoList => ({ list: name, items });
const macro = (name: string, condition: string): FalcoMacro => ({ macro: name, condition });
const context = "pod=%k8s.ns.name/%k8s.pod.name container=%container.name image=%container.image.repository user=%user.name process=%proc.name parent=%proc.pname command=%proc.cmdline";

function rule(profile: "api" | "postgres", name: string, priority: Priority, desc: string, condition: string, what: string, mitre: string[]): FalcoRule {
    return { rule: name, desc, condition, output: `${what} | ${context}`, priority, tags: ["platform", profile, ...mitre] };
}

const definitions: (FalcoList | FalcoMacro)[] = [
    // Which containers are which: the label the platform documents, or the usual conventions.
    macro("platform_api_container", "(container and (k8s.pod.label[platform.example.io/falco-profile] = api or k8s.pod.label[app.kubernetes.io/component] = api))"),
    list("platform_postgres_images", ["postgres", "postgresql", "docker.io/library/postgres", "docker.io/bitnami/postgresql", "ghcr.io/cloudnative-pg/postgresql"]),
    macro(
        "platform_postgres_container",
        "(container and (k8s.pod.label[platform.example.io/falco-profile] = postgres or k8s.pod.label[app.kubernetes.io/name] in (postgres, postgresql) or container.image.repository in (platform_postgres_images) or container.image.repository endswith '/postgres' or container.image.repository endswith '/postgresql'))",
    ),
    // API workloads: the runtimes an API is started with. Extend for yours.
    list("platform_api_processes", ["node", "python", "python3", "gunicorn", "uvicorn", "java", "dotnet", "ruby", "puma", "php-fpm", "nginx", "envoy", "api", "server"]),
    list("platform_api_config_dirs", ["/etc", "/app/config", "/config", "/usr/src/app/config"]),
    list("platform_api_allowed_networks", []),
    list("platform_api_allowed_ports", []),
    list("platform_package_managers", ["apt", "apt-get", "aptitude", "dpkg", "yum", "dnf", "microdnf", "rpm", "apk", "pip", "pip3", "npm", "yarn", "pnpm", "gem", "composer", "go"]),
    list("platform_binary_dirs", ["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/lib", "/usr/lib", "/usr/local/lib"]),
    list("platform_sensitive_dirs", ["/root", "/etc/ssh", "/etc/kubernetes", "/var/lib/kubelet", "/host", "/proc/1/root"]),
    list("platform_bruteforce_tools", ["hydra", "medusa", "ncrack", "patator", "john", "hashcat", "crackmapexec", "su", "sudo", "login", "passwd", "chpasswd"]),
    macro(
        "platform_credential_files",
        "(fd.name in (sensitive_file_names) or fd.name pmatch (/var/run/secrets, /run/secrets) or fd.name contains '/.aws/' or fd.name contains '/.ssh/' or fd.name contains '/.kube/' or fd.name endswith '.pem' or fd.name endswith '.key')",
    ),
    // PostgreSQL: the server, its tools and the usual backup agents.
    list("platform_postgres_server_processes", ["postgres", "postmaster", "initdb", "pg_ctl", "pg_basebackup", "pg_rewind", "pg_checksums", "pgbackrest", "wal-g", "barman-cloud-wal-archive", "barman-cloud-backup", "patroni"]),
    list("platform_postgres_processes", ["postgres", "postmaster", "initdb", "pg_ctl", "pg_isready", "pg_basebackup", "pg_dump", "pg_dumpall", "pg_restore", "pg_rewind", "psql", "pgbackrest", "wal-g", "patroni", "docker-entrypoi", "gosu"]),
    list("platform_postgres_users", ["postgres"]),
    list("platform_postgres_data_dirs", ["/var/lib/postgresql", "/var/lib/pgsql", "/pgdata", "/bitnami/postgresql", "/home/postgres/pgdata"]),
    list("platform_postgres_config_files", ["postgresql.conf", "postgresql.auto.conf", "pg_hba.conf", "pg_ident.conf"]),
    list("platform_postgres_replication_files", ["standby.signal", "recovery.signal", "recovery.conf"]),
    list("platform_postgres_backup_dirs", ["/backups", "/var/lib/pgbackrest", "/var/lib/postgresql/backups", "/pgbackrest"]),
    list("platform_network_scanners", ["nmap", "masscan", "zmap", "nc", "ncat", "netcat", "socat", "hping3", "telnet"]),
    // The official image's entrypoint prepares the data directory as root before it execs postgres.
    macro("platform_postgres_startup", "(proc.pname = docker-entrypoi or proc.aname[2] = docker-entrypoi)"),
    macro(
        "platform_postgres_data_path",
        "(fd.name pmatch (platform_postgres_data_dirs) or fs.path.name pmatch (platform_postgres_data_dirs) or fs.path.source pmatch (platform_postgres_data_dirs) or fs.path.target pmatch (platform_postgres_data_dirs))",
    ),
];

export const apiRules: FalcoRule[] = [
    rule("api", "API Container Credential Access", "WARNING", "A process other than the API runtime read credentials: service account tokens, mounted secrets, keys or cloud credentials.",
        "open_read and platform_api_container and platform_credential_files and not proc.name in (platform_api_processes)",
        "Credentials read in an API container (file=%fd.name)", ["mitre_credential_access", "T1552"]),
    rule("api", "API Container Config Modification", "WARNING", "Configuration of an API container was written at run time; images are immutable, so this is tampering or drift.",
        "open_write and platform_api_container and fd.name pmatch (platform_api_config_dirs)",
        "Configuration written in an API container (file=%fd.name)", ["mitre_persistence", "T1543"]),
    rule("api", "API Container Unexpected Process", "WARNING", "A process outside the API's runtimes started in an API container (shells, downloaders, interpreters an attacker brings).",
        "spawned_process and platform_api_container and not proc.name in (platform_api_processes)",
        "Unexpected process in an API container", ["mitre_execution", "T1059"]),
    rule("api", "API Container Sensitive Directory Access", "WARNING", "An API container read a directory no API needs: root's home, SSH or kubelet configuration, the host's filesystem.",
        "open_read and platform_api_container and fd.name pmatch (platform_sensitive_dirs)",
        "Sensitive directory read in an API container (file=%fd.name)", ["mitre_discovery", "T1083"]),
    rule("api", "API Container Package Manager Run", "ERROR", "A package manager ran in an API container: software is being installed into a running, immutable image.",
        "spawned_process and platform_api_container and proc.name in (platform_package_managers)",
        "Package manager run in an API container", ["mitre_persistence", "T1072"]),
    rule("api", "API Container Binary Modification", "CRITICAL", "A binary or library directory of an API container was written to: a dropped or replaced executable.",
        "open_write and platform_api_container and fd.name pmatch (platform_binary_dirs)",
        "Binary directory written in an API container (file=%fd.name)", ["mitre_defense_evasion", "T1036"]),
    rule("api", "API Container Unexpected Outbound Connection", "NOTICE", "An API container connected to a public address outside the allowed networks and ports (in-cluster traffic is private and not reported).",
        "outbound and platform_api_container and not fd.snet in (platform_api_allowed_networks) and not fd.sport in (platform_api_allowed_ports)",
        "Unexpected outbound connection from an API container (connection=%fd.name)", ["mitre_exfiltration", "mitre_command_and_control", "T1041"]),
    rule("api", "API Container Brute Force Attempt", "ERROR", "A password-guessing tool or a local login (su, sudo, passwd) ran in an API container.",
        "spawned_process and platform_api_container and proc.name in (platform_bruteforce_tools)",
        "Brute force tool or local login in an API container", ["mitre_credential_access", "T1110"]),
];

export const postgresRules: FalcoRule[] = [
    rule("postgres", "PostgreSQL Direct Data File Access", "CRITICAL", "A process other than the PostgreSQL server or its backup agents opened the data directory, bypassing authentication and audit.",
        "(open_read or open_write) and platform_postgres_container and fd.name pmatch (platform_postgres_data_dirs) and not proc.name in (platform_postgres_server_processes) and not platform_postgres_startup",
        "PostgreSQL data file opened directly (file=%fd.name)", ["mitre_collection", "T1005"]),
    rule("postgres", "PostgreSQL Config Change", "WARNING", "postgresql.conf, postgresql.auto.conf (ALTER SYSTEM), pg_hba.conf or pg_ident.conf was written after initialisation.",
        "open_write and platform_postgres_container and fd.filename in (platform_postgres_config_files) and proc.name != initdb and not platform_postgres_startup",
        "PostgreSQL configuration written (file=%fd.name)", ["mitre_persistence", "mitre_defense_evasion", "T1556"]),
    rule("postgres", "PostgreSQL Unexpected Process", "WARNING", "A process that is neither the server nor a PostgreSQL tool started in a PostgreSQL container.",
        "spawned_process and platform_postgres_container and not proc.name in (platform_postgres_processes) and not platform_postgres_startup",
        "Unexpected process in a PostgreSQL container", ["mitre_execution", "T1059"]),
    rule("postgres", "PostgreSQL Backup Tampering", "CRITICAL", "Backups or the WAL were written, deleted or renamed by something other than the server or its backup agents.",
        "(open_write or evt.type in (unlink, unlinkat, rename, renameat, renameat2, truncate, ftruncate)) and platform_postgres_container and (fd.name pmatch (platform_postgres_backup_dirs) or fs.path.name pmatch (platform_postgres_backup_dirs) or fd.name contains '/pg_wal/' or fs.path.name contains '/pg_wal/') and not proc.name in (platform_postgres_server_processes)",
        "PostgreSQL backup or WAL tampered with (file=%fd.name path=%fs.path.name)", ["mitre_impact", "T1490"]),
    rule("postgres", "PostgreSQL Non-Postgres User", "WARNING", "A process in a PostgreSQL container runs as a user other than postgres (for example root through kubectl exec).",
        "spawned_process and platform_postgres_container and not user.name in (platform_postgres_users) and not platform_postgres_startup",
        "Process running as a non-postgres user in a PostgreSQL container", ["mitre_privilege_escalation", "T1078"]),
    rule("postgres", "PostgreSQL Data Directory Change", "ERROR", "The data directory's layout, owner or permissions changed outside the server: moved, removed, re-owned or linked elsewhere.",
        "evt.type in (mkdir, mkdirat, rmdir, rename, renameat, renameat2, symlink, symlinkat, chmod, fchmodat, chown, lchown, fchownat) and platform_postgres_container and platform_postgres_data_path and not proc.name in (platform_postgres_server_processes) and not platform_postgres_startup",
        "PostgreSQL data directory changed (path=%fs.path.name source=%fs.path.source target=%fs.path.target)", ["mitre_impact", "T1485"]),
    rule("postgres", "PostgreSQL Port Scan", "ERROR", "A network scanner ran in a PostgreSQL container, or a process other than PostgreSQL's own opened connections from it.",
        "platform_postgres_container and ((spawned_process and proc.name in (platform_network_scanners)) or (evt.type = connect and (fd.typechar = 4 or fd.typechar = 6) and not proc.name in (platform_postgres_processes)))",
        "Port scan from a PostgreSQL container (connection=%fd.name)", ["mitre_discovery", "T1046"]),
    rule("postgres", "PostgreSQL Superuser Creation", "CRITICAL", "createuser --superuser, or psql with a SUPERUSER statement, ran in a PostgreSQL container.",
        "spawned_process and platform_postgres_container and ((proc.name = createuser and (proc.args contains '--superuser' or proc.args contains ' -s' or proc.args startswith '-s')) or (proc.name = psql and proc.cmdline icontains 'superuser' and not proc.cmdline icontains 'nosuperuser'))",
        "PostgreSQL superuser created", ["mitre_persistence", "mitre_privilege_escalation", "T1136"]),
    rule("postgres", "PostgreSQL Replication Config Change", "ERROR", "standby.signal, recovery.signal or recovery.conf was written: the server is being turned into a replica of another host.",
        "open_write and platform_postgres_container and fd.filename in (platform_postgres_replication_files) and not platform_postgres_startup",
        "PostgreSQL replication configuration written (file=%fd.name)", ["mitre_exfiltration", "T1020"]),
    rule("postgres", "PostgreSQL Failed Connections", "NOTICE", "A connection from a PostgreSQL container was refused or could not reach its peer (replication, scanning, a broken peer).",
        "evt.type = connect and (fd.typechar = 4 or fd.typechar = 6) and evt.rawres < 0 and not evt.res = EINPROGRESS and platform_postgres_container",
        "Failed connection from a PostgreSQL container (connection=%fd.name result=%evt.res)", ["mitre_discovery", "T1046"]),
];

/** Everything the platform adds, in load order: definitions before the rules that use them. */
export const falcoRuleItems = (): (FalcoList | FalcoMacro | FalcoRule)[] => [...definitions, ...apiRules, ...postgresRules];

/** The rules file the chart's `customRules` mounts into /etc/falco/rules.d. */
export function falcoRulesYaml(): string {
    return YAML.stringify(falcoRuleItems(), { lineWidth: 0 });
}
