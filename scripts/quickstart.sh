#!/usr/bin/env bash
# Quick start: install dependencies, build, and run `cairn serve` on
# 127.0.0.1:8080 with an embedded RocksDB data directory (./cairn-data) and a
# ready root + issuing CA hierarchy. The admin token is printed on first start
# and saved in ./cairn-data/admin.token (0600). Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec ./build/cli/cairn serve --data-dir "${CAIRN_DATA_DIR:-./cairn-data}" \
  --listen "${CAIRN_LISTEN:-127.0.0.1:8080}" --init-hierarchy "$@"
