#!/usr/bin/env bash
# Quick start, command 1: set up and run assistgate with realistic demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/assistgate demo "$@"
