#!/usr/bin/env bash
# Builds the test cluster's binaries (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, etcd, kwok) from the pinned Go modules under modules/ into a cache outside the
# checkout, keyed by the pinned versions and the Go toolchain, so only the first run compiles.
# Prints the cache's bin directory on its last line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--mod=mod}"

go_version="$(go env GOVERSION)"
# The key changes whenever a module built here (go.mod/go.sum) or the Go toolchain changes; the
# modules that only provide files (modules/cloudnative-pg: CRDs, see crds.yaml) build nothing.
built=(etcd kubernetes kwok)
key="$(for file in go.mod go.sum; do for module in "${built[@]}"; do cat "$here/modules/$module/$file"; done; done \
       | sha256sum | cut -c1-12)"
k8s_version="$(grep -oE "^\s*(require )?k8s.io/kubernetes v[0-9.]+" "$here/modules/kubernetes/go.mod" | awk "{print \$NF}")"
cache_root="${HOMELAB_MLFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab-mlflow}/testcluster"
bin="$cache_root/${k8s_version}-${go_version}-${key}/bin"

log() { printf '[testcluster build] %s\n' "$*" >&2; }

build_module() {  # build_module <dir> <ldflags> <output name or dir> <packages...>
  local dir="$1" ldflags="$2" out="$3"; shift 3
  local start=$SECONDS
  log "building $* (module $dir) ..."
  (cd "$here/modules/$dir" && go mod download && \
   /usr/bin/time -f "[testcluster build] $dir: %e s wall, %M KiB peak RSS" \
     go build -trimpath -tags=selinux,notest -ldflags="$ldflags" -o "$out" "$@")
  log "$dir done in $((SECONDS - start)) s"
}

if [ -x "$bin/kube-apiserver" ] && [ -x "$bin/etcd" ] && [ -x "$bin/kwok" ] && [ -x "$bin/kubectl" ]; then
  log "using cached binaries in $bin"
  echo "$bin"; exit 0
fi

command -v go >/dev/null || { log "Go is required to build the test cluster (apt-get install golang-go, or a Go >= 1.26 toolchain)"; exit 1; }
mkdir -p "$bin.partial"
total_start=$SECONDS
log "first build for Kubernetes $k8s_version with $go_version into $bin (takes a while on a small machine)"

minor="$(echo "$k8s_version" | cut -d. -f2)"
vp=k8s.io/component-base/version; cp=k8s.io/client-go/pkg/version
k8s_ldflags="-s -w -X $vp.gitVersion=$k8s_version -X $vp.gitMajor=1 -X $vp.gitMinor=$minor -X $vp.gitTreeState=clean"
k8s_ldflags="$k8s_ldflags -X $cp.gitVersion=$k8s_version -X $cp.gitMajor=1 -X $cp.gitMinor=$minor -X $cp.gitTreeState=clean"
[ -x "$bin.partial/kube-apiserver" ] || build_module kubernetes "$k8s_ldflags" "$bin.partial/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
[ -x "$bin.partial/etcd" ] || build_module etcd "-s -w" "$bin.partial/etcd" go.etcd.io/etcd/server/v3
[ -x "$bin.partial/kwok" ] || build_module kwok "-s -w" "$bin.partial/kwok" sigs.k8s.io/kwok/cmd/kwok

# kwok's upstream stage definitions ship in its module; keep the ones we use beside the binary.
kwok_dir="$(cd "$here/modules/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
mkdir -p "$bin.partial/kwok-stages"
for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
             pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
  cp "$kwok_dir/kustomize/stage/$stage.yaml" "$bin.partial/kwok-stages/$(basename "$stage").yaml"
done
chmod -R u+w "$bin.partial/kwok-stages"

rm -rf "$bin" && mv "$bin.partial" "$bin"
log "first build finished in $((SECONDS - total_start)) s"
"$bin/kube-apiserver" --version >&2
echo "$bin"
