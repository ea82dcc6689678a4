#!/usr/bin/env bash
# profiles: demo test
# Installs the Debian packages listed in debian-packages.txt for the setup profile
# ($VIC_SETUP_PROFILE, default test) that are not installed yet; --list prints them instead.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
profile="${VIC_SETUP_PROFILE:-test}"
want=$(grep -vE '^\s*(#|$)' "$(dirname "$0")/debian-packages.txt" |
  awk -v p="$profile" '{ if (NF == 1) { print $1; next } for (i = 2; i <= NF; i++) if ($i == p) { print $1; next } }')
if [ "${1:-}" = "--list" ]; then
  printf '%s\n' $want
  exit 0
fi
missing=()
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
log "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
