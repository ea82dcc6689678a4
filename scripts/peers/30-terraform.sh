#!/usr/bin/env bash
# profiles: test
# The terraform CLI: the preinstalled one when present, else v1.5.7 (the last MPL release) built
# from Go modules into .cache/bin.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
command -v terraform >/dev/null && exit 0
[ -x "$VIC_BIN/terraform" ] && exit 0
log "building terraform v1.5.7 from Go modules (a few minutes, once)"
GOBIN="$VIC_BIN" go install github.com/hashicorp/terraform@v1.5.7
