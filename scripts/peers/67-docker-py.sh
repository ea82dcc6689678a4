#!/usr/bin/env bash
# profiles: test
# docker-py (the `docker` package of PyPI) in a project-local virtualenv, for the e2e test that
# drives a VCH's Docker endpoint with it (test/endpoint/docker-py.e2e.test.ts):
#   .cache/docker-py-venv       python3 -m venv, with docker==$DOCKER_PY_VERSION from PyPI
# A no-op when the virtualenv's stamp names that version. VIC_DOCKER_PY_REBUILD=1 rebuilds it.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

DOCKER_PY_VERSION="7.1.0"
VENV="$VIC_CACHE/docker-py-venv"
stamp="$VENV/.docker-py.version"

if [ -z "${VIC_DOCKER_PY_REBUILD:-}" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$DOCKER_PY_VERSION" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi
command -v python3 >/dev/null || die "python3 not found: apt-get install -y python3 python3-venv"
rm -rf "$VENV"
python3 -m venv "$VENV" || die "python3 -m venv failed: apt-get install -y python3-venv"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "docker==$DOCKER_PY_VERSION" ||
  die "pip install docker==$DOCKER_PY_VERSION failed (see pip's error above): check access to PyPI"
echo "$DOCKER_PY_VERSION" >"$stamp"
log "docker-py $DOCKER_PY_VERSION is in $VENV"
