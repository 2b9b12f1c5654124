#!/usr/bin/env bash
# Checks the platform's alert rules with promtool: `check rules` on the rules file written
# from components/platform/alert-rules.ts (the same groups the PrometheusRule carries), then
# `test rules` on test/alerts/*.test.yaml.
#
# promtool comes from PATH, or $PROMTOOL, or else from Debian's `prometheus` package: only
# the promtool binary is unpacked into .tools/ (git-ignored) (no service, no dependencies), which takes
# seconds on a fresh machine and is reused afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

promtool_bin() {
  if [[ -n "${PROMTOOL:-}" ]]; then echo "$PROMTOOL"; return; fi
  if command -v promtool >/dev/null 2>&1; then command -v promtool; return; fi
  local cached=$PWD/.tools/promtool/promtool
  if [[ ! -x "$cached" ]]; then
    command -v apt-get >/dev/null 2>&1 || { echo "promtool not found and no apt-get: install Prometheus' promtool or set PROMTOOL" >&2; exit 1; }
    local sudo=""
    [[ "$(id -u)" == 0 ]] || sudo="sudo"
    local work
    work=$(mktemp -d)
    chmod 777 "$work" # apt downloads as its own unprivileged user
    # The package lists may be missing on a fresh machine; `download` needs them, not a full install.
    apt-cache show prometheus >/dev/null 2>&1 || $sudo apt-get update -qq >&2
    (cd "$work" && apt-get download -qq prometheus >&2)
    mkdir -p "$(dirname "$cached")"
    dpkg-deb --fsys-tarfile "$work"/prometheus_*.deb | tar -xO ./usr/bin/promtool > "$cached"
    chmod +x "$cached"
    rm -rf "$work"
  fi
  echo "$cached"
}

PROMTOOL=$(promtool_bin)
"$PROMTOOL" --version 2>&1 | head -1

[[ -f dist/scripts/alert-rules.js ]] || npx tsc -p .
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
node dist/scripts/alert-rules.js "$out/platform-rules.yaml"
cp test/alerts/*.test.yaml "$out/"

"$PROMTOOL" check rules "$out/platform-rules.yaml"
(cd "$out" && "$PROMTOOL" test rules ./*.test.yaml)
