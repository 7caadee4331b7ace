# start_server: runs `cairn serve` in the background on a free loopback
# port with the data directory ./data (extra flags in SERVE_ARGS, extra
# environment for the server alone in the array SERVE_ENV), waits a
# bounded time for it to answer /health, and sets SERVER_PID and
# CAIRN_SERVER (exported). Needs CAIRN and a `fail` function; run it from the
# test's work directory. Shared by tests/e2e and tests/crash.

start_server() {
  rm -f port
  env ${SERVE_ENV[@]+"${SERVE_ENV[@]}"} \
    "$CAIRN" serve --data-dir "$PWD/data" --listen 127.0.0.1:0 --port-file "$PWD/port" ${SERVE_ARGS:-} \
    >>server.log 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    [[ -s port ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited during start"
    sleep 0.1
  done
  [[ -s port ]] || fail "server did not report its port within 10 s"
  export CAIRN_SERVER="http://127.0.0.1:$(cat port)"
  for _ in $(seq 1 50); do
    curl -fsS --max-time 2 "$CAIRN_SERVER/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "server did not answer within 5 s"
}
