# shellcheck shell=bash
# Sourced by scripts/bootstrap-tools.sh: the builds of helm and of the controllers the
# integration tier runs as host processes. Each builds one wrapper module under tools/
# (go.mod/go.sum pin every module; non-local replace lines copied from upstream's go.mod),
# several binaries per `go build` where they share a module. `-s -w` as upstream's
# release builds do: smaller binaries, faster links, no debug symbols.

# go_build <tools/ subdirectory> <output dir> <extra ldflags> <packages...>
go_build() {
  local dir=$1 out=$2 ldflags=$3
  shift 3
  cd "$ROOT/tools/$dir" || return
  nice -n 10 "$GO" build -o "$out/" -ldflags "-s -w $ldflags" "$@"
}

# helm's Makefile stamps the version and the Kubernetes version of its client-go (1.33
# here): `helm template` and `helm lint` check charts' kubeVersion against it, and default
# to 1.20 without it.
build_helm() {
  local helm=helm.sh/helm/v3 kube="-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=33"
  kube+=" -X $helm/pkg/chartutil.k8sVersionMajor=1 -X $helm/pkg/chartutil.k8sVersionMinor=33"
  grep -q '^	k8s.io/client-go v0\.33\.' "$ROOT/tools/helm/go.mod" || { echo "tools/helm: client-go is not 0.33: update the Kubernetes version in build_helm" >&2; return 1; }
  go_build helm "$1" "-X $helm/internal/version.version=v3.18.6 -X $helm/internal/version.gitTreeState=clean $kube" $helm/cmd/helm
  "$1/helm" version
}

# cert-manager's main packages are not published (tools/cert-manager/go.mod says why);
# tools/cert-manager holds drivers built against a copy of the published module in which
# one file is changed: internal/apis/config/controller/v1alpha1/defaults.go names the
# two Venafi controllers by string instead of importing their packages, because their
# client library github.com/Venafi/vcert/v5 is refused by the module proxy at every
# version. Without the import those controllers are not registered (no Venafi issuer).
build_cert_manager() {
  local out=$1 mod src="$1/src"
  mod=$(cd "$ROOT/tools/cert-manager" && "$GO" mod download -json github.com/cert-manager/cert-manager | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d $mod ]] || { echo "go mod download found no directory for cert-manager" >&2; return 1; }
  mkdir -p "$src"
  cp -R "$mod" "$src/cert-manager"
  cp -R "$ROOT/tools/cert-manager" "$src/wrapper"
  chmod -R u+w "$src"
  local defaults="$src/cert-manager/internal/apis/config/controller/v1alpha1/defaults.go"
  sed -i -e '/"github.com\/cert-manager\/cert-manager\/pkg\/controller\/certificaterequests\/venafi"$/d' \
    -e '/"github.com\/cert-manager\/cert-manager\/pkg\/controller\/certificatesigningrequests\/venafi"$/d' \
    -e 's/crvenaficontroller\.CRControllerName/"certificaterequests-issuer-venafi"/' \
    -e 's/csrvenaficontroller\.CSRControllerName/"certificatesigningrequests-issuer-venafi"/' "$defaults"
  ! grep -n 'venafi"$\|venaficontroller\.' "$defaults" || { echo "defaults.go still imports Venafi (above)" >&2; return 1; }
  cd "$src/wrapper" || return
  "$GO" mod edit -replace "github.com/cert-manager/cert-manager=$src/cert-manager"
  nice -n 10 "$GO" build -o "$out/" -ldflags "-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=v1.21.1" \
    ./cert-manager-controller ./cert-manager-webhook ./cert-manager-cainjector
  cd "$out" && rm -rf "$src"
}

KYVERNO_VERSION_FLAG="-X github.com/kyverno/kyverno/pkg/version.BuildVersion=v1.19.0"

build_kyverno() {
  go_build kyverno "$1" "$KYVERNO_VERSION_FLAG" github.com/kyverno/kyverno/cmd/kyverno
}

# The CLI is a step of its own, outside `tiers`: only scripts/image-signatures-check.ts runs it,
# by hand, and it adds some 400 packages and a 265 MB link to a cold CI bootstrap. In a full
# bootstrap it follows the admission controller and reuses its compiled packages.
build_kyverno_cli() {
  go_build kyverno "$1" "$KYVERNO_VERSION_FLAG" github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno
}

# The Flux controllers' CRDs (the flux2 chart that would install them is refused, see
# docs/integration.md) come from the same modules, config/crd/bases, one file per controller.
flux_crds() { # flux_crds <tools/ subdirectory> <module> <output file>
  local dir
  dir=$(cd "$ROOT/tools/$1" && "$GO" list -m -f '{{.Dir}}' "$2")
  [[ -d $dir/config/crd/bases ]] || { echo "$2: no config/crd/bases in $dir" >&2; return 1; }
  for crd in "$dir"/config/crd/bases/*.yaml; do printf -- '---\n'; cat "$crd"; done >"$3"
}

build_flux_source_controller() {
  go_build flux-source-controller "$1" "" github.com/fluxcd/source-controller
  flux_crds flux-source-controller github.com/fluxcd/source-controller "$1/flux-source-crds.yaml"
}

build_flux_kustomize_controller() {
  go_build flux-kustomize-controller "$1" "" github.com/fluxcd/kustomize-controller
  flux_crds flux-kustomize-controller github.com/fluxcd/kustomize-controller "$1/flux-kustomize-crds.yaml"
}

# External Secrets registers its providers and generators by blank imports in two files,
# pkg/provider/register/register.go and pkg/generator/register/register.go, with no build
# tags: every cloud's SDK (AWS, Azure, GCP, Vault, IBM, Oracle, ... 38 providers) is compiled
# in, which made this the longest build of the bootstrap. The test tiers read secrets through
# the Kubernetes provider only (scripts/integration/external-secrets-tier.ts; the local
# stack's stores, clusters/existing.ts), so the operator is built from a copy of the module
# in which those two files import only the Kubernetes provider and the generators that need
# no cloud SDK (fake, mfa, password, sshkey, uuid, webhook). A SecretStore for any other
# provider then fails with "failed to find registered store backend" (docs/integration.md).
ESO_PROVIDERS="kubernetes"
ESO_GENERATORS="fake mfa password sshkey uuid webhook"
# eso_register <register.go> <package prefix> <names...>: rewrites the file to import only
# <prefix>/<name> for each name, each of which the original must import.
eso_register() {
  local file=$1 prefix=$2 name
  shift 2
  grep -q '^package register$' "$file" || { echo "$file: not package register" >&2; return 1; }
  for name in "$@"; do
    grep -qF "_ \"$prefix/$name\"" "$file" || { echo "$file: does not import $prefix/$name" >&2; return 1; }
  done
  {
    printf '// Rewritten by scripts/bootstrap/controllers.sh (build_external_secrets).\npackage register\n\nimport (\n'
    printf '\t_ "%s"\n' "${@/#/$prefix/}"
    printf ')\n'
  } >"$file"
}
build_external_secrets() {
  local out=$1 mod src="$1/src" eso=github.com/external-secrets/external-secrets
  mod=$(cd "$ROOT/tools/external-secrets" && "$GO" mod download -json $eso | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d $mod ]] || { echo "go mod download found no directory for external-secrets" >&2; return 1; }
  mkdir -p "$src"
  cp -R "$mod" "$src/external-secrets"
  cp -R "$ROOT/tools/external-secrets" "$src/wrapper"
  chmod -R u+w "$src"
  # shellcheck disable=SC2086 # one word per package
  eso_register "$src/external-secrets/pkg/provider/register/register.go" $eso/pkg/provider $ESO_PROVIDERS
  # shellcheck disable=SC2086
  eso_register "$src/external-secrets/pkg/generator/register/register.go" $eso/pkg/generator $ESO_GENERATORS
  cat "$src"/external-secrets/pkg/{provider,generator}/register/register.go
  cd "$src/wrapper" || return
  "$GO" mod edit -replace "$eso=$src/external-secrets"
  nice -n 10 "$GO" build -o "$out/" -ldflags "-s -w" $eso
  cd "$out" && rm -rf "$src"
}

# The operator's CRDs (the chart that would install them is refused, see docs/integration.md),
# from the same module: deploy/crds/bundle.yaml. A step of its own, so that the operator's
# long build keeps its cache key.
build_external_secrets_crds() {
  local dir
  dir=$(cd "$ROOT/tools/external-secrets" && "$GO" mod download -json github.com/external-secrets/external-secrets | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -f $dir/deploy/crds/bundle.yaml ]] || { echo "no deploy/crds/bundle.yaml in '$dir'" >&2; return 1; }
  cp "$dir/deploy/crds/bundle.yaml" "$1/external-secrets-crds.yaml"
}

build_envoy_gateway() {
  go_build envoy-gateway "$1" "-X github.com/envoyproxy/gateway/internal/cmd/version.envoyGatewayVersion=v1.9.0" \
    github.com/envoyproxy/gateway/cmd/envoy-gateway
}

build_velero() {
  go_build velero "$1" "-X github.com/vmware-tanzu/velero/pkg/buildinfo.Version=v1.18.1" \
    github.com/vmware-tanzu/velero/cmd/velero github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws
}

build_minio() {
  go_build minio "$1" "" github.com/minio/minio
}

# Version stamps as upstream's Makefile sets them (GO_BUILD_LDFLAGS, prometheus/common's
# version package); Revision is the v0.93.1 tag's commit.
build_prometheus_operator() {
  local v=github.com/prometheus/common/version
  go_build prometheus-operator "$1" "-X $v.Version=0.93.1 -X $v.Revision=51cc33a31bf3bd83dd22b1ae6efaf26e199194d9 -X $v.Branch=HEAD" \
    github.com/prometheus-operator/prometheus-operator/cmd/operator
  mv "$1/operator" "$1/prometheus-operator"
}

# controller_tools: label, build function, tools/ module, binaries, and `tiers` where a test
# tier runs it (scripts/integration/platform.ts, dr-drill.ts; --tiers-only builds just those); in build order.
controller_tools() {
  cat <<'EOF'
cert-manager v1.21.1 (controller, webhook, cainjector)	build_cert_manager	cert-manager	cert-manager-controller cert-manager-webhook cert-manager-cainjector	tiers
flux source-controller v1.8.0	build_flux_source_controller	flux-source-controller	source-controller flux-source-crds.yaml	tiers
flux kustomize-controller v1.9.0	build_flux_kustomize_controller	flux-kustomize-controller	kustomize-controller flux-kustomize-crds.yaml	tiers
kyverno v1.19.0 (admission controller)	build_kyverno	kyverno	kyverno	tiers
kyverno v1.19.0 CLI (kubectl-kyverno)	build_kyverno_cli	kyverno	kubectl-kyverno
external-secrets v0.20.4	build_external_secrets	external-secrets	external-secrets	tiers
external-secrets v0.20.4 CRDs	build_external_secrets_crds	external-secrets	external-secrets-crds.yaml	tiers
envoy-gateway v1.9.0	build_envoy_gateway	envoy-gateway	envoy-gateway	tiers
velero v1.18.1 + velero-plugin-for-aws v1.14.2	build_velero	velero	velero velero-plugin-for-aws	tiers
minio (newest served pseudo-version)	build_minio	minio	minio	tiers
prometheus-operator v0.93.1	build_prometheus_operator	prometheus-operator	prometheus-operator	tiers
EOF
}
