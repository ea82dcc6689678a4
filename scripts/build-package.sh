#!/usr/bin/env bash
# What `npm pack` / `npm publish` ship (the package.json "prepack" script), built from scratch into dist/:
#   dist/src, dist/pulumi-component, dist/cdktf   compiled JS and .d.ts (tsconfig.build.json)
#   dist/terraform-provider                        the provider bundle (bin/terraform-provider-vic runs it)
#   dist/bootstrap.iso                             the ISO container VMs boot (src/resources/bootstrap-iso.ts finds it)
# The package.json "files" list picks these; tests, Go sources and the TypeScript sources stay out.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$VIC_ROOT"

iso="$VIC_CACHE/bootstrap/bootstrap.iso"
[ -f "$iso" ] || die "$iso is missing: run \"npm run setup\" first (it builds the bootstrap ISO the package ships)"

rm -rf dist
log "compiling the package (tsconfig.build.json)"
node_modules/.bin/tsc -p tsconfig.build.json
bash scripts/build-provider.sh dist/terraform-provider --no-sourcemap
rm -f dist/terraform-provider.lock
cp "$iso" dist/bootstrap.iso
