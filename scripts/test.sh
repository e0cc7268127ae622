#!/usr/bin/env bash
# Quick start, command 2: set up everything the tests need, then lint, type-check and test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev

echo "== ruff"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
echo "== mypy"
.venv/bin/mypy
echo "== chromium"
ASSISTGATE_CHROMIUM=$(bash scripts/chromium.sh)
export ASSISTGATE_CHROMIUM
echo "== audio tools (recordings tests)"
bash scripts/audio-tools.sh
echo "== nginx and openssl (deployment tests)"
bash scripts/nginx.sh
echo "== postgresql"
# A throwaway PostgreSQL server for the database tests, stopped and deleted on exit. Each run
# gets its own (own state dir, own port), so runs in parallel, and a server started by hand with
# `bash scripts/postgres.sh start`, never stop each other's. First clear away the servers of
# earlier runs that died without cleaning up.
for stale in var/pg/test-run.*; do
    [ -d "$stale" ] || continue
    kill -0 "${stale##*.}" 2>/dev/null && continue # that run is still going
    ASSISTGATE_PG_STATE_DIR="$PWD/$stale" bash scripts/postgres.sh stop || true
done
export ASSISTGATE_PG_STATE_DIR="$PWD/var/pg/test-run.$$"
trap 'bash scripts/postgres.sh stop || true' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
ASSISTGATE_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start)
export ASSISTGATE_TEST_POSTGRES_URL
echo "test.sh: PostgreSQL for the tests at $ASSISTGATE_TEST_POSTGRES_URL"

echo "== pytest"
set +e
.venv/bin/pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "test.sh: pytest collected no tests; that is a failure here" >&2
    exit 1
fi
exit "$status"
