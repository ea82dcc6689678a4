#!/usr/bin/env bash
# Idempotent setup for a fresh machine: Debian packages, npm packages, and the peers we build
# ourselves (the vcsim launcher, the tether, ...). Each step lives in scripts/peers/NN-*.sh and
# returns quickly when its work is already done.
#
#   scripts/setup.sh [--profile test|demo] [--list]
#     test (the default, `npm run setup` and `npm test`): everything the whole suite needs.
#     demo (`npm run demo`): only what the demo runs: its Debian packages, the npm packages, the
#          simulator and the bootstrap ISO; not the pulumi CLI, terraform, OpenTofu or the Go providers.
# --list prints the steps and Debian packages of the profile instead of running them.
# A step names the profiles it belongs to in a "# profiles: ..." line; the Debian step installs
# the packages of debian-packages.txt tagged for the profile.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=test
list=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="${2:-}"; shift 2 ;;
    --profile=*) profile="${1#--profile=}"; shift ;;
    --list) list=1; shift ;;
    *) echo "setup.sh: unknown argument \"$1\" (usage: scripts/setup.sh [--profile test|demo] [--list])" >&2; exit 2 ;;
  esac
done
case "$profile" in
  test | demo) ;;
  *) echo "setup.sh: unknown profile \"$profile\": use test (everything the suite needs) or demo (what npm run demo needs)" >&2; exit 2 ;;
esac
export VIC_SETUP_PROFILE="$profile"
for step in scripts/peers/[0-9]*.sh; do
  profiles="$(sed -n 's/^# profiles:[[:space:]]*//p' "$step" | head -n 1)"
  [ -n "$profiles" ] || { echo "setup.sh: $step has no \"# profiles:\" line" >&2; exit 1; }
  case " $profiles " in
    *" $profile "*) if [ -n "$list" ]; then echo "step $step"; else bash "$step"; fi ;;
  esac
done
if [ -n "$list" ]; then
  VIC_SETUP_PROFILE="$profile" bash scripts/peers/00-debian.sh --list | sed 's/^/debian /'
fi
