#!/usr/bin/env bash
# Builds terraform-provider-vic (one esbuild bundle plus its .proto files) and installs it into a
# Terraform filesystem mirror, idempotently:
#   scripts/install-provider.sh                 -> ~/.terraform.d/plugins (the implicit local mirror)
#   scripts/install-provider.sh /path/to/mirror -> a mirror named in a CLI config's filesystem_mirror
# The bundle also lands in .cache/provider/, which bin/terraform-provider-vic runs (dev_overrides).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$VIC_ROOT"

mirror="${1:-$HOME/.terraform.d/plugins}"
version="$(node -p 'require("./package.json").version')"
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
os="$(uname -s | tr '[:upper:]' '[:lower:]')"
build="$VIC_CACHE/provider"
node_bin="$(command -v node)" || die "node is not on PATH; install Node.js 20 (see README)"

# Parallel test workers install at the same time: one builds, the others wait for it.
exec 9>"$VIC_CACHE/provider.lock"
flock 9
if stale "$build/main.js" provider src package-lock.json scripts/install-provider.sh; then
  log "bundling terraform-provider-vic with esbuild"
  rm -rf "$build.tmp" && mkdir -p "$build.tmp/proto"
  # module before main: ESM builds (e.g. @peculiar/x509) tree-shake, which halves their load time.
  # The engine is a second bundle that main.js requires on first use (provider/engine-entry.ts):
  # V8 parses all of a script it loads, so main.js carries only what the handshake needs.
  npx --no-install esbuild provider/main.ts --bundle --platform=node --target=node20 --minify \
    --main-fields=module,main --sourcemap --external:./engine-entry --outfile="$build.tmp/main.js" --log-level=warning
  npx --no-install esbuild provider/engine-entry.ts --bundle --platform=node --target=node20 --minify \
    --main-fields=module,main --sourcemap --outfile="$build.tmp/engine-entry.js" --log-level=warning
  # What the launcher runs: loads main.js (and later engine-entry.js) with a V8 code cache (provider/code-cache.ts).
  npx --no-install esbuild provider/boot.ts --bundle --platform=node --target=node20 --minify \
    --external:./main --outfile="$build.tmp/boot.js" --log-level=warning
  cp provider/proto/*.proto "$build.tmp/proto/"
  # The descriptor the bundle loads instead of parsing .proto text at every start (provider/protocol.ts).
  npx --no-install tsx -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify(require("./provider/protocol").compileDescriptor()))' \
    "$build.tmp/proto/descriptor.json"
  rm -rf "$build" && mv "$build.tmp" "$build"
fi

# Terraform runs the first file named terraform-provider-vic* in the package directory.
target="$mirror/registry.terraform.io/vic-iac/vic/$version/${os}_${arch}"
mkdir -p "$target/proto"
cp "$build/"*.js "$build/"*.js.map "$target/"
cp "$build/proto/"* "$target/proto/"
# The bootstrap ISO container VMs boot; VCHs that name none get it uploaded (src/resources/bootstrap-iso.ts).
iso="$VIC_CACHE/bootstrap/bootstrap.iso"
if [ -f "$iso" ]; then cp "$iso" "$target/bootstrap.iso"; else log "no $iso yet (npm run setup builds it): VCHs will need bootstrap_iso set"; fi
launcher="$target/terraform-provider-vic_v$version"
cat >"$launcher.tmp" <<SH
#!/bin/sh
# terraform-provider-vic $version, installed by vic-iac scripts/install-provider.sh
exec "$node_bin" "\$(dirname "\$0")/boot.js" "\$@"
SH
chmod 0755 "$launcher.tmp" && mv "$launcher.tmp" "$launcher"
log "installed vic-iac/vic $version into $target"
