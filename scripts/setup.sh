#!/usr/bin/env bash
# Idempotent setup for a fresh machine: Debian packages, npm packages, and the peers we build
# ourselves (the vcsim launcher, the tether, ...). Each step lives in scripts/peers/NN-*.sh and
# returns quickly when its work is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/peers/[0-9]*.sh; do
  bash "$step"
done
