#!/usr/bin/env bash
# The vSphere simulator: our launcher (test/vcsim, govmomi v0.46.3 from the Go module proxy) built
# into .cache/bin/vcsim-launcher, rebuilt only when its sources are newer than the binary.
#
# Fallback when the module proxy is unreachable: Debian's golang-github-vmware-govmomi-dev
# (0.24.2) in GOPATH mode. Untested: 0.24.2's simulator API predates the task and locking hooks
# the control API uses, so expect compile errors there; it is kept as the documented last resort.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
src="$VIC_ROOT/test/vcsim"
out="$VIC_BIN/vcsim-launcher"
stale "$out" "$src" || exit 0
command -v go >/dev/null || die "go not found: install Go >= 1.22 (https://go.dev/dl) or 'apt-get install golang-go' for the offline fallback"
log "building the vcsim launcher (govmomi v0.46.3) into $out"
tmp="$out.$$.tmp"
trap 'rm -f "$tmp"' EXIT
cd "$src"
if go mod download 2>/dev/null; then
  go build -trimpath -o "$tmp" .
else
  gopath=/usr/share/gocode
  [ -d "$gopath/src/github.com/vmware/govmomi" ] ||
    die "cannot download Go modules and no offline govmomi: check network access to proxy.golang.org, or 'apt-get install golang-go golang-github-vmware-govmomi-dev'"
  log "module download failed; trying Debian's govmomi in GOPATH mode (untested fallback)"
  export GOCACHE="${GOCACHE:-$VIC_CACHE/go-build}"
  GO111MODULE=off GOPATH="$gopath" go build -o "$tmp" .
fi
mv -f "$tmp" "$out"
touch "$out"
