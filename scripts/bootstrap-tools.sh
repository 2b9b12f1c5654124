#!/usr/bin/env bash
# Builds the tools of the integration tier into .tools/bin and assembles the pinned Helm
# charts into .tools/charts (both git-ignored):
#
#   pulumi                      the Pulumi CLI/engine v3.248.0        (tools/go.mod)
#   pulumi-resource-kubernetes  the Kubernetes provider plugin        (tools/kubernetes-provider/go.mod)
#   kube-apiserver              Kubernetes v1.33.13                   (tools/kubernetes/go.mod)
#   kube-controller-manager     Kubernetes v1.33.13 (namespace controller)
#   etcd                        Debian's etcd-server package          (ETCD_DEB below)
#   pulumi-analyzer-policy-nodejs  runs a Node.js policy pack (scripts/integration/)
#   helm                        Helm v3.18.6, the library the provider links (tools/helm/go.mod)
#   the add-ons' controllers    cert-manager, Kyverno, Flux, External Secrets, Envoy Gateway,
#                               Velero and its AWS plugin, MinIO (tools/<name>/go.mod;
#                               scripts/bootstrap/controllers.sh)
#   .tools/charts/<chart>/      the charts of components/versions.ts that the module proxy
#                               serves a source for (tools/charts.tsv; scripts/bootstrap/charts.sh)
#
# Everything comes from the Go module proxy and Debian; versions are pinned by the
# go.mod/go.sum files under tools/, by tools/charts.tsv and by ETCD_DEB. Each build is
# cached outside the clone, keyed by what produced it (go.mod, go.sum, recipe, Go
# version), in
#   ${PLATFORM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/platform-tools}
# so a fresh clone on the same machine links the binaries in seconds.
#
# Usage: scripts/bootstrap-tools.sh [--force] [--no-controllers | --tiers-only]
#   --force           rebuild everything
#   --no-controllers  only the tools the tenancy tier needs (no helm, controllers, charts)
#   --tiers-only      helm, the charts, and only the controllers a test tier runs (`tiers` in
#                     scripts/bootstrap/controllers.sh: all but the Kyverno CLI, which only
#                     image-signatures-check uses): what CI needs. Each build's wall and CPU
#                     seconds are printed; a cold run's total is in docs/performance.md
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="$ROOT/.tools/bin"
CACHE=${PLATFORM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/platform-tools}
FORCE=false
CONTROLLERS=true
TIERS_ONLY=false
for arg in "$@"; do
  case $arg in
    --force) FORCE=true ;;
    --no-controllers) CONTROLLERS=false ;;
    --tiers-only) TIERS_ONLY=true ;;
    *) printf 'unknown argument %s\nUsage: scripts/bootstrap-tools.sh [--force] [--no-controllers | --tiers-only]\n' "$arg" >&2; exit 2 ;;
  esac
done

PULUMI_VERSION=v3.248.0
K8S_VERSION=v1.33.13
# The provider module the proxy serves (see tools/kubernetes-provider/go.mod).
K8S_PROVIDER_VERSION=4.25.0
ETCD_DEB=3.4.23-4+b4
RECIPE=1 # bump when a build command below changes

START=$SECONDS
say() { printf '[bootstrap %3ds] %s\n' $((SECONDS - START)) "$*"; }
die() {
  printf '\n[bootstrap] FAILED: %s\n' "$*" >&2
  exit 1
}

# ---------- prerequisites ----------
GO=${GO:-$(command -v go || true)}
[[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
T="$ROOT/tools"
MODULES=("$T/go.mod" "$T/kubernetes-provider/go.mod" "$T/kubernetes/go.mod")
$CONTROLLERS && MODULES+=("$T"/*/go.mod)
# The newest `go` line among the modules to build: with GOTOOLCHAIN=local an older Go
# would refuse them one at a time, well into a long bootstrap.
GO_NEEDED=$(sed -n 's/^go \([0-9.]*\)$/go\1/p' "${MODULES[@]}" | sort -V | tail -n 1)
[[ -n $GO ]] || die "no Go toolchain: install Go >= ${GO_NEEDED#go} (https://go.dev/dl) or set GO=/path/to/go"
GO_VERSION=$("$GO" env GOVERSION)
if ! printf '%s\n%s\n' "$GO_NEEDED" "$GO_VERSION" | sort -V -C; then
  die "$GO is $GO_VERSION; the modules under tools/ need Go >= ${GO_NEEDED#go} (or run with --no-controllers)"
fi
for tool in sha256sum flock; do
  command -v $tool >/dev/null || die "$tool not found (coreutils/util-linux)"
done

export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -trimpath" CGO_ENABLED=0
# go.sum pins every module. The checksum database behind the proxy answers 404 for
# some pulumi modules; with a complete go.sum it is never asked, and this only
# matters if someone edits a go.mod.
export GONOSUMDB=${GONOSUMDB:-github.com/pulumi}

# Progress tickers and builds still running when the script stops go with it.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

mkdir -p "$CACHE/logs" "$BIN"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  say "another bootstrap holds $CACHE/.lock; waiting"
  flock 9
fi

key_of() { # key_of <recipe text> <files...>
  { printf '%s\n%s\n%s\n' "$1" "$GO_VERSION" "$RECIPE"; shift; cat "$@"; } | sha256sum | cut -c1-16
}

# link_into_bin <cache dir> <names...>: hard links (a copy across file systems).
link_into_bin() {
  local dir=$1
  shift
  for name in "$@"; do
    rm -f "$BIN/$name"
    ln "$dir/$name" "$BIN/$name" 2>/dev/null || cp "$dir/$name" "$BIN/$name"
  done
}

# cpu_mark <file>: appends the CPU time (user, sys) of this shell's reaped children so far.
# `times` is a builtin and must run in this shell: in a $(...) subshell it would report the
# subshell's own children.
cpu_mark() {
  times >>"$1"
}
# cpu_between <file>: CPU seconds (user + sys) of the children reaped between two cpu_marks.
# A build's go, compile and link processes are reaped through its subshell, so they all count.
cpu_between() {
  awk 'function secs(line,  f, m, i, t) {
      split(line, f, " ")
      for (i = 1; i <= 2; i++) { sub(/s$/, "", f[i]); split(f[i], m, "m"); t += m[1] * 60 + m[2] }
      return t }
    NR == 2 { before = secs($0) } NR == 4 { after = secs($0) }
    END { printf "%d", after - before + 0.5 }' "$1"
}

STEP=0
STEPS=5
# tool_step <label> <cache key> <build command> <install function> <names...>: runs the
# build command (words: function and arguments; the output directory is appended) unless
# the cache holds its output, then installs <names> from the cache directory.
tool_step() {
  local label=$1 key=$2 build=$3 install=$4
  shift 4
  STEP=$((STEP + 1))
  local dir="$CACHE/$key" log="$CACHE/logs/${key}.log"
  if ! $FORCE && [[ -f $dir/.complete ]]; then
    $install "$dir" "$@"
    say "[$STEP/$STEPS] $label: cached ($dir)"
    return
  fi
  say "[$STEP/$STEPS] $label: building (log: $log)"
  local tmp="$CACHE/.tmp-$key-$$" t0=$SECONDS cpu_file="$CACHE/.cpu-$key-$$" cpu
  rm -rf "$tmp" "$cpu_file" && mkdir -p "$tmp"
  cpu_mark "$cpu_file"
  # Progress: a line a minute while a long build runs.
  # 9>&-: a ticker left behind by a killed run must not hold the cache lock.
  (while sleep 60; do say "      ... $label still building ($((SECONDS - t0))s)"; done) 9>&- &
  local ticker=$!
  # In the background, not as an `if` condition, so that `set -e` stops the build at
  # its first failing command.
  # shellcheck disable=SC2086 # $build is a function name and its arguments
  (set -e; $build "$tmp") >"$log" 2>&1 &
  if ! wait $!; then
    kill $ticker 2>/dev/null || true
    tail -n 30 "$log" >&2
    rm -rf "$tmp" "$cpu_file"
    die "$label did not build; full log: $log"
  fi
  kill $ticker 2>/dev/null || true
  wait $ticker 2>/dev/null || true
  cpu_mark "$cpu_file"
  cpu=$(cpu_between "$cpu_file")
  rm -f "$cpu_file"
  printf 'built in %ss wall, %ss CPU (user + sys of the build processes)\n' $((SECONDS - t0)) "$cpu" >>"$log"
  for name in "$@"; do
    [[ -e $tmp/$name ]] || die "$label: the build produced no $name (log: $log)"
  done
  touch "$tmp/.complete"
  rm -rf "$dir" && mv "$tmp" "$dir"
  $install "$dir" "$@"
  say "[$STEP/$STEPS] $label: built in $((SECONDS - t0))s wall, ${cpu}s CPU"
}

# tool <label> <cache key> <build function> <binary names...>
tool() {
  tool_step "$1" "$2" "$3" link_into_bin "${@:4}"
}

# copy_chart_into <cache dir> <chart>: a copy, so that nothing done to .tools/charts
# reaches the cache.
copy_chart_into() {
  rm -rf "${CHARTS:?}/$2"
  cp -R "$1/$2" "$CHARTS/$2"
}

# ---------- the builds ----------

build_pulumi() {
  cd "$ROOT/tools"
  nice -n 10 "$GO" build -o "$1/pulumi" \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

# Upstream's Makefile (k8sprovider target) runs `VERSION=... go generate` on
# cmd/pulumi-resource-kubernetes/main.go, whose generate.go writes schema-embed.json
# and terraform-mapping-embed.json (git-ignored upstream, so absent from the module)
# from the committed schema.json; main.go go:embeds them. The module cache is
# read-only (and `go build -overlay` may not replace files in it), so we copy the
# module into a scratch directory, run the same generate.go there with the provider's
# own dependency versions, and build our wrapper module with the provider module
# replaced by that directory. The scratch copy is deleted after the build.
build_kubernetes_provider() {
  local out=$1 mod src="$1/src"
  cd "$ROOT/tools/kubernetes-provider"
  mod=$("$GO" mod download -json github.com/pulumi/pulumi-kubernetes/provider/v4 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d $mod ]] || { echo "go mod download found no directory for the provider module" >&2; return 1; }
  mkdir -p "$src/wrapper" "$src/generate"
  cp -R "$mod" "$src/provider"
  chmod -R u+w "$src/provider"
  cp go.mod go.sum "$src/wrapper/"
  cp go.mod go.sum "$src/generate/"
  local cmd="$src/provider/cmd/pulumi-resource-kubernetes"
  cp "$cmd/generate.go" "$cmd/schema.json" "$cmd/terraform-mapping.json" "$src/generate/"
  (cd "$src/generate" && VERSION=$K8S_PROVIDER_VERSION nice -n 10 "$GO" run generate.go)
  cp "$src/generate/schema-embed.json" "$src/generate/terraform-mapping-embed.json" "$cmd/"
  cd "$src/wrapper"
  "$GO" mod edit -replace "github.com/pulumi/pulumi-kubernetes/provider/v4=$src/provider"
  nice -n 10 "$GO" build -o "$out/pulumi-resource-kubernetes" \
    -ldflags "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_VERSION" \
    github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes
  cd "$out" && rm -rf "$src"
}

build_kubernetes() {
  cd "$ROOT/tools/kubernetes"
  local minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  local ldflags="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  for cmd in kube-apiserver kube-controller-manager; do
    nice -n 10 "$GO" build -o "$1/$cmd" -ldflags "$ldflags" "k8s.io/kubernetes/cmd/$cmd"
  done
}

# etcd: the binary of Debian's etcd-server package, unpacked (no service is installed
# or started). apt-get download needs current package lists; as root we refresh them
# once if the pinned version is not found.
build_etcd() {
  cd "$1"
  if ! apt-get download "etcd-server=$ETCD_DEB"; then
    if [[ $(id -u) == 0 ]]; then
      apt-get update -qq && apt-get download "etcd-server=$ETCD_DEB"
    else
      echo "etcd-server=$ETCD_DEB not in the apt lists: run 'sudo apt-get update' and retry" >&2
      return 1
    fi
  fi
  dpkg-deb -x etcd-server_*.deb pkg
  mv pkg/usr/bin/etcd etcd
  rm -rf pkg etcd-server_*.deb
  ./etcd --version
}

build_policy_shim() {
  install -m 0755 "$ROOT/scripts/integration/pulumi-analyzer-policy-nodejs" "$1/"
}

tool "pulumi $PULUMI_VERSION (~10 min cold)" \
  "pulumi-$PULUMI_VERSION-$(key_of "$(declare -f build_pulumi)" "$T/go.mod" "$T/go.sum")" \
  build_pulumi pulumi
tool "pulumi-resource-kubernetes $K8S_PROVIDER_VERSION (~6 min cold)" \
  "pulumi-resource-kubernetes-$K8S_PROVIDER_VERSION-$(key_of "$(declare -f build_kubernetes_provider)" "$T/kubernetes-provider/go.mod" "$T/kubernetes-provider/go.sum")" \
  build_kubernetes_provider pulumi-resource-kubernetes
tool "kube-apiserver + kube-controller-manager $K8S_VERSION (~8 min cold)" \
  "kubernetes-$K8S_VERSION-$(key_of "$(declare -f build_kubernetes)" "$T/kubernetes/go.mod" "$T/kubernetes/go.sum")" \
  build_kubernetes kube-apiserver kube-controller-manager
tool "etcd $ETCD_DEB (Debian etcd-server)" \
  "etcd-$ETCD_DEB-$(key_of "$(declare -f build_etcd)" /dev/null)" \
  build_etcd etcd
tool "pulumi-analyzer-policy-nodejs" \
  "policy-shim-$(key_of "$(declare -f build_policy_shim)" "$ROOT/scripts/integration/pulumi-analyzer-policy-nodejs")" \
  build_policy_shim pulumi-analyzer-policy-nodejs

if $CONTROLLERS; then
  # shellcheck source=scripts/bootstrap/controllers.sh
  source "$ROOT/scripts/bootstrap/controllers.sh"
  # shellcheck source=scripts/bootstrap/charts.sh
  source "$ROOT/scripts/bootstrap/charts.sh"
  mapfile -t CONTROLLER_TOOLS < <(controller_tools | { if $TIERS_ONLY; then grep $'\ttiers$'; else cat; fi; })
  STEPS=$((STEPS + 1 + ${#CONTROLLER_TOOLS[@]} + $(pinned_charts | while read -r c _; do chart_rows "$c" | head -n 1; done | wc -l)))
  tool "helm v3.18.6" \
    "helm-v3.18.6-$(key_of "$(declare -f go_build build_helm)" "$T/helm/go.mod" "$T/helm/go.sum")" \
    build_helm helm
  for entry in "${CONTROLLER_TOOLS[@]}"; do
    IFS=$'\t' read -r label build dir names _ <<<"$entry"
    # The key covers every file of the tool's module directory (go.mod, go.sum, drivers).
    mapfile -t files < <(find "$T/$dir" -type f | sort)
    recipe=$(declare -f go_build "$build")
    [[ $build != build_flux_* ]] || recipe+=$(declare -f flux_crds) # the Flux builds also run flux_crds
    [[ $build != build_kyverno* ]] || recipe+=$(declare -p KYVERNO_VERSION_FLAG)
    [[ $build != build_external_secrets ]] || recipe+=$(declare -f eso_register; declare -p ESO_PROVIDERS ESO_GENERATORS)
    # shellcheck disable=SC2086 # $names: one word per binary
    tool "$label" "$dir-$(key_of "$recipe" "${files[@]}")" "$build" $names
  done
  charts
fi

say "done: $(cd "$BIN" && ls | tr '\n' ' ')"
"$BIN/pulumi" version | sed 's/^/  pulumi /'
"$BIN/kube-apiserver" --version | sed 's/^/  /'
