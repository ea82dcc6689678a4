#!/usr/bin/env bash
# profiles: test
# The Pulumi engine for the e2e tests: the `pulumi` CLI and the Node language host
# `pulumi-language-nodejs`, built from Go modules into .cache/bin. No npm or Debian package ships
# them (the npm `pulumi` package downloads from get.pulumi.com at first use).
#
# Why a copy of the module and not `go install`: pkg/v3's go.mod has `replace sdk/v3 => ../sdk`,
# and `go install pkg@version` refuses any module with a replace. In a copy we drop that replace
# and require sdk/v3 at the same tag; the clipboard fork replace is kept (it builds as is).
#
# The Node language host has lived in its own module (sdk/nodejs/cmd/pulumi-language-nodejs/v3)
# since v3.69.0. That module has no tags and the Go module proxy answers 403 for it, so it cannot
# be fetched without git access to github.com. Up to v3.68.0 it was a package of sdk/v3, which the
# proxy serves: we build it from there (see LANGUAGE_HOST_VERSION below for what that implies).
#
# A no-op when both binaries exist and were built from the versions below (a stamp file records
# them). Set VIC_PULUMI_REBUILD=1 to force a rebuild.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

PULUMI_VERSION="3.259.0"
LANGUAGE_HOST_VERSION="3.68.0"

# True when $VIC_BIN/$1 exists and its stamp says it was built from version $2.
current() { [ -z "${VIC_PULUMI_REBUILD:-}" ] && [ -x "$VIC_BIN/$1" ] && [ "$(cat "$VIC_BIN/.$1.version" 2>/dev/null)" = "$2" ]; }
current pulumi "$PULUMI_VERSION" && current pulumi-language-nodejs "$LANGUAGE_HOST_VERSION" && exit 0
command -v go >/dev/null || die "go not found: install Go >= 1.25 (https://go.dev/dl); the Pulumi CLI needs it"

# The sources are read-only in the module cache; builds run in a private writable copy.
work="$VIC_CACHE/pulumi-build"
mkdir -p "$work"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

copy_module() { # module@version destination
  local dir
  dir=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') ||
    die "cannot download Go module $1: check access to the Go module proxy ($(go env GOPROXY))"
  [ -n "$dir" ] || die "Go module $1 has no source directory (go mod download -json $1)"
  rm -rf "$2"
  cp -r "$dir" "$2"
  chmod -R u+w "$2"
}

# The version is stamped the way Pulumi's Makefile does, so `pulumi version` and the Automation
# API's version check see a real release number.
ldflags() { echo "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$1"; }

build_cli() {
  log "building the pulumi CLI v$PULUMI_VERSION from Go modules (10-20 minutes, once)"
  copy_module "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" "$work/pkg"
  (
    cd "$work/pkg"
    go mod edit -dropreplace=github.com/pulumi/pulumi/sdk/v3
    go get "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"
    go build -trimpath -ldflags "$(ldflags "$PULUMI_VERSION")" -o "$VIC_BIN/pulumi.tmp" ./cmd/pulumi
  ) || die "building github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$PULUMI_VERSION failed (see the go error above)"
  mv -f "$VIC_BIN/pulumi.tmp" "$VIC_BIN/pulumi"
  echo "$PULUMI_VERSION" >"$VIC_BIN/.pulumi.version"
}

build_language_host() {
  log "building pulumi-language-nodejs (sdk/v3 v$LANGUAGE_HOST_VERSION) from Go modules"
  copy_module "github.com/pulumi/pulumi/sdk/v3@v$LANGUAGE_HOST_VERSION" "$work/sdk"
  (
    cd "$work/sdk"
    go build -trimpath -ldflags "$(ldflags "$LANGUAGE_HOST_VERSION")" \
      -o "$VIC_BIN/pulumi-language-nodejs.tmp" ./nodejs/cmd/pulumi-language-nodejs
  ) || die "building github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs@v$LANGUAGE_HOST_VERSION failed (see the go error above)"
  mv -f "$VIC_BIN/pulumi-language-nodejs.tmp" "$VIC_BIN/pulumi-language-nodejs"
  echo "$LANGUAGE_HOST_VERSION" >"$VIC_BIN/.pulumi-language-nodejs.version"
}

current pulumi "$PULUMI_VERSION" || build_cli
current pulumi-language-nodejs "$LANGUAGE_HOST_VERSION" || build_language_host
log "pulumi $("$VIC_BIN/pulumi" version) and pulumi-language-nodejs are in $VIC_BIN"
