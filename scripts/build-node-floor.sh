#!/usr/bin/env bash
# Builds bench/node-floor-provider.ts into a provider directory of its own (boot.js and the side
# bundles of scripts/build-provider.sh, main.js the floor's): row 1's Node floor for bench/refresh-cpu.ts.
#   scripts/build-node-floor.sh <out-dir>
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$VIC_ROOT"
out="${1:?usage: scripts/build-node-floor.sh <out-dir>}"
bash scripts/build-provider.sh "$out.provider"
rm -rf "$out" && cp -r "$out.provider" "$out"
node_modules/.bin/esbuild bench/node-floor-provider.ts "${VIC_MAIN_BUNDLE_FLAGS[@]}" --sourcemap --outfile="$out/main.js" --log-level=warning
