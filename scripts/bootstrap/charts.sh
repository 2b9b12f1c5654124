# shellcheck shell=bash
# Sourced by scripts/bootstrap-tools.sh: assembles the Helm charts pinned in
# components/versions.ts into .tools/charts/<chart>/ from the Go module proxy, as listed
# in tools/charts.tsv, and checks each with `helm lint` and `helm template`.
#
# A chart's Git repository is a Go module, so `go mod download` fetches its source at a
# tag or commit; what that source lacks compared with the published chart is what the
# project's release does to it, repeated by the chart_* recipe named in tools/charts.tsv.

CHARTS="$ROOT/.tools/charts"
CHART_TABLE="$ROOT/tools/charts.tsv"

# chart_rows <chart>: the table rows of a chart and its subcharts.
chart_rows() {
  grep -v '^#' "$CHART_TABLE" | awk -F'\t' -v c="$1" '$1 == c || index($1, c "/") == 1'
}

# pinned_charts: "<chart> <version>" for every chart in components/versions.ts.
pinned_charts() {
  sed -n 's/.*chart: "\([^"]*\)", version: "\([^"]*\)".*/\1 \2/p' "$ROOT/components/versions.ts" |
    sed 's#^oci://.*/\([^/ ]*\) #\1 #'
}

chart_version() { # chart_version <Chart.yaml> <field>: version or appVersion, unquoted
  sed -n "s/^$2:[[:space:]]*\"\{0,1\}\([^\"# ]*\)\"\{0,1\}.*/\1/p" "$1"
}

# set_chart_version <Chart.yaml> <field> <from> <to>: replaces the placeholder a release
# build fills in, and fails if the file does not hold exactly that placeholder.
set_chart_version() {
  local file=$1 field=$2 from=$3 to=$4
  [[ $(chart_version "$file" "$field") == "$from" ]] ||
    { echo "$file: expected $field $from, found '$(chart_version "$file" "$field")'" >&2; return 1; }
  sed -i "s/^$field:.*/$field: $to/" "$file"
}

# fetch_module <module> <version> <h1 sum>: prints the module's directory in the module
# cache, after checking the downloaded zip against the sum in tools/charts.tsv.
fetch_module() {
  local json dir sum empty
  # Outside any module (an empty directory), with no checksum database: the sum in
  # tools/charts.tsv is checked instead.
  empty=$(mktemp -d)
  json=$(cd "$empty" && GOFLAGS="" GOSUMDB=off "$GO" mod download -json "$1@$2") ||
    { echo "$json" >&2; rmdir "$empty"; return 1; }
  rmdir "$empty"
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")
  sum=$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p' <<<"$json")
  [[ $sum == "$3" ]] || { echo "$1@$2: the proxy served sum $sum, tools/charts.tsv pins $3" >&2; return 1; }
  echo "$dir"
}

# ---------- recipes: chart_<name> <module dir> <path in module> <destination> <module version> ----------

chart_copy() {
  cp -R "$1/$2" "$3"
  chmod -R u+w "$3"
}

# cert-manager's make/manifests.mk: the chart's files, README.md from README.template.md,
# and Chart.yaml's version and appVersion (v0.0.0 in Git) set to the release.
chart_cert_manager() {
  local src=$1/$2 dest=$3 version=$4
  mkdir -p "$dest/templates"
  cp "$src/Chart.yaml" "$src/values.yaml" "$src/values.schema.json" "$src/.helmignore" "$dest/"
  cp "$src"/templates/*.yaml "$src/templates/_helpers.tpl" "$src/templates/NOTES.txt" "$dest/templates/"
  sed -e "s:{{RELEASE_VERSION}}:$version:g" "$src/README.template.md" >"$dest/README.md"
  chmod -R u+w "$dest"
  set_chart_version "$dest/Chart.yaml" version v0.0.0 "$version"
  set_chart_version "$dest/Chart.yaml" appVersion v0.0.0 "$version"
}

# Envoy Gateway's tools/make/helm.mk and release workflow: values.yaml from
# values.tmpl.yaml with the release image, and `helm package --version/--app-version`.
chart_envoy_gateway() {
  local dest=$3 version=$4
  chart_copy "$@"
  # shellcheck disable=SC2016 # the placeholders are literal
  sed -e "s#\${GatewayImage}#docker.io/envoyproxy/gateway:$version#" \
    -e 's#\${GatewayImagePullPolicy}#IfNotPresent#' "$dest/values.tmpl.yaml" >"$dest/values.yaml"
  # shellcheck disable=SC2016 # a literal ${
  if grep -n '\${' "$dest/values.yaml" >&2; then
    echo "gateway-helm: placeholders left in values.yaml (above)" >&2
    return 1
  fi
  rm "$dest/values.tmpl.yaml"
  set_chart_version "$dest/Chart.yaml" version v0.0.0-latest "$version"
  set_chart_version "$dest/Chart.yaml" appVersion latest "$version"
}

# Kyverno's release runs `helm dependency update`, which adds three subcharts from other
# chart repositories. Two come from their Go modules at the versions kyverno v1.19.0's
# go.mod builds against (rows kyverno/charts/* in tools/charts.tsv). The third,
# reports-server (off by default, and in our values), has no source the proxy serves:
# its dependency entry is dropped, or Helm refuses to load the chart.
chart_kyverno() {
  local dest=$3
  chart_copy "$@"
  local chart=$dest/Chart.yaml
  grep -q '^  - name: reports-server$' "$chart" || { echo "kyverno: no reports-server dependency to drop" >&2; return 1; }
  sed -i '/^  - name: reports-server$/,/^    condition: reportsServer.enabled$/d' "$chart"
  ! grep -q 'reports-server' "$chart" || { echo "kyverno: reports-server still in $chart" >&2; return 1; }
}

# ---------- assembly ----------

# assemble_chart <chart> <output dir>: fetches and assembles a chart and its subcharts,
# then checks that Helm loads and renders it with its default values.
assemble_chart() {
  local chart=$1 out=$2 dest module version sum path recipe dir
  while IFS=$'\t' read -r dest module version sum path recipe; do
    dir=$(fetch_module "$module" "$version" "$sum")
    echo "$dest: $module@$version $path ($recipe)"
    "$recipe" "$dir" "$path" "$out/$dest" "$version"
  done < <(chart_rows "$chart")
  "$BIN/helm" lint "$out/$chart" || return 1
  local render="$out/$chart.default-render.yaml" objects
  "$BIN/helm" template "check-$chart" "$out/$chart" --namespace "check-$chart" >"$render" || return 1
  objects=$(grep -c '^kind:' "$render") || { echo "$chart: helm template rendered nothing" >&2; return 1; }
  echo "$chart: helm template rendered $objects objects with the default values"
}

# charts: one cached step per chart pinned in components/versions.ts that tools/charts.tsv
# lists; the others are reported as not available offline.
charts() {
  local chart pin built missing=() mismatched=()
  [[ -n $(pinned_charts) ]] || die "read no chart pins from components/versions.ts (the format pinned_charts expects changed?)"
  rm -rf "$CHARTS" && mkdir -p "$CHARTS"
  printf 'chart\tpin\tassembled\n' >"$CHARTS/versions.tsv"
  while read -r chart pin; do
    if [[ -z $(chart_rows "$chart") ]]; then
      missing+=("$chart $pin")
      continue
    fi
    local key
    # shellcheck disable=SC2046 # one word per recipe function
    key=$(key_of "$(declare -f assemble_chart fetch_module chart_version set_chart_version chart_copy $(chart_rows "$chart" | cut -f6 | sort -u))" \
      <(chart_rows "$chart") "$T/helm/go.mod" "$T/helm/go.sum")
    tool_step "chart $chart" "chart-$chart-$key" "assemble_chart $chart" copy_chart_into "$chart"
    built=$(chart_version "$CHARTS/$chart/Chart.yaml" version)
    printf '%s\t%s\t%s\n' "$chart" "$pin" "$built" >>"$CHARTS/versions.tsv"
    [[ $built == "$pin" ]] || mismatched+=("$chart $built (components/versions.ts pins $pin)")
  done < <(pinned_charts)
  for m in "${mismatched[@]}"; do say "      chart at another version than its pin: $m (docs/integration.md)"; done
  for m in "${missing[@]}"; do say "      chart not available offline: $m (docs/integration.md)"; done
}
