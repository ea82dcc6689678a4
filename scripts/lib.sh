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
