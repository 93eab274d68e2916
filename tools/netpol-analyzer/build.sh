#!/usr/bin/env bash
# Builds np-guard's netpol-analyzer CLI (`netpolicy`) from the Go module pinned by go.mod and
# go.sum beside this script into a cache outside the checkout, keyed by the pinned version, the
# pinned dependencies and the Go toolchain, so only the first run compiles. The tests use it to
# compute which connections the role's Kubernetes NetworkPolicies allow.
# Prints the binary's path on its last line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# go.sum holds every hash the build needs, so the build neither changes it nor asks the checksum
# database (which does not know github.com/np-guard/models; its hashes in go.sum are those of
# netpol-analyzer's own go.sum, which the checksum database does vouch for).
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--mod=readonly}"

log() { printf '[netpol-analyzer build] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "Go is required to build netpol-analyzer (a Go >= 1.26 toolchain)"; exit 1; }
go_version="$(go env GOVERSION)"
# The key changes whenever the pinned module (go.mod/go.sum) or the Go toolchain changes.
key="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-12)"
version="$(grep -oE "github.com/np-guard/netpol-analyzer v[0-9][^ ]*" "$here/go.mod" | awk '{print $NF}')"
cache_root="${HOMELAB_MLFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab-mlflow}/netpol-analyzer"
dir="$cache_root/${version}-${go_version}-${key}"

if [ -x "$dir/netpolicy" ]; then
  log "using the cached binary in $dir"
  echo "$dir/netpolicy"; exit 0
fi

mkdir -p "$dir.partial"
start=$SECONDS
log "first build of netpol-analyzer $version with $go_version into $dir"
(cd "$here" && go mod download && \
 /usr/bin/time -f "[netpol-analyzer build] %e s wall, %M KiB peak RSS" \
   go build -trimpath -ldflags="-s -w" -o "$dir.partial/netpolicy" github.com/np-guard/netpol-analyzer/cmd/netpolicy)
rm -rf "$dir" && mv "$dir.partial" "$dir"
log "built in $((SECONDS - start)) s: $(du -h "$dir/netpolicy" | cut -f1)"
echo "$dir/netpolicy"
