#!/usr/bin/env bash
# Builds cairn and runs the whole test suite (unit, API on loopback, CLI +
# openssl end to end) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2
