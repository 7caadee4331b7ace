# Shared by the end-to-end scripts: a temp work directory, a server started
# on a free loopback port (extra `cairn serve` flags in SERVE_ARGS), bounded
# waits, and failure reporting with the server log. Source it after setting
# CAIRN; it cd's into $WORK and removes it on exit.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/start_server.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-e2e-XXXXXX")
SERVER_PID=
EXTRA_PIDS=()  # more servers a test started; stopped on exit too
cleanup() {
  for pid in "$SERVER_PID" "${EXTRA_PIDS[@]}"; do
    if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
export CAIRN_PASSPHRASE="e2e passphrase, not secret"

fail() { echo "FAIL: $*" >&2; echo "--- server log ---" >&2; tail -n 50 server.log >&2 || true; exit 1; }
step() { echo "== $*"; }

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s.
wait_until() {
  local limit=$1 what=$2; shift 2
  for _ in $(seq 1 $((limit * 5))); do "$@" && return 0; sleep 0.2; done
  fail "timed out after ${limit}s waiting for: $what"
}

stop_server() {
  kill -TERM "$SERVER_PID"
  for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$SERVER_PID" 2>/dev/null && fail "server did not stop on SIGTERM within 10 s"
  wait "$SERVER_PID" || true
  SERVER_PID=
}

