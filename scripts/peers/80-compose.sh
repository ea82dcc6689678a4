#!/usr/bin/env bash
# profiles: test
# The docker compose CLI plugin (github.com/docker/compose/v5 v5.6.0, pinned by the module in
# scripts/peers/compose), built into .cache/bin/docker-compose: test/endpoint/compose.test.ts runs
# it against the endpoint as `docker compose`, linked into the test's $DOCKER_CONFIG/cli-plugins.
# Rebuilt only when scripts/peers/compose changed since the binary was written.
#
# No Debian fallback: Debian 12's docker-compose is compose v1 (1.29.2, Python), not the `docker compose`
# plugin users type; the module proxy is required. Go >= 1.26.8 (compose v5.6.0's go.mod);
# The first build takes about 2 minutes on 2 cores (15 s of downloads, 90 s of CPU); later runs return at once.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
src="$VIC_ROOT/scripts/peers/compose"
out="$VIC_BIN/docker-compose"

# Test workers may run setup at the same time: one builds, the others wait.
exec 9>"$VIC_CACHE/compose.lock"
flock 9

stale "$out" "$src" || exit 0
command -v go >/dev/null || die "go not found: install Go >= 1.26.8 (https://go.dev/dl); the compose plugin is built from $src"
log "building the docker compose plugin (github.com/docker/compose/v5 v5.6.0) into $out (about 2 minutes the first time)"
tmp="$out.$$.tmp"
trap 'rm -f "$tmp"' EXIT
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
# The module's go line names the Go it needs; never let the go command fetch another toolchain.
export GOTOOLCHAIN=local
cd "$src"
go mod download ||
  die "cannot download github.com/docker/compose/v5 v5.6.0 and its modules: the compose plugin needs the Go module proxy (GOPROXY=$(go env GOPROXY))"
# The version compose reports (`docker compose version`, its User-Agent and its com.docker.compose.version
# label) is set at link time, as compose's own Makefile does; it must match go.mod's.
version="$(go list -m -f '{{.Version}}' github.com/docker/compose/v5)"
go build -trimpath -ldflags "-s -w -X github.com/docker/compose/v5/internal.Version=$version" -o "$tmp" github.com/docker/compose/v5/cmd ||
  die "go build of github.com/docker/compose/v5/cmd failed (see the go error above); it needs Go >= 1.26.8 (this is $(go version))"
mv -f "$tmp" "$out"
touch "$out"
