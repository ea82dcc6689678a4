#!/usr/bin/env bash
# profiles: test
# terraform-provider-stub (bench/stub-provider): a Go provider that serves vic's schema and does no
# work, the benchmarks' baseline for Terraform's own cost per resource with an external provider
# (bench/README.md). Built into .cache/bin with schema.json beside it, and installed into the
# filesystem mirror .cache/terraform-mirror as registry.terraform.io/vic-iac/stub.
#
# Quick when done: the schema is regenerated only when provider/ or src/ changed since it was
# written (it derives from them), the binary rebuilt only when bench/stub-provider changed, and
# the mirror refreshed only when either differs from its copy there.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$VIC_ROOT"

VERSION="0.1.0"
MIRROR="$VIC_CACHE/terraform-mirror"
ADDRESS="registry.terraform.io/vic-iac/stub"
SOURCE="bench/stub-provider"
binary="$VIC_BIN/terraform-provider-stub"
schema="$VIC_BIN/schema.json"
target="$MIRROR/$ADDRESS/$VERSION/$(terraform_platform)"

# Test workers and a bench may run setup at the same time: one builds, the others wait.
exec 9>"$VIC_CACHE/stub-provider.lock"
flock 9

if stale "$schema" provider src package-lock.json; then
  [ -x node_modules/.bin/tsx ] || die "node_modules/.bin/tsx missing: run \"npm ci\" (scripts/peers/10-npm.sh) before $0"
  log "writing vic's provider schema for the stub provider ($schema)"
  node_modules/.bin/tsx -e 'process.stdout.write(JSON.stringify(require("./provider/schema").providerSchemaJson()))' >"$schema.tmp" ||
    die "cannot write the provider schema with provider/schema.ts providerSchemaJson(); see the error above"
  grep -q '"registry.terraform.io/vic-iac/vic"' "$schema.tmp" || die "$schema.tmp holds no registry.terraform.io/vic-iac/vic entry: providerSchemaJson() changed shape; bench/stub-provider/schema.go reads that entry"
  mv -f "$schema.tmp" "$schema"
fi

if stale "$binary" "$SOURCE"; then
  command -v go >/dev/null || die "go not found: install Go >= 1.25 (https://go.dev/dl); the stub provider is built from $SOURCE"
  log "building terraform-provider-stub from $SOURCE (about a minute the first time)"
  export GOFLAGS="${GOFLAGS:--buildvcs=false}"
  (cd "$SOURCE" && go build -trimpath -ldflags "-s -w" -o "$binary.tmp" .) ||
    die "go build of $SOURCE failed (see the go error above); check access to the Go module proxy ($(go env GOPROXY))"
  mv -f "$binary.tmp" "$binary"
fi

# Terraform runs the first file named terraform-provider-stub* in the package directory, and the
# stub reads schema.json beside its own (resolved) path.
mkdir -p "$target"
installed="$target/terraform-provider-stub_v$VERSION"
if ! cmp -s "$binary" "$installed"; then
  cp -f "$binary" "$installed.tmp" && mv -f "$installed.tmp" "$installed"
  log "installed vic-iac/stub $VERSION into $target"
fi
if ! cmp -s "$schema" "$target/schema.json"; then
  cp -f "$schema" "$target/schema.json.tmp" && mv -f "$target/schema.json.tmp" "$target/schema.json"
fi
