#!/usr/bin/env bash
# profiles: test
# The Docker Terraform provider (kreuzwerker/terraform-provider-docker), built from Go modules into
# .cache/bin and installed into the filesystem mirror .cache/terraform-mirror as
# registry.terraform.io/kreuzwerker/docker, for the e2e test that drives a VCH's Docker endpoint with
# it (test/endpoint/terraform-docker-provider.e2e.test.ts, examples/terraform-docker).
#
# The module proxy serves none of the provider's v3/v4 tags (its module path has no major suffix),
# only commits: the one below is v4.6.0's branch on 2026-09-16 (CHANGELOG head v4.6.0), installed as
# version 4.6.0. It is built in a writable copy of the module, as 70-vsphere-provider.sh does (its
# module path, github.com/terraform-providers/terraform-provider-docker, is not the one fetched).
#
# A no-op when the binary exists and its stamp names this route.
# VIC_DOCKER_PROVIDER_REBUILD=1 forces a rebuild.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

MIRROR="$VIC_CACHE/terraform-mirror"
ADDRESS="registry.terraform.io/kreuzwerker/docker"
MODULE="github.com/kreuzwerker/terraform-provider-docker@v0.0.0-20260916201441-96d331c98ff4"
VERSION="4.6.0"
stamp="$VIC_BIN/.terraform-provider-docker.version"
install_into_mirror() { install_into_terraform_mirror "$VIC_BIN/terraform-provider-docker" "$ADDRESS" "$VERSION"; }

if [ -z "${VIC_DOCKER_PROVIDER_REBUILD:-}" ] && [ -x "$VIC_BIN/terraform-provider-docker" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$MODULE $VERSION" ]; then
  [ -x "$MIRROR/$ADDRESS/$VERSION/$(terraform_platform)/terraform-provider-docker_v$VERSION" ] || install_into_mirror
  exit 0
fi
command -v go >/dev/null || die "go not found: install Go >= 1.25 (https://go.dev/dl); the Docker Terraform provider is built from Go modules"
command -v jq >/dev/null || die "jq not found: apt-get install -y jq"

export GOFLAGS="${GOFLAGS:--buildvcs=false}"
out=$(go mod download -json "$MODULE" 2>&1) || die "cannot download $MODULE from the Go module proxy ($(go env GOPROXY)): $(printf '%s' "$out" | jq -r '.Error // empty' 2>/dev/null || printf '%s' "$out")"
dir=$(printf '%s' "$out" | jq -r '.Dir')
work="$VIC_CACHE/docker-provider-build"
log "building terraform-provider-docker $VERSION from $MODULE (a few minutes, once)"
rm -rf "$work" && cp -r "$dir" "$work" && chmod -R u+w "$work"
(cd "$work" && go build -mod=mod -trimpath -ldflags "-s -w" -o "$VIC_BIN/terraform-provider-docker.tmp" .) ||
  die "terraform-provider-docker could not be built from $MODULE (see the go error above)"
mv -f "$VIC_BIN/terraform-provider-docker.tmp" "$VIC_BIN/terraform-provider-docker"
echo "$MODULE $VERSION" >"$stamp"
install_into_mirror
rm -rf "$work"
log "terraform-provider-docker $VERSION is in $MIRROR/$ADDRESS/$VERSION/$(terraform_platform)"
