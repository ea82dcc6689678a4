#!/usr/bin/env bash
# `npm run release [out-dir]`: terraform-provider-vic as release artifacts, in the layout HashiCorp's
# release tooling and `terraform providers mirror` produce (default out-dir: release/):
#   terraform-provider-vic_<v>_<os>_<arch>.zip   one per platform (the provider is JavaScript, so
#                                                 the zips hold the same files: the bundles, the
#                                                 bootstrap ISO and a launcher that runs them with
#                                                 `node`)
#   terraform-provider-vic_<v>_manifest.json     protocol versions, as a registry reads them
#   terraform-provider-vic_<v>_SHA256SUMS        sha256 of the zips and the manifest
#   mirror/<host>/vic-iac/vic/                   a provider mirror for registry.terraform.io and
#                                                 registry.opentofu.org: index.json, <v>.json and the
#                                                 zips. Served over HTTPS it is a `network_mirror`;
#                                                 on disk it is a `filesystem_mirror` (packed layout).
# The zips are reproducible (fixed times, no extra attributes), so SHA256SUMS only changes with the content.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$VIC_ROOT"

out="$(mkdir -p "${1:-release}" && cd "${1:-release}" && pwd)"
version="$(node -p 'require("./package.json").version')"
name="terraform-provider-vic"
platforms=(linux_amd64 linux_arm64 darwin_amd64 darwin_arm64)
hosts=(registry.terraform.io registry.opentofu.org)
iso="$VIC_CACHE/bootstrap/bootstrap.iso"
[ -f "$iso" ] || die "$iso is missing: run \"npm run setup\" first (the provider ships the bootstrap ISO container VMs boot)"
command -v zip >/dev/null || die "zip not found: apt-get install -y zip"

bash scripts/build-provider.sh "$VIC_CACHE/provider-release" --no-sourcemap

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/pkg"
mkdir -p "$pkg"
cp "$VIC_CACHE/provider-release/"*.js "$pkg/"
cp "$iso" "$pkg/bootstrap.iso"
# Terraform runs the first file named terraform-provider-vic* in the package; node comes from PATH
# (or VIC_NODE), since a release cannot know where the user's Node.js lives.
cat >"$pkg/${name}_v$version" <<SH
#!/bin/sh
# terraform-provider-vic: a Node.js program (Node >= 20 on PATH, or its path in VIC_NODE).
# Not \$(dirname ...): a command substitution forks a subshell and a process, a good share of a start.
case "\$0" in */*) dir="\${0%/*}" ;; *) dir=. ;; esac
$VIC_DEFER_EXTRA_CA_CERTS
exec "\${VIC_NODE:-node}" "\$dir/boot.js" "\$@"
SH
chmod 0755 "$pkg/${name}_v$version"
chmod -R u=rwX,go=rX "$pkg" && chmod 0755 "$pkg/${name}_v$version"
find "$pkg" -exec touch -h -d '2000-01-01 00:00:00 UTC' {} +

# Terraform's "h1:" package hash (golang.org/x/mod/sumdb/dirhash Hash1): the sha256 of the sorted
# "<sha256>  <path>" lines of every file. The zip holds no directory entries (zip -D), so the hash
# of the zip and of its unpacked directory agree.
h1="h1:$(cd "$pkg" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | while IFS= read -r f; do
  printf '%s  %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"
done | node -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(0)).digest("base64"))')"

rm -rf "$out/mirror" "$out/${name}_"*
zipfile="$stage/$name.zip"
(cd "$pkg" && LC_ALL=C find . -type f | sed 's|^\./||' | LC_ALL=C sort | TZ=UTC zip -q -X -D "$zipfile" -@)
for p in "${platforms[@]}"; do cp "$zipfile" "$out/${name}_${version}_$p.zip"; done
printf '{\n  "version": 1,\n  "metadata": {\n    "protocol_versions": ["6.0"]\n  }\n}\n' >"$out/${name}_${version}_manifest.json"
(cd "$out" && sha256sum "${name}_${version}_"*.zip "${name}_${version}_manifest.json" >"${name}_${version}_SHA256SUMS")

# The provider mirror protocol: index.json lists versions, <version>.json the archives and hashes
# (the files `terraform providers mirror` writes).
archives=""
for p in "${platforms[@]}"; do
  zh="zh:$(sha256sum <"$out/${name}_${version}_$p.zip" | cut -d' ' -f1)"
  archives="$archives${archives:+,
}    \"$p\": {\"url\": \"${name}_${version}_$p.zip\", \"hashes\": [\"$h1\", \"$zh\"]}"
done
for host in "${hosts[@]}"; do
  dir="$out/mirror/$host/vic-iac/vic"
  mkdir -p "$dir"
  printf '{\n  "versions": {\n    "%s": {}\n  }\n}\n' "$version" >"$dir/index.json"
  printf '{\n  "archives": {\n%s\n  }\n}\n' "$archives" >"$dir/$version.json"
  # Hard links: the same bytes as the release zips, without the disk space.
  for p in "${platforms[@]}"; do ln -f "$out/${name}_${version}_$p.zip" "$dir/"; done
done
log "terraform-provider-vic $version released into $out ($h1)"
