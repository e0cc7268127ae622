#!/usr/bin/env bash
# Quick start, command 1: set up, build an 18-month fictional register in var/demo, and serve
# the screens on it (http://127.0.0.1:8000/ by default), printing how to sign in as each role.
# Arguments go to `assistgate serve`: e.g. bash scripts/run.sh --port 8080
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/assistgate demo --data-dir var/demo
# The demo folder's own settings (environment=demo, its own database and key): never those of
# a real deployment that may be set in this shell.
set -a
# shellcheck source=/dev/null
. var/demo/demo.env
set +a
echo
exec .venv/bin/assistgate serve "$@"
