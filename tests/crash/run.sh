#!/usr/bin/env bash
# Crash test (kill -9 and simulated power cuts). Starts the real server,
# runs concurrent issuance and revocation clients that record every answer
# the server acknowledged, kills the server with SIGKILL at random moments,
# restarts it and checks after every restart that: every acknowledged
# certificate is stored with the same DER; no serial appears twice; every
# acknowledged revocation is in the history and on the CRL; `cairn audit
# verify` passes.
# Every fifth stop (that is not a power cut) is a graceful one (SIGTERM)
# instead: closing the database
# flushes its memtable, so the snapshots (written unlogged, in pieces) reach
# disk, the restarts after it load a CA from its snapshot, and kill -9 then
# strikes while newer pieces and records are written. With 5 cycles or more
# the final audit must have verified a snapshot.
# Every third stop is a power cut instead (with SYNC_JOURNAL, by default
# build/tests/libsync_journal.so if it is there; "none": no power cuts): the
# server runs with sync_journal.so preloaded, which journals each fsync,
# creation, rename and unlink; after
# the kill -9, `crash_client power-cut` drops from the data directory every
# byte no fsync covered and every file whose directory was not synced after
# its creation, and brings back every file whose directory was not synced
# after its unlink, as a power cut would (the page cache survives a kill -9).
# What the server acknowledged must survive that too.
# Usage: tests/crash/run.sh [CYCLES] [CAIRN] [CRASH_CLIENT] [SYNC_JOURNAL]
set -euo pipefail

CYCLES=${1:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CAIRN=${2:-$ROOT/build/cli/cairn}
CLIENT=${3:-$ROOT/build/tests/crash_client}
SYNC_JOURNAL=${4:-$ROOT/build/tests/libsync_journal.so}
if [[ $SYNC_JOURNAL == none ]]; then
  SYNC_JOURNAL=
elif [[ ! -f $SYNC_JOURNAL ]]; then
  if [[ -n ${4:-} ]]; then echo "no such file: $SYNC_JOURNAL" >&2; exit 2; fi
  echo "note: $SYNC_JOURNAL is not built: no power cuts" >&2
  SYNC_JOURNAL=
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-crash-XXXXXX")
SERVER_PID=
LOAD_PID=
cleanup() {
  [[ -n "$LOAD_PID" ]] && kill "$LOAD_PID" 2>/dev/null || true
  [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
export CAIRN_PASSPHRASE="crash test passphrase"
fail() { echo "FAIL (cycle $cycle): $*" >&2; tail -n 30 server.log >&2 || true; exit 1; }

SERVE_ARGS=--init-hierarchy
source "$ROOT/tests/start_server.sh"

check_all() {
  "$CLIENT" check "$PORT" "$TOKEN" acks.txt >check.txt 2>&1 || fail "$(cat check.txt)"
  "$CAIRN" audit verify --data-dir data >verify.txt 2>&1 || fail "audit verify: $(cat verify.txt)"
}

# The server's port and admin token, after start_server.
connect() {
  PORT=${CAIRN_SERVER##*:}
  TOKEN=$(cat data/admin.token)
}

touch acks.txt
POWER_CUTS=0
for cycle in $(seq 1 "$CYCLES"); do
  power_cut=false
  [[ -n "$SYNC_JOURNAL" ]] && (( cycle % 3 == 0 )) && power_cut=true
  if $power_cut; then
    find data -type f -printf '%D %i %s\n' > baseline.txt
    rm -rf journal.txt journal.txt.graveyard
    SERVE_ENV=(CAIRN_SYNC_JOURNAL="$PWD/journal.txt" CAIRN_SYNC_JOURNAL_ROOT="$PWD/data" LD_PRELOAD="$SYNC_JOURNAL")
  else
    SERVE_ENV=()
  fi
  start_server
  connect
  check_all
  "$CLIENT" load "$PORT" "$TOKEN" acks.txt 4 30 >>load.log 2>&1 &
  LOAD_PID=$!
  # Kill at a random moment between 0.3 and 1.5 s into the load.
  delay_ms=$(( RANDOM % 1200 + 300 ))
  sleep "$(( delay_ms / 1000 )).$(printf '%03d' $(( delay_ms % 1000 )))"
  if ! $power_cut && (( cycle % 5 == 0 )); then
    kill -TERM "$SERVER_PID"
  else
    kill -9 "$SERVER_PID"
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  wait "$LOAD_PID" || fail "load client failed: $(tail -n 3 load.log)"
  LOAD_PID=
  if $power_cut; then
    [[ -s journal.txt ]] && grep -q '^S ' journal.txt && grep -q '^D ' journal.txt ||
      fail "the sync journal holds no file and directory fsyncs: was $SYNC_JOURNAL preloaded?"
    "$CLIENT" power-cut journal.txt data baseline.txt >power-cut.txt 2>&1 || fail "power-cut: $(cat power-cut.txt)"
    echo "cycle $cycle: $(tail -n 1 power-cut.txt)" >>power-cuts.log
    grep -E '^power-cut: (deleted|.* back \()' power-cut.txt | sed "s|$PWD/||; s/^/  /" >>power-cuts.log || true
    rm -rf journal.txt.graveyard  # the unlinked files that stayed unlinked
    POWER_CUTS=$((POWER_CUTS + 1))
  fi
done
cycle=final
start_server
connect
check_all
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=
if (( CYCLES >= 5 )) && grep -q ' 0 snapshots' verify.txt; then
  fail "no snapshot was verified: $(cat verify.txt)"
fi
ISSUED=$(grep -c '^issued ' acks.txt || true)
REVOKED=$(grep -c '^revoked ' acks.txt || true)
TERMS=0
for cycle in $(seq 1 "$CYCLES"); do
  [[ -n "$SYNC_JOURNAL" ]] && (( cycle % 3 == 0 )) && continue
  (( cycle % 5 == 0 )) && TERMS=$((TERMS + 1))
done
echo "crash test: $CYCLES cycles ($(( CYCLES - TERMS - POWER_CUTS )) kill -9, $POWER_CUTS power cuts, $TERMS SIGTERM), $ISSUED acknowledged issuances and $REVOKED acknowledged revocations, none lost; $(cat verify.txt)"
[[ -s power-cuts.log ]] && cat power-cuts.log
true
