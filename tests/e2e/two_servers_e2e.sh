#!/usr/bin/env bash
# End to end: two real cairn servers on loopback. Server A holds the root and
# issuing CAs; server B holds an intermediate whose parent is A's issuing CA.
# A registers the child and gives it a token; B's sync-parent task gets the
# certificate over HTTP; certificates B issues chain to A's root (openssl
# verify). With A down, B's request fails, is retried with backoff and
# visible, and completes once A is back. The child token can do nothing else.
# Usage: two_servers_e2e.sh /path/to/cairn
set -euo pipefail

CAIRN=${1:?usage: two_servers_e2e.sh /path/to/cairn}
source "$(dirname "$0")/lib.sh"

on_a() { CAIRN_SERVER=$A_URL CAIRN_TOKEN_FILE="$WORK/A/data/admin.token" "$CAIRN" "$@"; }
on_b() { CAIRN_SERVER=$B_URL CAIRN_TOKEN_FILE="$WORK/B/data/admin.token" "$CAIRN" "$@"; }
is_active() { on_b ca show "$1" --format json | grep -q '"status": "active"'; }

step "server A with a root and an issuing CA; server B empty"
mkdir A B
cd A
SERVE_ARGS="--init-hierarchy" start_server
A_PID=$SERVER_PID A_URL=$CAIRN_SERVER A_PORT=$(cat port)
EXTRA_PIDS+=("$A_PID")
SERVER_PID=
cd ../B
cat > cairn.toml <<'TOML'
[scheduler]
retry_base_seconds = 1
retry_cap_seconds = 2
TOML
SERVE_ARGS="--config $WORK/B/cairn.toml" start_server
B_PID=$SERVER_PID B_URL=$CAIRN_SERVER
cd ..
on_a ca chain root > root.pem

step "A registers the child; B creates it with the token and gets certified over HTTP"
on_a child add issuing team --format json | grep '"token"' | cut -d'"' -f4 > team.token
[[ $(wc -c < team.token) -gt 32 ]] || fail "no child token"
on_b ca create team --subject "CN=Team CA,O=B" --parent issuing --parent-url "$A_URL" \
  --parent-token-file team.token --format json > team.json
grep -q '"status": "pending"' team.json || fail "a remote child starts pending: $(cat team.json)"
grep -q "$(head -c 20 team.token)" B/server.log B/data -r 2>/dev/null && fail "the parent token leaked into B's log or data in clear"
wait_until 15 "B's team CA certified by A" is_active team
on_a cert list --ca issuing --format json | grep -q '"child_ca": "team"' || fail "A has no record of certifying team"
on_b ca chain team > team-chain.pem
[[ $(grep -c "BEGIN CERTIFICATE" team-chain.pem) == 3 ]] || fail "B's chain for team is not team, issuing, root"

step "certificates B issues chain to A's root"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout svc.key -out svc.csr \
  -subj "/CN=svc.b.example" -addext "subjectAltName=DNS:svc.b.example" 2>/dev/null
on_b cert issue --ca team --csr svc.csr --out svc.pem --chain-out svc-chain.pem >/dev/null
openssl verify -CAfile root.pem -untrusted team-chain.pem svc.pem | grep -q "svc.pem: OK" ||
  fail "a certificate from B does not verify against A's root"

step "the child token may only certify its own child"
TEAM_TOKEN=$(cat team.token)
code=$(curl -sS --max-time 5 -o out.json -w '%{http_code}' -H "Authorization: Bearer $TEAM_TOKEN" "$A_URL/api/v1/cas")
[[ $code == 403 ]] || fail "a child token read the CA list: $code $(cat out.json)"
code=$(curl -sS --max-time 5 -o out.json -w '%{http_code}' -H "Authorization: Bearer $TEAM_TOKEN" \
  -H "Content-Type: application/json" --data '{"csr": "x"}' "$A_URL/api/v1/cas/issuing/children/other/certify")
[[ $code == 403 ]] && grep -q '"not_owner"' out.json || fail "a child token certified another child: $code $(cat out.json)"
code=$(curl -sS --max-time 5 -o out.json -w '%{http_code}' -H "Authorization: Bearer $TEAM_TOKEN" \
  -H "Content-Type: application/json" --data '{"csr": "x"}' "$A_URL/api/v1/cas/root/children/team/certify")
[[ $code == 403 ]] || fail "a child token used another parent: $code $(cat out.json)"

step "A down during the request: B retries with backoff and completes when A returns"
on_a child add issuing team2 --format json | grep '"token"' | cut -d'"' -f4 > team2.token
kill -TERM "$A_PID"; wait "$A_PID" || true
on_b ca create team2 --subject "CN=Team Two CA" --parent issuing --parent-url "$A_URL" \
  --parent-token-file team2.token >/dev/null
failures_at_least() {
  local n
  n=$(on_b ca status team2 --format json | tr -d '\n' | grep -o '{[^{}]*"target": "sync-parent"[^{}]*}' |
      grep -o '"failures": [0-9]*' | grep -o '[0-9]*$' || true)
  [[ ${n:-0} -ge $1 ]]
}
wait_until 15 "two failed attempts to reach A" failures_at_least 2
on_b ca status team2 > status.txt
grep -q "parent_unavailable\|did not answer" status.txt || fail "the outage is not visible: $(cat status.txt)"
on_b task list | grep -q "sync-parent.*team2" || fail "no pending sync-parent task"
is_active team2 && fail "team2 active while its parent is down"
cd A
"$CAIRN" serve --data-dir "$WORK/A/data" --listen "127.0.0.1:$A_PORT" --port-file "$WORK/A/port2" >>server.log 2>&1 &
A_PID=$!
EXTRA_PIDS+=("$A_PID")
cd ..
wait_until 10 "A back" test -s A/port2
wait_until 15 "B's team2 certified after A returned" is_active team2
on_b ca chain team2 > team2-chain.pem
on_b cert issue --ca team2 --csr svc.csr --out svc2.pem >/dev/null
openssl verify -CAfile root.pem -untrusted team2-chain.pem svc2.pem | grep -q "svc2.pem: OK" ||
  fail "a certificate from team2 does not verify against A's root"
on_b task list --format json | grep -q '"id": "sync-parent/team2/"' || fail "no renewal scheduled for team2"

step "both histories verify"
kill -TERM "$A_PID"; wait "$A_PID" || true
cd B
stop_server
cd ..
"$CAIRN" audit verify --data-dir A/data >/dev/null || fail "audit verify A"
"$CAIRN" audit verify --data-dir B/data >/dev/null || fail "audit verify B"
echo "two servers e2e: all steps passed"
