#!/usr/bin/env bash
# Installs the npm packages pinned in package-lock.json, unless node_modules already matches it.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$VIC_ROOT"
if [ -f node_modules/.package-lock.json ] && ! stale node_modules/.package-lock.json package-lock.json; then
  exit 0
fi
log "installing npm packages (npm ci)"
npm ci --no-audit --no-fund --loglevel=error
