#!/usr/bin/env bash
# profiles: test
# The vSphere Terraform provider (terraform-provider-vsphere), built from Go modules into .cache/bin
# and installed into the filesystem mirror .cache/terraform-mirror as registry.terraform.io/vmware/vsphere,
# for the e2e test that keeps traditional VMs and container VMs in one Terraform state
# (test/provider/vsphere-side-by-side.e2e.test.ts).
#
# Routes, first that works:
#  1. v2.16.1 by its tag's commit, github.com/vmware/terraform-provider-vsphere@6e5d67ea… . The tag
#     itself cannot be used: the module path has no /v2 suffix, so `go` rejects v2.x tags.
#  2. v1.26.0, the last tag of github.com/hashicorp/terraform-provider-vsphere (module path without a
#     major suffix, so a valid version). Plugin protocol 5; Terraform 1.x loads it.
# Both are built in a writable copy of the module, not with `go install`: `go install pkg@version`
# reads the module's version list for deprecation notices, and a proxy that refuses the list fails it.
# The module zip of v1.26.0 carries vendor/modules.txt without the vendored sources, which would force
# -mod=vendor and fail; the copy drops vendor/ and builds with -mod=mod.
#
# A no-op when the binary exists and its stamp names the route it came from.
# VIC_VSPHERE_PROVIDER_REBUILD=1 forces a rebuild (and retries route 1).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

MIRROR="$VIC_CACHE/terraform-mirror"
ADDRESS="registry.terraform.io/vmware/vsphere"
ROUTES=(
  "github.com/vmware/terraform-provider-vsphere@6e5d67ea56c66dd13531c8b70c180bf35c823d32 2.16.1"
  "github.com/hashicorp/terraform-provider-vsphere@v1.26.0 1.26.0"
)
stamp="$VIC_BIN/.terraform-provider-vsphere.version"
platform="$(terraform_platform)"
install_into_mirror() { install_into_terraform_mirror "$VIC_BIN/terraform-provider-vsphere" "$ADDRESS" "$1"; } # version

if [ -z "${VIC_VSPHERE_PROVIDER_REBUILD:-}" ] && [ -x "$VIC_BIN/terraform-provider-vsphere" ] && [ -s "$stamp" ]; then
  version="$(cut -d' ' -f2 "$stamp")"
  [ -x "$MIRROR/$ADDRESS/$version/$platform/terraform-provider-vsphere_v$version" ] || install_into_mirror "$version"
  exit 0
fi
command -v go >/dev/null || die "go not found: install Go >= 1.22 (https://go.dev/dl); the vSphere Terraform provider is built from Go modules"
command -v jq >/dev/null || die "jq not found: apt-get install -y jq"

work="$VIC_CACHE/vsphere-provider-build"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
failures=""
for route in "${ROUTES[@]}"; do
  module="${route% *}"
  version="${route#* }"
  if ! out=$(go mod download -json "$module" 2>&1); then
    reason=$(printf '%s' "$out" | jq -r '.Error // empty' 2>/dev/null || true)
    failures="$failures
  $module: ${reason:-$out}"
    log "cannot download $module (${reason:-$out}); trying the next route"
    continue
  fi
  dir=$(printf '%s' "$out" | jq -r '.Dir')
  log "building terraform-provider-vsphere $version from $module (a few minutes, once)"
  rm -rf "$work" && cp -r "$dir" "$work" && chmod -R u+w "$work" && rm -rf "$work/vendor"
  if (cd "$work" && go build -mod=mod -trimpath -ldflags "-s -w" -o "$VIC_BIN/terraform-provider-vsphere.tmp" .); then
    mv -f "$VIC_BIN/terraform-provider-vsphere.tmp" "$VIC_BIN/terraform-provider-vsphere"
    echo "$module $version" >"$stamp"
    install_into_mirror "$version"
    rm -rf "$work"
    log "terraform-provider-vsphere $version ($module) is in $MIRROR/$ADDRESS/$version/$platform"
    exit 0
  fi
  failures="$failures
  $module: go build failed (see the go error above)"
done
die "terraform-provider-vsphere could not be built from Go modules:$failures
Check access to the Go module proxy ($(go env GOPROXY))."
