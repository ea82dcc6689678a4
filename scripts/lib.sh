# Shared shell helpers for the setup and peer scripts. Sourced, never run.
# The project's own cache for built peers; tests look here first (see src/sim/peers.ts).
VIC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VIC_CACHE="${VIC_CACHE:-$VIC_ROOT/.cache}"
VIC_BIN="$VIC_CACHE/bin"
mkdir -p "$VIC_BIN"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root for: $* (re-run as root, or install it yourself)"; fi
}

# True when the file $1 is older than any file under the paths that follow.
stale() {
  local out="$1"; shift
  [ -e "$out" ] || return 0
  [ -n "$(find "$@" -newer "$out" -type f -print -quit 2>/dev/null)" ]
}

# The platform directory of a Terraform provider package in a filesystem mirror (linux_amd64).
terraform_platform() {
  local arch
  case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
  printf '%s_%s' "$(uname -s | tr '[:upper:]' '[:lower:]')" "$arch"
}

# Copies the provider binary $1 (terraform-provider-NAME) into the mirror .cache/terraform-mirror as
# address $2 (registry.terraform.io/OWNER/NAME), version $3, where `terraform init` finds it through a
# filesystem_mirror block.
install_into_terraform_mirror() {
  local name dir
  name="$(basename "$1")"
  dir="$VIC_CACHE/terraform-mirror/$2/$3/$(terraform_platform)"
  mkdir -p "$dir"
  cp -f "$1" "$dir/${name}_v$3.tmp"
  mv -f "$dir/${name}_v$3.tmp" "$dir/${name}_v$3"
}

# The provider launchers' lines that move NODE_EXTRA_CA_CERTS to VIC_EXTRA_CA_CERTS: with it set, Node
# builds its whole root store while it starts (~45 ms of CPU, 3-4 starts per Terraform command); the
# provider rebuilds that trust on its first TLS connection instead (src/extra-ca-certs.ts). Left alone
# when NODE_OPTIONS picks another CA store (--use-openssl-ca, ...). src/cli/provider-install.ts and
# bin/terraform-provider-vic hold the same lines (test/integration/vsphere/extra-ca-certs.test.ts).
VIC_DEFER_EXTRA_CA_CERTS='# NODE_EXTRA_CA_CERTS would cost every start its whole root store: the provider loads it on first use.
case "${NODE_OPTIONS:-}" in *--use-*-ca*) ;; *) [ -z "${NODE_EXTRA_CA_CERTS:-}" ] || { export VIC_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; } ;; esac'

# How main.js (what every provider start loads) is bundled: the engine, the certificate generator and
# what only the source tree uses stay out of it (scripts/build-provider.sh; scripts/build-node-floor.sh
# bundles the benchmark's floor the same way).
VIC_MAIN_BUNDLE_FLAGS=(--bundle --platform=node --target=node20 --minify --main-fields=module,main
  --external:./engine-entry --external:./self-signed --external:protobufjs --external:@grpc/proto-loader)
