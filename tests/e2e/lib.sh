# Shared by the end-to-end scripts: a temp work directory, a server started
# on a free loopback port (extra `cairn serve` flags in SERVE_ARGS), bounded
# waits, and failure reporting with the server log. Source it after setting
# CAIRN; it cd's into $WORK and removes it on exit.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/start_server.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-e2e-XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
export CAIRN_PASSPHRASE="e2e passphrase, not secret"

fail() { echo "FAIL: $*" >&2; echo "--- server log ---" >&2; tail -n 50 server.log >&2 || true; exit 1; }
step() { echo "== $*"; }

stop_server() {
  kill -TERM "$SERVER_PID"
  for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$SERVER_PID" 2>/dev/null && fail "server did not stop on SIGTERM within 10 s"
  wait "$SERVER_PID" || true
  SERVER_PID=
}

