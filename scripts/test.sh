#!/usr/bin/env bash
# The README's test command (`npm test`): set up what is missing, then type-check, lint and run
# the whole jest suite. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --profile test
export PATH="$PWD/.cache/bin:$PATH"
npx tsc -p tsconfig.json --noEmit
npx eslint .
npx prettier --check . --log-level warn
npx jest --ci "$@"
