#!/usr/bin/env bash
# Bundles terraform-provider-vic with esbuild into a directory (default .cache/provider), rebuilt
# only when provider/, src/ or the lock file changed since: boot.js (what the launcher runs),
# main.js (the handshake), protocol-static.js (the plugin protocol's messages and services,
# generated from provider/proto), engine-entry.js (the engine, loaded on first use) and
# self-signed.js (the TLS certificate's generator, loaded when none is cached).
# install-provider.sh, the npm package (scripts/build-package.sh) and the release
# (scripts/release.sh) all ship this one bundle.
#   scripts/build-provider.sh [out-dir] [--no-sourcemap]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$VIC_ROOT"

build="${1:-$VIC_CACHE/provider}"
sourcemap="--sourcemap"
[ "${2:-}" = "--no-sourcemap" ] && sourcemap=""
mkdir -p "$(dirname "$build")"

# Parallel test workers install at the same time: one builds, the others wait for it.
exec 9>"$build.lock"
flock 9
stale "$build/main.js" provider src package-lock.json scripts/build-provider.sh scripts/build-protocol.ts || exit 0
log "bundling terraform-provider-vic with esbuild into $build"
rm -rf "$build.tmp" && mkdir -p "$build.tmp"
# module before main: ESM builds (e.g. @peculiar/x509) tree-shake, which halves their load time.
# The engine is a second bundle that main.js requires on first use (provider/engine-entry.ts), and
# the X.509 library that makes the TLS certificate a third (provider/self-signed.ts, used only when
# no cached certificate can be reused): every start reads, hashes and loads all of main.js, so it
# carries only what the handshake needs. The protocol is static code of its own (protocol-static.js,
# scripts/build-protocol.ts): protobufjs with its parser, which only the source tree uses, stays out,
# and so does @grpc/proto-loader, which grpc-js loads only for channelz and ORCA (neither is served).
node_modules/.bin/esbuild provider/main.ts "${VIC_MAIN_BUNDLE_FLAGS[@]}" $sourcemap --outfile="$build.tmp/main.js" --log-level=warning \
  --metafile="$build.tmp/main.meta.json"
# A stray import (a helper's neighbour, a value where a type was meant) can pull the engine's
# libraries into main.js and double every start's load: refuse it where it is made. main.js carries
# the handshake's packages only; another one needs a measured reason (bench/provider-startup.ts).
node -e '
  const allowed = new Set(["@grpc/grpc-js", "@js-sdsl/ordered-map", "@msgpack/msgpack"]);
  const { outputs } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const output = outputs[Object.keys(outputs).find((f) => f.endsWith("/main.js"))];
  const packages = new Set();
  for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (m && bytesInOutput > 0 && !allowed.has(m[1])) packages.add(m[1]);
  }
  if (packages.size) {
    console.error("[setup] error: main.js, which every provider start loads, now bundles " + [...packages].join(", ") + "; import what needs it from provider/engine-entry.ts (loaded on first use), or add it to the allowed packages in scripts/build-provider.sh with a measured reason");
    process.exit(1);
  }
' "$build.tmp/main.meta.json"
rm "$build.tmp/main.meta.json"
node_modules/.bin/tsx scripts/build-protocol.ts "$build.tmp/protocol-static.js" $sourcemap
node_modules/.bin/esbuild provider/engine-entry.ts --bundle --platform=node --target=node20 --minify \
  --main-fields=module,main $sourcemap --outfile="$build.tmp/engine-entry.js" --log-level=warning \
  --metafile="$build.tmp/engine-entry.meta.json"
# undici's entry file loads fetch, WebSocket, the cache and mock agents at every start that connects:
# the engine takes what it uses from src/vsphere/undici-core.ts, and an import of 'undici' is refused.
node -e '
  const { outputs } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const output = outputs[Object.keys(outputs).find((f) => f.endsWith("/engine-entry.js"))];
  if ("node_modules/undici/index.js" in output.inputs) {
    console.error("[setup] error: engine-entry.js now bundles undici'"'"'s entry file (an import of \"undici\"); import from src/vsphere/undici-core.ts instead");
    process.exit(1);
  }
' "$build.tmp/engine-entry.meta.json"
rm "$build.tmp/engine-entry.meta.json"
node_modules/.bin/esbuild provider/self-signed.ts --bundle --platform=node --target=node20 --minify \
  --main-fields=module,main $sourcemap --outfile="$build.tmp/self-signed.js" --log-level=warning
# What the launcher runs: loads main.js (and later engine-entry.js) with a V8 code cache (provider/code-cache.ts).
node_modules/.bin/esbuild provider/boot.ts --bundle --platform=node --target=node20 --minify \
  --external:./main --outfile="$build.tmp/boot.js" --log-level=warning
rm -rf "$build" && mv "$build.tmp" "$build"
