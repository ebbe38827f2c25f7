#!/usr/bin/env bash
# `make toolchain`: the real Pulumi CLI, its kubernetes provider and the test cluster's
# binaries (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok, helm), built
# with `go` from the Go module proxy into .toolchain/bin; the draft's CRDs into .toolchain/crds.
#
# Every binary is built once per (name, version, Go version, wrapper files) into a cache outside
# the checkout (TOOLCHAIN_CACHE, default ~/.cache/environments/toolchain), so a fresh clone
# links what an earlier run built and a second run takes seconds. Versions live in versions.env;
# what cannot be built from the proxy (and why) is in README.md, "What is verified how".
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="$ROOT/.toolchain/bin"
CACHE="${TOOLCHAIN_CACHE:-$HOME/.cache/environments/toolchain}"
# shellcheck source=versions.env
source "$HERE/versions.env"

command -v go >/dev/null || { echo "toolchain: the go command is missing (Go >= 1.26)" >&2; exit 2; }
export GOFLAGS="${GOFLAGS:--mod=mod}"
export CGO_ENABLED=0
GO_VERSION="$(go env GOVERSION)"
mkdir -p "$BIN" "$CACHE"

say() { printf '[toolchain] %s\n' "$*"; }

# cache_dir NAME VERSION [WRAPPER_DIR]: where this exact build lives in the cache.
cache_dir() {
  local name=$1 version=$2 wrapper=${3:-} digest=none
  if [ -n "$wrapper" ]; then
    digest="$(cd "$wrapper" && cat ./* | sha256sum | cut -c1-12)"
  fi
  printf '%s/%s-%s-%s-%s' "$CACHE" "$name" "$version" "$GO_VERSION" "$digest"
}

# link DIR BINARY...: put the cached binaries on .toolchain/bin.
link() {
  local dir=$1
  shift
  for b in "$@"; do ln -sfn "$dir/$b" "$BIN/$b"; done
}

# build_wrapper NAME VERSION WRAPPER OUT_BINARY:PACKAGE... [-- GO BUILD FLAGS]
# Builds packages of a wrapper module of ours (tools/toolchain/<name>) in a scratch copy.
build_wrapper() {
  local name=$1 version=$2 wrapper="$HERE/$3"
  shift 3
  local targets=() flags=()
  while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then shift; flags=("$@"); break; fi
    targets+=("$1")
    shift
  done
  local dir binaries=()
  dir="$(cache_dir "$name" "$version" "$wrapper")"
  for t in "${targets[@]}"; do binaries+=("${t%%:*}"); done
  if [ -x "$dir/${binaries[-1]}" ]; then
    say "$name $version: cached"
  else
    say "$name $version: building ${binaries[*]} (first time: minutes)"
    local work="$CACHE/work/$name"
    rm -rf "$work" && mkdir -p "$work" && cp -r "$wrapper/." "$work/"
    [ "$(type -t "prepare_$name")" = function ] && "prepare_$name" "$work"
    mkdir -p "$dir.tmp"
    for t in "${targets[@]}"; do
      (cd "$work" && go build -trimpath "${flags[@]}" -o "$dir.tmp/${t%%:*}" "${t#*:}")
    done
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    say "$name $version: built"
  fi
  link "$dir" "${binaries[@]}"
}

# install_module NAME VERSION PACKAGE@VERSION [GO FLAGS]: a module that `go install` builds as is.
install_module() {
  local name=$1 version=$2 pkg=$3
  shift 3
  local dir
  dir="$(cache_dir "$name" "$version")"
  if [ -x "$dir/$name" ]; then
    say "$name $version: cached"
  else
    say "$name $version: building"
    GOBIN="$dir.tmp" go install -trimpath "$@" "$pkg"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    say "$name $version: built"
  fi
  link "$dir" "$name"
}

# The provider's main embeds its schema with the version stamped in (upstream: generate.go).
prepare_kubernetes() {
  local work=$1 module
  module="$(cd "$work" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
  cp "$module/cmd/pulumi-resource-kubernetes/terraform-mapping.json" "$work/"
  python3 - "$module/cmd/pulumi-resource-kubernetes/schema.json" "$work/schema-embed.json" \
    "$KUBERNETES_PROVIDER_VERSION" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["version"] = sys.argv[3]
json.dump(spec, open(sys.argv[2], "w"), separators=(",", ":"))
PY
}

build_wrapper pulumi "$PULUMI_VERSION" pulumi \
  "pulumi:github.com/pulumi/pulumi/pkg/v3/cmd/pulumi" \
  -- -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"

build_wrapper kubernetes "$KUBERNETES_PROVIDER_VERSION" kubernetes \
  "pulumi-resource-kubernetes:." \
  -- -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_PROVIDER_VERSION"

build_wrapper etcd "$ETCD_VERSION" etcd "etcd:." -- -ldflags "-s -w"

k8s_version_flags=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_version_flags+=" -X $p.gitVersion=v$KUBERNETES_VERSION -X $p.gitMajor=${KUBERNETES_VERSION%%.*}"
  minor="${KUBERNETES_VERSION#*.}"
  k8s_version_flags+=" -X $p.gitMinor=${minor%%.*} -X $p.gitTreeState=clean"
  k8s_version_flags+=" -X $p.buildDate=1970-01-01T00:00:00Z"
done
build_wrapper kube "$KUBERNETES_VERSION" kube \
  "kube-apiserver:k8s.io/kubernetes/cmd/kube-apiserver" \
  "kube-controller-manager:k8s.io/kubernetes/cmd/kube-controller-manager" \
  "kube-scheduler:k8s.io/kubernetes/cmd/kube-scheduler" \
  -- -ldflags "-s -w$k8s_version_flags"

# kubectl: what the in-cluster draft reaper's script runs; its own cache entry from the same
# wrapper module, so adding it did not rebuild the control plane.
build_wrapper kubectl "$KUBERNETES_VERSION" kube \
  "kubectl:k8s.io/kubernetes/cmd/kubectl" \
  -- -ldflags "-s -w$k8s_version_flags"

install_module kwok "$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" -ldflags "-s -w"

install_module helm "$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION" \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION"

bash "$HERE/crds.sh"

say "ready in .toolchain/bin: $(cd "$BIN" && echo *)"
"$BIN/pulumi" version
