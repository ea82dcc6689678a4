#!/usr/bin/env bash
# profiles: demo test
# The vSphere simulator: our launcher (src/sim/launcher with the guest runner src/sim/runner, govmomi v0.46.3) built
# into .cache/bin/vcsim-launcher, rebuilt only when its sources are newer than the binary.
#
# No offline fallback: Debian's golang-github-vmware-govmomi-dev (0.24.2) lacks the simulator hooks
# the control API needs (Registry.AtomicUpdate, SpoofContext, Task.Wait, AllReference); a GOPATH
# build against it fails to compile, so the module proxy is required.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
src="$VIC_ROOT/src/sim/launcher"
out="$VIC_BIN/vcsim-launcher"
stale "$out" "$src" "$VIC_ROOT/src/sim/runner" || exit 0
command -v go >/dev/null || die "go not found: install Go >= 1.22 (Debian 12's golang-go is 1.19, too old; see https://go.dev/dl)"
log "building the vcsim launcher (govmomi v0.46.3) into $out"
tmp="$out.$$.tmp"
trap 'rm -f "$tmp"' EXIT
cd "$src"
go mod download || die "cannot download github.com/vmware/govmomi v0.46.3: the vcsim launcher needs the Go module proxy (GOPROXY=$(go env GOPROXY))"
go build -trimpath -o "$tmp" .
mv -f "$tmp" "$out"
touch "$out"
