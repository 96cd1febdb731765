#!/usr/bin/env bash
# Builds the real Kubernetes test tools from their published Go modules (issue #10):
#   kube-apiserver + kubectl  from k8s.io/kubernetes      (throwaway module test/cluster/tools/kubernetes)
#   etcd                      from go.etcd.io/etcd/server  (throwaway module test/cluster/tools/etcd)
#   helm                      from helm.sh/helm/v3         (plain go install)
#   metallb controller+speaker from go.universe.tf/metallb (throwaway module test/cluster/tools/metallb;
#                             the differential suite in test/differential runs them beside ironlb, issue #13)
#   frr-k8s controller        from github.com/metallb/frr-k8s (plain go install; test/e2e/frrk8s-emit-frr
#                             runs it with FRR on what --bgp-backend frr-k8s writes, issue #14)
# Versions are pinned in test/cluster/tools/versions.json. Binaries go to
#   ${IRONLB_K8S_CACHE:-~/.cache/ironlb-k8s}/<tool>-v<version>/   (never into the repo)
# and a tool already present there is not rebuilt.
#   scripts/k8s-tools.sh            build what is missing
#   scripts/k8s-tools.sh --regen    rewrite the throwaway go.mod/go.sum from the pinned versions
#                                   (after changing versions.json), then build what is missing
#   scripts/k8s-tools.sh --check    exit 1 (and name what is missing) unless every tool is present
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/test/cluster/tools"
cache=${IRONLB_K8S_CACHE:-$HOME/.cache/ironlb-k8s}
ver() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" "$tools/versions.json"; }
K=$(ver kubernetes); E=$(ver etcd); H=$(ver helm); M=$(ver metallb); F=$(ver frrk8s)
S=v0.${K#1.}                       # staging modules are published as v0.<minor>.<patch>
MINOR=$(echo "$K" | cut -d. -f2)
kdir="$cache/kubernetes-v$K"; edir="$cache/etcd-v$E"; hdir="$cache/helm-v$H"; mdir="$cache/metallb-v$M"
fdir="$cache/frr-k8s-v$F"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

missing=()
[ -x "$kdir/kube-apiserver" ] || missing+=(kube-apiserver)
[ -x "$kdir/kubectl" ] || missing+=(kubectl)
[ -x "$edir/etcd" ] || missing+=(etcd)
[ -x "$hdir/helm" ] || missing+=(helm)
[ -x "$mdir/controller" ] || missing+=(metallb-controller)
[ -x "$mdir/speaker" ] || missing+=(metallb-speaker)
[ -f "$mdir/crds/metallb.io_ipaddresspools.yaml" ] || missing+=(metallb-crds)
[ -x "$fdir/frr-k8s-controller" ] && [ -f "$fdir/crds/frrk8s.metallb.io_frrnodestates.yaml" ] || missing+=(frr-k8s)

if [ "${1:-}" = --check ]; then
  if [ ${#missing[@]} -gt 0 ]; then echo "missing in $cache: ${missing[*]} (build them with scripts/k8s-tools.sh)" >&2; exit 1; fi
  exit 0
fi
versions() {
  "$kdir/kube-apiserver" --version >&2
  "$kdir/kubectl" version --client 2>&1 | sed -n 1p >&2
  "$edir/etcd" --version | sed -n 1p >&2
  "$hdir/helm" version --short >&2
  echo "metallb v$M (controller, speaker)" >&2
  echo "frr-k8s v$F (controller)" >&2
}
if [ ${#missing[@]} -eq 0 ] && [ "${1:-}" != --regen ]; then versions; exit 0; fi

# A fresh throwaway main module in $1, named $2, with the go line and GODEBUG defaults of the go.mod
# of $3 (module@version), so the tool runs with upstream's defaults, not this Go's newer ones. That
# go.mod's path is left in $gomod for what the caller copies from it.
new_module() {
  local m=$1 gover godebug
  rm -f "$m/go.mod" "$m/go.sum"; mkdir -p "$m"
  (cd "$m" && go mod init "$2" >/dev/null 2>&1)
  gomod=$(cd "$m" && go mod download -json "$3" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  gover=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
  godebug=$(sed -n 's/^godebug default=\(go[0-9.]*\)$/\1/p' "$gomod")
  (cd "$m" && go mod edit -go="$gover" -godebug=default="${godebug:-go$(echo "$gover" | cut -d. -f1,2)}")
}

regen_kubernetes() {
  # k8s.io/kubernetes's go.mod: go 1.25.0, godebug default=go1.25.
  new_module "$tools/kubernetes" local.invalid/ironlb-k8s-tools "k8s.io/kubernetes@v$K"
  (cd "$tools/kubernetes"
   # k8s.io/kubernetes points every staging module at ./staging with version v0.0.0; replace each with
   # its published v0.<minor>.<patch>. The list comes from that release's own go.mod.
   for mod in $(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$gomod"); do
     go mod edit -replace="$mod=$mod@$S"
   done
   go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@v$K" "k8s.io/kubernetes/cmd/kubectl@v$K")
}

regen_etcd() {
  new_module "$tools/etcd" local.invalid/ironlb-etcd-tool "go.etcd.io/etcd/server/v3@v$E"
  (cd "$tools/etcd" && go get -tool "go.etcd.io/etcd/server/v3@v$E")
}

regen_metallb() {
  # v0.15.3's go.mod has no replace directives today; a throwaway module still pins exactly what was
  # tested, and copies any replace directive a later release adds.
  new_module "$tools/metallb" local.invalid/ironlb-metallb-tools "go.universe.tf/metallb@v$M"
  (cd "$tools/metallb"
   sed -n 's#^[[:space:]]*\(replace[[:space:]]*\)\{0,1\}\([^ ]*\)\( [^ ]*\)\{0,1\} => \([^ .][^ ]*\) \(v[^ ]*\)$#\2\3=\4@\5#p' "$gomod" |
     sed 's/ /@/' | while read -r r; do go mod edit -replace="$r"; done
   go get -tool "go.universe.tf/metallb/controller@v$M" "go.universe.tf/metallb/speaker@v$M")
}

# A throwaway module is written again on --regen, or when its go.mod is missing or pins another version.
stale() { # module-dir "module version"
  [ "$mode" = --regen ] || [ ! -f "$1/go.mod" ] || ! grep -qE "$2( |\$)" "$1/go.mod"
}
mode=${1:-}
if stale "$tools/kubernetes" "k8s.io/kubernetes v$K"; then regen_kubernetes; fi
if stale "$tools/etcd" "go.etcd.io/etcd/server/v3 v$E"; then regen_etcd; fi
if stale "$tools/metallb" "go.universe.tf/metallb v$M"; then regen_metallb; fi

# Build into a temporary name and rename, so an interrupted build never leaves a "present" tool.
build() { # module-dir out pkg ldflags
  local dir=$1 out=$2 pkg=$3 ld=$4 t0=$SECONDS
  mkdir -p "$(dirname "$out")"
  (cd "$dir" && go build -trimpath -ldflags "-s -w${ld:+ $ld}" -o "$out.tmp" "$pkg")
  mv "$out.tmp" "$out"
  echo "k8s-tools: $(basename "$out") built in $((SECONDS - t0))s" >&2
}
# The same with `go install pkg@version`, for a module without replace directives (no throwaway module).
go_install() { # out pkg@version ldflags
  local out=$1 pkg=$2 ld=$3 t0=$SECONDS
  mkdir -p "$(dirname "$out")"
  GOBIN="$(dirname "$out")/.tmp" go install -trimpath -ldflags "-s -w${ld:+ $ld}" "$pkg"
  mv "$(dirname "$out")/.tmp/$(basename "${pkg%@*}")" "$out"
  rmdir "$(dirname "$out")/.tmp"
  echo "k8s-tools: $(basename "$out") built in $((SECONDS - t0))s" >&2
}
# A release's own CRDs (config/crd/bases, as its Helm chart installs them) into $2/crds, whole or not at all.
crds() { # module@version dir
  local src
  src=$(go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  mkdir -p "$2/crds.tmp" && cp "$src"/config/crd/bases/*.yaml "$2/crds.tmp/" && chmod u+w "$2/crds.tmp"/* &&
    rm -rf "$2/crds" && mv "$2/crds.tmp" "$2/crds"
}

kv="-X k8s.io/component-base/version.gitVersion=v$K -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=$MINOR -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=v$K -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=$MINOR -X k8s.io/client-go/pkg/version.gitTreeState=clean"
ev="-X go.etcd.io/etcd/api/v3/version.GitSHA=v$E"
mv="" # internal/version already says the release (version = "0.15.3" in its source)

for t in "${missing[@]}"; do
  case $t in
    etcd) build "$tools/etcd" "$edir/etcd" go.etcd.io/etcd/server/v3 "$ev" ;;
    kube-apiserver) build "$tools/kubernetes" "$kdir/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver "$kv" ;;
    kubectl) build "$tools/kubernetes" "$kdir/kubectl" k8s.io/kubernetes/cmd/kubectl "$kv" ;;
    metallb-controller) build "$tools/metallb" "$mdir/controller" go.universe.tf/metallb/controller "$mv" ;;
    metallb-speaker) build "$tools/metallb" "$mdir/speaker" go.universe.tf/metallb/speaker "$mv" ;;
    metallb-crds) crds "go.universe.tf/metallb@v$M" "$mdir" ;;
    helm)
      # Helm's Makefile stamps the Kubernetes version that `helm template`/`lint` assume (else v1.20).
      hv="-X helm.sh/helm/v3/internal/version.version=v$H -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$MINOR \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$MINOR"
      go_install "$hdir/helm" "helm.sh/helm/v3/cmd/helm@v$H" "$hv" ;;
    frr-k8s)
      # Its controller (no replace directives in its go.mod) and its CRDs.
      go_install "$fdir/frr-k8s-controller" "github.com/metallb/frr-k8s/cmd/frr-k8s-controller@v$F" ""
      crds "github.com/metallb/frr-k8s@v$F" "$fdir" ;;
  esac
done
versions
