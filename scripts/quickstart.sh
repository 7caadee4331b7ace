#!/usr/bin/env bash
# Quick start: install dependencies, build, and run `cairn serve` on
# 127.0.0.1:8080 with an embedded RocksDB data directory (./cairn-data) and a
# ready root + issuing CA hierarchy. The admin token is printed on first start
# and saved in ./cairn-data/admin.token (0600). CA keys are encrypted at
# rest under a passphrase: unless CAIRN_PASSPHRASE or CAIRN_PASSPHRASE_FILE
# says otherwise, a random one is made once in ./cairn-passphrase (0600),
# outside the data directory — keep it apart from backups of the data.
# Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
if [[ -z "${CAIRN_PASSPHRASE:-}" && -z "${CAIRN_PASSPHRASE_FILE:-}" ]]; then
  if [[ ! -s cairn-passphrase ]]; then
    (umask 077 && openssl rand -hex 32 > cairn-passphrase)
    echo "created ./cairn-passphrase: the key store passphrase for this quick start"
  fi
  export CAIRN_PASSPHRASE_FILE="$PWD/cairn-passphrase"
fi
exec ./build/cli/cairn serve --data-dir "${CAIRN_DATA_DIR:-./cairn-data}" \
  --listen "${CAIRN_LISTEN:-127.0.0.1:8080}" --init-hierarchy "$@"
