#!/usr/bin/env bash
# Builds terraform-provider-vic (its esbuild bundles, scripts/build-provider.sh) and installs it into a
# Terraform / OpenTofu filesystem mirror, idempotently:
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

bash scripts/build-provider.sh "$build"

# Terraform and OpenTofu run the first file named terraform-provider-vic* in the package directory.
# A bare `source = "vic-iac/vic"` means registry.terraform.io to Terraform and registry.opentofu.org to
# OpenTofu; both read ~/.terraform.d/plugins, so the provider goes under both host names.
iso="$VIC_CACHE/bootstrap/bootstrap.iso"
[ -f "$iso" ] || log "no $iso yet (npm run setup builds it): VCHs will need bootstrap_iso set"
for host in registry.terraform.io registry.opentofu.org; do
  target="$mirror/$host/vic-iac/vic/$version/${os}_${arch}"
  mkdir -p "$target"
  # Earlier versions shipped the .proto files; the protocol is compiled into protocol-static.js now.
  rm -rf "$target/proto"
  cp "$build/"*.js "$target/"
  cp "$build/"*.js.map "$target/" 2>/dev/null || true
  # The bootstrap ISO container VMs boot; VCHs that name none get it uploaded (src/resources/bootstrap-iso.ts).
  [ -f "$iso" ] && cp "$iso" "$target/bootstrap.iso"
  launcher="$target/terraform-provider-vic_v$version"
  cat >"$launcher.tmp" <<SH
#!/bin/sh
# terraform-provider-vic $version, installed by vic-iac
# Not \$(dirname ...): a command substitution forks a subshell and a process, a good share of a start.
case "\$0" in */*) dir="\${0%/*}" ;; *) dir=. ;; esac
$VIC_DEFER_EXTRA_CA_CERTS
exec "$node_bin" "\$dir/boot.js" "\$@"
SH
  chmod 0755 "$launcher.tmp" && mv "$launcher.tmp" "$launcher"
  log "installed vic-iac/vic $version into $target"
done
