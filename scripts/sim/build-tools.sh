#!/usr/bin/env bash
# sim:build — builds the simulated cluster's programs from the Go module in sim/tools into a
# cache, and does nothing when that cache is already there.
#
# Output (the tools directory, "<key>" = hash of go.mod, go.sum, sim/tools/**/*.go, this script
# and the Go version; SIM_TOOLS_CACHE moves the whole cache, default <repo>/.cache/sim-tools):
#   $SIM_TOOLS_CACHE/<key>/bin/      simkube (multi-call: kube-apiserver, kube-controller-manager,
#                                    kube-scheduler, kubectl, etcd, kwok, kwokctl, with a symlink
#                                    named after each), prometheus, alertmanager,
#                                    prometheus-operator, kube-state-metrics, node_exporter
#   $SIM_TOOLS_CACHE/<key>/crds/     prometheus-operator's CRDs (what `prometheus-operator crds` prints)
#   $SIM_TOOLS_CACHE/<key>/versions.txt  `<name> <version>` per program, as built
#   $SIM_TOOLS_CACHE/bin, crds       symlinks to the newest complete <key>/bin, <key>/crds
# A <key> directory only exists once every program was built and answered `--version`; other
# <key> directories are removed then. Go's own caches (GOMODCACHE, GOCACHE) are used as set.
#
# Prints each stage's wall time. Exits 1 with a sentence naming the cause when Go is missing or
# too old, when the module proxy cannot be reached, or when a program fails to build or start.
# Notes and figures: README (simulated cluster) and sim/tools/README.md.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mod="$repo/sim/tools"
cache=${SIM_TOOLS_CACHE:-$repo/.cache/sim-tools}
self="$repo/scripts/sim/build-tools.sh"

die() { echo "sim:build: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }
t_total=$(now)
stage_start=""
stage_name=""
stage() { # stage <name>: ends the previous stage (printing its time) and starts the next
  if [ -n "$stage_name" ]; then echo "sim:build: stage ${stage_name}: $(since "$stage_start") s"; fi
  stage_name=$1
  stage_start=$(now)
}

# --- Go present and new enough ---------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "Go is not installed or not on PATH. Install Go >= $(sed -n 's/^go //p' "$mod/go.mod") (https://go.dev/dl/ or the distribution's golang package) and run again."
want_go=$(sed -n 's/^go //p' "$mod/go.mod")
# Asked inside the module: Go >= 1.21 switches to (and, with GOTOOLCHAIN=auto, fetches from the
# proxy) the toolchain go.mod needs, so this is the Go that will build.
have_go=$(cd "$mod" && go env GOVERSION 2>&1) ||
  die "Go cannot run for sim/tools (go.mod needs go >= $want_go): $have_go"
have_go=${have_go#go}
if [ "$(printf '%s\n%s\n' "$want_go" "${have_go%%[!0-9.]*}" | sort -V | head -n1)" != "$want_go" ]; then
  die "Go $have_go is older than the go $want_go that sim/tools/go.mod needs; install a newer Go (or allow GOTOOLCHAIN=auto)."
fi

# Reproducible, static, small: no VCS stamping (the module sits inside this repo's work tree),
# no cgo (upstream release builds are CGO_ENABLED=0 / netgo too).
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false -trimpath"
export CGO_ENABLED=0

# --- cache key -------------------------------------------------------------------------------
stage key
key=$(
  cd "$mod"
  {
    go env GOVERSION GOOS GOARCH
    sha256sum go.mod go.sum ksm/go.mod ksm/go.sum
    # From stdin: sha256sum prints the name it is given, and the absolute path of a checkout must
    # not change the key.
    sha256sum <"$self"
    find . -name '*.go' -type f | LC_ALL=C sort | xargs sha256sum
  } | sha256sum | cut -c1-16
)
dest="$cache/$key"

link_current() {
  ln -sfn "$key/bin" "$cache/bin"
  ln -sfn "$key/crds" "$cache/crds"
}

mkdir -p "$cache"
# One build at a time per cache: a second sim:build waits here, then finds the first one's result.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/.lock"
  flock 9
fi

if [ -f "$dest/versions.txt" ]; then
  link_current
  stage done
  echo "sim:build: up to date: $dest/bin (key $key, total $(since "$t_total") s)"
  exit 0
fi

echo "sim:build: building into $dest (key $key; go $have_go; GOMODCACHE=$(go env GOMODCACHE); GOCACHE=$(go env GOCACHE))"
# Leftovers of builds that were killed (their process is gone).
for d in "$cache"/.*.partial.*; do
  [ -d "$d" ] || continue
  kill -0 "${d##*.}" 2>/dev/null || rm -rf "$d"
done
work="$cache/.$key.partial.$$"
rm -rf "$work"
mkdir -p "$work/bin" "$work/crds"
trap 'rm -rf "$work"' EXIT

# program name -> package, as built. Each is a separate `go build` because each upstream sets its
# own version through the same variables (github.com/prometheus/common/version).
declare -A pkg=(
  [simkube]=./cmd/simkube
  [prometheus]=github.com/prometheus/prometheus/cmd/prometheus
  [alertmanager]=github.com/prometheus/alertmanager/cmd/alertmanager
  [prometheus-operator]=github.com/prometheus-operator/prometheus-operator/cmd/operator
  [node_exporter]=github.com/prometheus/node_exporter
)
# kube-state-metrics v2.19.1 does not compile against client-go v0.36 (cache.Store gained a
# method), so it has its own module, sim/tools/ksm, with upstream's own dependency versions.
ksm_pkg=k8s.io/kube-state-metrics/v2
ksm_go() { (cd "$mod/ksm" && GOWORK=off go "$@"); }
# Build order: simkube compiles the Kubernetes libraries, the operator then most of Prometheus
# and Alertmanager; what follows is mostly linking.
order=(simkube prometheus-operator prometheus alertmanager node_exporter)
# Prometheus: only the service discovery the operator's configuration uses (kubernetes; file
# and http are always in). Drops the cloud SDKs from the build. Tags of other modules ignore it.
tags="netgo,remove_all_sd,enable_kubernetes_sd"

# --- download --------------------------------------------------------------------------------
stage download
cd "$mod"
dl_log="$work/download.log"
proxy_errors='dial tcp|no such host|i/o timeout|connection refused|TLS handshake|proxyconnect|server misbehaving|network is unreachable|Forbidden|Bad Gateway|Service Unavailable'
download_failed() { # download_failed <what>: dies naming the proxy when go's error says it is unreachable
  if grep -qE "$proxy_errors" "$dl_log"; then
    die "cannot download Go modules: the module proxy ($(go env GOPROXY)) is unreachable. Check the network or GOPROXY. go said:
$(grep -m3 -E "$proxy_errors" "$dl_log")"
  fi
  die "$1 failed:
$(tail -n 20 "$dl_log")"
}
# Alertmanager embeds its web UI from ui/app/dist, which its release process builds with npm and
# which is therefore not in the Go module (and go refuses overlays inside GOMODCACHE). So the
# build runs in a Go workspace that replaces the module with a copy holding a one-page
# placeholder there; the API under /api/v2 (all the suite uses) is upstream's.
go mod download -json github.com/prometheus/alertmanager >"$dl_log.json" 2>"$dl_log" || true
am_dir=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' "$dl_log.json")
am_ver=$(sed -n 's/^\t"Version": "\(.*\)",$/\1/p' "$dl_log.json")
am_time=$(sed -n 's/^\t"Time": "\(.*\)",$/\1/p' "$dl_log.json")
if [ -z "$am_dir" ]; then
  cat "$dl_log.json" >>"$dl_log"
  download_failed "downloading github.com/prometheus/alertmanager"
fi
am_src="$cache/.src/alertmanager@$am_ver" # a fixed path, so that Go's cache keys stay the same
if [ ! -f "$am_src/ui/app/dist/index.html.gz" ]; then
  rm -rf "$am_src"
  mkdir -p "$(dirname "$am_src")"
  cp -r "$am_dir" "$am_src.tmp"
  chmod -R u+w "$am_src.tmp"
  mkdir -p "$am_src.tmp/ui/app/dist"
  # Served gzipped, as the release's vite build leaves it (ui/web.go looks for index.html.gz).
  printf '%s\n' '<!doctype html><title>Alertmanager</title><p>Alertmanager built by obs-acceptance sim:build without its web UI (ui/app/dist is not in the Go module); the API under /api/v2 is complete.</p>' |
    gzip -n >"$am_src.tmp/ui/app/dist/index.html.gz"
  mv "$am_src.tmp" "$am_src"
fi
mkdir -p "$cache/.work"
printf 'go %s\n\nuse %s\n\nreplace github.com/prometheus/alertmanager %s => %s\n' "$want_go" "$mod" "$am_ver" "$am_src" >"$cache/.work/go.work"
export GOWORK="$cache/.work/go.work"
if ! go list -deps -tags "$tags" "${pkg[@]}" >/dev/null 2>"$dl_log"; then
  download_failed "resolving the packages of sim/tools (go list -deps)"
fi
if ! ksm_go list -deps "$ksm_pkg" >/dev/null 2>"$dl_log"; then
  download_failed "resolving the packages of sim/tools/ksm (go list -deps)"
fi

# --- versions (from go.mod; the ldflags below repeat what each upstream release build sets) -----
modver() { go list -m -f '{{.Version}}' "$1"; }
modtime() { go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' "$1"; }
kube=$(modver k8s.io/kubernetes)                                             # v1.36.3
[[ $kube =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || die "k8s.io/kubernetes $kube in go.mod is not a v1.X.Y release"
kube_minor=${BASH_REMATCH[1]}
prom_mod=$(modver github.com/prometheus/prometheus)                          # v0.313.1 = Prometheus 3.13.1
[[ $prom_mod =~ ^v0\.3([0-9][0-9])\.([0-9]+)$ ]] || die "github.com/prometheus/prometheus $prom_mod is not a v0.3MM.P (Prometheus 3.MM.P) version"
prom="3.$((10#${BASH_REMATCH[1]})).${BASH_REMATCH[2]}"
am=$(modver github.com/prometheus/alertmanager)
op=$(modver github.com/prometheus-operator/prometheus-operator)
ksm=$(ksm_go list -m -f '{{.Version}}' "$ksm_pkg")
ne=$(modver github.com/prometheus/node_exporter)
ksm_cgo=$(ksm_go list -m -f '{{.Version}}' k8s.io/client-go)

common=github.com/prometheus/common/version
promver() { # promver <version> <module date>: the ldflags of promu / the operator's Makefile
  echo "-X $common.Version=$1 -X $common.Branch=HEAD -X $common.BuildUser=obs-acceptance-sim-build -X $common.BuildDate=$2"
}
kube_date=$(modtime k8s.io/kubernetes)
kube_x=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  # gitCommit: the module proxy does not say which commit a tag is; empty rather than "$Format:%H$".
  kube_x+=" -X $p.gitVersion=$kube -X $p.gitMajor=1 -X $p.gitMinor=$kube_minor -X $p.gitCommit= -X $p.gitTreeState=clean -X $p.buildDate=$kube_date"
done
declare -A ldx=(
  # kwok: consts.KubeVersion is the version kwokctl assumes for the control plane (picks flags).
  [simkube]="$kube_x -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kube#v}"
  [prometheus]=$(promver "$prom" "$(modtime github.com/prometheus/prometheus)")
  [alertmanager]=$(promver "${am#v}" "$am_time") # replaced in the workspace: go list -m has no date
  [prometheus-operator]=$(promver "${op#v}" "$(modtime github.com/prometheus-operator/prometheus-operator)")
  [kube-state-metrics]="$(promver "$ksm" "$(ksm_go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' "$ksm_pkg")") -X $ksm_pkg/pkg/app.ClientGoVersion=$ksm_cgo"
  [node_exporter]=$(promver "${ne#v}" "$(modtime github.com/prometheus/node_exporter)")
)

# --- build -----------------------------------------------------------------------------------
for name in "${order[@]}"; do
  stage "build $name"
  go build -tags "$tags" -ldflags "-s -w ${ldx[$name]}" -o "$work/bin/$name" "${pkg[$name]}" \
    || die "building $name (${pkg[$name]}) failed; see the compiler output above"
done
stage "build kube-state-metrics"
ksm_go build -tags "$tags" -ldflags "-s -w ${ldx[kube-state-metrics]}" -o "$work/bin/kube-state-metrics" "$ksm_pkg" \
  || die "building kube-state-metrics ($ksm_pkg in sim/tools/ksm) failed; see the compiler output above"

stage "links and crds"
for n in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwok-controller kwokctl; do
  ln -s simkube "$work/bin/$n"
done
# The CRDs the operator embeds and prints with `prometheus-operator crds`, one file per CRD.
op_dir=$(go list -m -f '{{.Dir}}' github.com/prometheus-operator/prometheus-operator)
cp "$op_dir"/example/prometheus-operator-crd/*.yaml "$work/crds/"
chmod 0644 "$work"/crds/*.yaml

# --- every program starts and says its version -----------------------------------------------
stage verify
first_version() { grep -oE 'v?[0-9]+\.[0-9]+\.[0-9]+' | head -n1; }
{
  for n in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl \
    prometheus alertmanager prometheus-operator kube-state-metrics node_exporter; do
    case $n in
      kubectl) args=(version --client) ;;
      kube-state-metrics) args=(version) ;;
      *) args=(--version) ;;
    esac
    out=$("$work/bin/$n" "${args[@]}" 2>&1) || die "$n ${args[*]} failed:
$out"
    v=$(printf '%s\n' "$out" | first_version)
    [ -n "$v" ] || die "$n ${args[*]} printed no version:
$out"
    echo "$n $v"
  done
} >"$work/versions.txt"
grep -q "^kube-apiserver $kube\$" "$work/versions.txt" || die "kube-apiserver does not report $kube: $(grep kube-apiserver "$work/versions.txt")"

rm -f "$dl_log" "$dl_log.json"
rm -rf "$dest"
mv "$work" "$dest"
trap - EXIT
link_current
# Older builds are dead weight (hundreds of MB each); the Go build cache makes a rebuild cheap.
find "$cache" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]\{16\}' ! -name "$key" -exec rm -rf {} +
stage done
sed 's/^/sim:build:   /' "$dest/versions.txt"
echo "sim:build: built $dest/bin ($(du -sh "$dest/bin" | cut -f1)), total $(since "$t_total") s"
