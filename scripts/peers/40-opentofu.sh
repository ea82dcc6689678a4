#!/usr/bin/env bash
# profiles: test
# The OpenTofu CLI (`tofu`) for the e2e test that installs the provider the way the README tells an
# OpenTofu user: v1.6.3 built with plain `go install` from the Go module proxy into .cache/bin
# (its go.mod has no replace directive, so `go install pkg@version` accepts it).
# A no-op when the binary exists and its stamp names this version.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

TOFU_VERSION="1.6.3"
# The stamp also names the build flags: a binary from before they were added is rebuilt.
stamp="$VIC_BIN/.tofu.version"
stamp_text="$TOFU_VERSION release"
[ -x "$VIC_BIN/tofu" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$stamp_text" ] && exit 0
command -v go >/dev/null || die "go not found: install Go >= 1.21 (https://go.dev/dl); OpenTofu is built from Go modules"
log "building OpenTofu v$TOFU_VERSION from Go modules (a few minutes, once)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# version.dev=no is what OpenTofu's release build sets: without it `tofu version` says 1.6.3-dev.
GOFLAGS="${GOFLAGS:--buildvcs=false}" GOBIN="$tmp" go install -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
  "github.com/opentofu/opentofu/cmd/tofu@v$TOFU_VERSION" ||
  die "go install github.com/opentofu/opentofu/cmd/tofu@v$TOFU_VERSION failed (see the go error above); check access to the Go module proxy ($(go env GOPROXY))"
mv -f "$tmp/tofu" "$VIC_BIN/tofu"
echo "$stamp_text" >"$stamp"
log "tofu $TOFU_VERSION is in $VIC_BIN"
