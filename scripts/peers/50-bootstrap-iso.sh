#!/usr/bin/env bash
# profiles: demo test
# Builds the tether and bootstrap.iso into .cache/bootstrap/ when missing or older than their
# sources (guest/tether, the build script). Debian package updates alone do not trigger a rebuild:
# delete .cache/bootstrap to pick up a new kernel.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
out="$VIC_CACHE/bootstrap/bootstrap.iso"
if stale "$out" "$VIC_ROOT/guest/tether" "$VIC_ROOT/scripts/build-bootstrap-iso.sh"; then
  log "building $out"
  bash "$VIC_ROOT/scripts/build-bootstrap-iso.sh" "$out"
fi
