#!/usr/bin/env bash
# profiles: demo test
# Installs the npm packages pinned in package-lock.json, unless node_modules already holds them.
#
# "Already holds" compares contents, not file times: npm's record of what it installed
# (node_modules/.package-lock.json) must list every package of the lock file at the same version.
# A fresh checkout or a git worktree has a newer package-lock.json than an install that matches it.
# node_modules as a symlink (a shared install) is never reinstalled here: `npm ci` would empty the
# directory it points to, for everyone who shares it.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$VIC_ROOT"
if [ -f node_modules/.package-lock.json ] && node -e '
  const fs = require("fs");
  const want = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages;
  const have = JSON.parse(fs.readFileSync("node_modules/.package-lock.json", "utf8")).packages;
  const differ = Object.keys(want).filter((p) => p !== "" && !want[p].link && !want[p].optional && (!have[p] || have[p].version !== want[p].version));
  process.exit(differ.length === 0 ? 0 : 1);
'; then
  exit 0
fi
if [ -L node_modules ]; then
  die "node_modules is a symlink to $(readlink -f node_modules), which does not match package-lock.json; run \"npm ci\" where it points, or replace the symlink with a directory"
fi
log "installing npm packages (npm ci)"
npm ci --no-audit --no-fund --loglevel=error
