#!/usr/bin/env bash
# Builds the test cluster's binaries (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, etcd, kwok) from the pinned Go modules under modules/ into a cache outside the
# checkout, keyed by the pinned versions and the Go toolchain, so only the first run compiles.
# Prints the cache's bin directory on its last line.
#
#   build.sh          the control plane
#   build.sh node     the real node's binaries (kubelet, kube-proxy, containerd, runc, CNI plugins,
#                     CoreDNS) and its pause image, into a directory of their own keyed by the
#                     modules built into it; installs the Debian packages the node needs first
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

build_module() {  # build_module <dir> <ldflags> <output name or dir> <packages...>; $BUILD_TAGS overrides the tags
  local dir="$1" ldflags="$2" out="$3"; shift 3
  local start=$SECONDS
  log "building $* (module $dir) ..."
  (cd "$here/modules/$dir" && go mod download && \
   /usr/bin/time -f "[testcluster build] $dir: %e s wall, %M KiB peak RSS" \
     go build -trimpath -tags="${BUILD_TAGS:-selinux,notest}" -ldflags="$ldflags" -o "$out" "$@")
  log "$dir done in $((SECONDS - start)) s"
}

minor="$(echo "$k8s_version" | cut -d. -f2)"
vp=k8s.io/component-base/version; cp=k8s.io/client-go/pkg/version
k8s_ldflags="-s -w -X $vp.gitVersion=$k8s_version -X $vp.gitMajor=1 -X $vp.gitMinor=$minor -X $vp.gitTreeState=clean"
k8s_ldflags="$k8s_ldflags -X $cp.gitVersion=$k8s_version -X $cp.gitMajor=1 -X $cp.gitMinor=$minor -X $cp.gitTreeState=clean"

# The real node (HOMELAB_TESTCLUSTER_REAL_NODE=1): built only when asked for, into its own directory,
# so that the control plane's cache and the default start stay as they are.
node_modules=(kubernetes node/containerd node/runc node/cni-plugins node/coredns)
# PostgreSQL: the CloudNativePG stand-in runs real servers behind the Clusters' Services for the node's pods.
node_packages=(libseccomp-dev iptables conntrack gcc libc6-dev postgresql)
module_version() {  # module_version <dir> <module path>: the version its go.mod requires
  grep -oE "^\s*(require )?$2 v[^ ]+" "$here/modules/$1/go.mod" | awk '{print $NF}'
}

build_node() {
  "$here/../install-system-packages.sh" "${node_packages[@]}" >&2
  local key node_bin start
  key="$(for module in "${node_modules[@]}"; do cat "$here/modules/$module/go.mod" "$here/modules/$module/go.sum"; done \
         | sha256sum | cut -c1-12)"
  node_bin="$cache_root/node-${k8s_version}-${go_version}-${key}/bin"
  if [ -x "$node_bin/kubelet" ] && [ -x "$node_bin/containerd" ] && [ -x "$node_bin/runc" ] \
     && [ -x "$node_bin/coredns" ] && [ -f "$node_bin/pause-image.tar" ]; then
    log "using cached node binaries in $node_bin"
    echo "$node_bin"; return
  fi
  command -v go >/dev/null || { log "Go is required to build the real node"; exit 1; }
  local partial="$node_bin.partial"
  mkdir -p "$partial/cni"
  start=$SECONDS
  log "first build of the real node into $node_bin"
  [ -x "$partial/kubelet" ] || build_module kubernetes "$k8s_ldflags" "$partial/" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
  local containerd_version cv=github.com/containerd/containerd/v2
  containerd_version="$(module_version node/containerd $cv)"
  [ -x "$partial/containerd" ] || BUILD_TAGS=urfave_cli_no_docs,no_btrfs build_module node/containerd \
    "-s -w -X $cv/version.Version=$containerd_version -X $cv/version.Package=$cv" "$partial/" \
    $cv/cmd/containerd $cv/cmd/containerd-shim-runc-v2 $cv/cmd/ctr
  # runc needs cgo and libseccomp for the seccomp profiles (RuntimeDefault) it applies.
  local runc_version
  runc_version="$(module_version node/runc github.com/opencontainers/runc)"
  [ -x "$partial/runc" ] || CGO_ENABLED=1 BUILD_TAGS=seccomp,urfave_cli_no_docs build_module node/runc \
    "-s -w -X main.version=${runc_version#v}" "$partial/runc" github.com/opencontainers/runc
  local cni=github.com/containernetworking/plugins/plugins
  [ -x "$partial/cni/portmap" ] || build_module node/cni-plugins "-s -w" "$partial/cni/" \
    $cni/main/bridge $cni/ipam/host-local $cni/main/loopback $cni/meta/portmap
  [ -x "$partial/coredns" ] || build_module node/coredns "-s -w" "$partial/coredns" github.com/coredns/coredns

  # The sandbox (pause) image: Kubernetes' own pause.c from the pinned module, in a one-layer OCI archive.
  local k8s_dir pause_tag
  k8s_dir="$(cd "$here/modules/kubernetes" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)"
  pause_tag="$(awk '$1 == "TAG" {print $3}' "$k8s_dir/build/pause/Makefile")"
  gcc -static -O2 -Wall -Werror -DVERSION="v$pause_tag" -o "$partial/pause" "$k8s_dir/build/pause/linux/pause.c"
  "${PYTHON:-python3}" "$here/realnode.py" pause-image "$partial/pause" "$pause_tag" "$partial/pause-image.tar"

  rm -rf "$node_bin" && mv "$partial" "$node_bin"
  log "first build of the real node finished in $((SECONDS - start)) s"
  echo "$node_bin"
}

if [ "${1:-}" = node ]; then
  build_node; exit 0
fi

if [ -x "$bin/kube-apiserver" ] && [ -x "$bin/etcd" ] && [ -x "$bin/kwok" ] && [ -x "$bin/kubectl" ]; then
  log "using cached binaries in $bin"
  echo "$bin"; exit 0
fi

command -v go >/dev/null || { log "Go is required to build the test cluster (apt-get install golang-go, or a Go >= 1.26 toolchain)"; exit 1; }
mkdir -p "$bin.partial"
total_start=$SECONDS
log "first build for Kubernetes $k8s_version with $go_version into $bin (takes a while on a small machine)"

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
