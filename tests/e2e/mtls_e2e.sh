#!/usr/bin/env bash
# End to end: the HTTPS listener with client certificates (mTLS). The
# server's certificate comes from its own issuing CA and verifies with
# openssl s_client and curl; a service identified only by a client
# certificate cairn issued may read and renew that certificate and nothing
# else; revoked, foreign and non-client certificates are refused; a restart
# replaces the HTTPS certificate and revokes the old one.
# Usage: mtls_e2e.sh /path/to/cairn
set -euo pipefail

CAIRN=${1:?usage: mtls_e2e.sh /path/to/cairn}
source "$(dirname "$0")/lib.sh"

SERVE_ARGS="--init-hierarchy --tls-listen 127.0.0.1:0 --tls-port-file $WORK/tlsport --tls-name 127.0.0.1 --tls-name localhost"
step "start the server with an HTTPS listener"
rm -f tlsport
start_server
export CAIRN_TOKEN_FILE="$WORK/data/admin.token"
TLS="https://127.0.0.1:$(cat tlsport)"
"$CAIRN" ca chain issuing > chain.pem
"$CAIRN" ca chain root > root.pem

step "the HTTPS certificate was issued by cairn and verifies"
openssl s_client -connect "127.0.0.1:$(cat tlsport)" -CAfile root.pem -verify_return_error -verify_ip 127.0.0.1 \
  -servername localhost </dev/null >sclient.txt 2>&1 || fail "s_client: $(cat sclient.txt)"
grep -q "Verify return code: 0 (ok)" sclient.txt || fail "server certificate does not verify: $(cat sclient.txt)"
TLS_SERIAL=$(openssl s_client -connect "127.0.0.1:$(cat tlsport)" </dev/null 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2)
"$CAIRN" cert show "$TLS_SERIAL" --format json > tlscert.json
grep -q '"requested_by": "system:tls"' tlscert.json || fail "HTTPS certificate not in the CA's history: $(cat tlscert.json)"
curl -fsS --max-time 5 --cacert root.pem -H "Authorization: Bearer $(cat data/admin.token)" "$TLS/api/v1/cas" \
  | grep -q '"issuing"' || fail "the API over HTTPS with a token"
code=$(curl -sS --max-time 5 --cacert root.pem -o err.json -w '%{http_code}' "$TLS/api/v1/cas")
[[ $code == 401 ]] && grep -q '"unauthorized"' err.json || fail "no token, no certificate: $code $(cat err.json)"

step "a TLS 1.2 session resumes (the server names a session id context)"
openssl s_client -connect "127.0.0.1:$(cat tlsport)" -CAfile root.pem -tls1_2 -sess_out session.pem </dev/null \
  >first.txt 2>&1 || fail "first TLS 1.2 handshake: $(cat first.txt)"
openssl s_client -connect "127.0.0.1:$(cat tlsport)" -CAfile root.pem -tls1_2 -sess_in session.pem </dev/null \
  >second.txt 2>&1 || fail "resumed TLS 1.2 handshake failed: $(cat second.txt)"
grep -q "^Reused, TLSv1.2" second.txt || fail "the TLS 1.2 session was not resumed: $(grep -E '^(New|Reused)' second.txt)"

step "a service gets a client certificate with its token"
token_of() { grep '"token"' | cut -d'"' -f4; }
SVC=$("$CAIRN" token create --name billing --role service --ca issuing --allow-name '*.svc.example' \
        --format json | token_of)
as_svc() { CAIRN_TOKEN_FILE= CAIRN_TOKEN="$SVC" "$CAIRN" "$@"; }
newcsr() {  # newcsr NAME "SAN list"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
    -subj "/CN=billing.svc.example" -addext "subjectAltName=$2" 2>/dev/null
}
newcsr client "DNS:billing.svc.example"
as_svc cert issue --ca issuing --csr client.csr --profile client --out client.pem >/dev/null
SERIAL=$(openssl x509 -in client.pem -noout -serial | cut -d= -f2)
newcsr other "DNS:other.example"
"$CAIRN" cert issue --ca issuing --csr other.csr --profile client --out other.pem >/dev/null
OTHER=$(openssl x509 -in other.pem -noout -serial | cut -d= -f2)
mtls() {  # mtls CERT KEY METHOD PATH [BODY] -> prints the status; body in out.json
  local body=${5:-}
  curl -sS --max-time 5 --cacert root.pem --cert "$1" --key "$2" -X "$3" -o out.json -w '%{http_code}' \
    ${body:+-H "Content-Type: application/json" --data "$body"} "$TLS$4"
}
json_csr() { printf '{"csr": "%s"}' "$(awk '{printf "%s\\n", $0}' "$1")"; }

step "the client certificate identifies the service: it reads itself and nothing else"
[[ $(mtls client.pem client.key GET "/api/v1/cas/issuing/certificates/$SERIAL") == 200 ]] ||
  fail "read own certificate: $(cat out.json)"
grep -qi "\"serial\": \"$SERIAL\"" out.json || fail "wrong certificate: $(cat out.json)"
[[ $(mtls client.pem client.key GET "/api/v1/cas/issuing/certificates/$OTHER") == 403 ]] &&
  grep -q '"not_owner"' out.json || fail "read another certificate: $(cat out.json)"
[[ $(mtls client.pem client.key GET "/api/v1/cas/issuing/certificates") == 200 ]] || fail "list"
[[ $(grep -c '"serial"' out.json) == 1 ]] || fail "the list shows more than itself: $(cat out.json)"
newcsr fresh "DNS:billing.svc.example"
[[ $(mtls client.pem client.key POST "/api/v1/cas/issuing/certificates" "$(json_csr fresh.csr)") == 403 ]] &&
  grep -q '"certificate_identity_scope"' out.json || fail "a client certificate issued: $(cat out.json)"
[[ $(mtls client.pem client.key POST "/api/v1/cas/issuing/certificates/$SERIAL/revoke" '{}') == 403 ]] ||
  fail "a client certificate revoked: $(cat out.json)"
[[ $(mtls client.pem client.key POST "/api/v1/cas/issuing/certificates/$OTHER/renew" "$(json_csr fresh.csr)") == 403 ]] ||
  fail "a client certificate renewed another one: $(cat out.json)"

step "mTLS renewal: same names (or fewer) only; the owner stays the service"
newcsr wider "DNS:billing.svc.example,DNS:admin.svc.example"
[[ $(mtls client.pem client.key POST "/api/v1/cas/issuing/certificates/$SERIAL/renew" "$(json_csr wider.csr)") == 403 ]] &&
  grep -q '"name_not_allowed"' out.json || fail "renewal added a name: $(cat out.json)"
[[ $(mtls client.pem client.key POST "/api/v1/cas/issuing/certificates/$SERIAL/renew" "$(json_csr fresh.csr)") == 201 ]] ||
  fail "mTLS renewal: $(cat out.json)"
RENEWED=$(grep -m1 '"serial"' out.json | cut -d'"' -f4)
"$CAIRN" cert download "$RENEWED" --out renewed.pem
grep -q '"requested_by": "token:billing"' out.json || fail "the renewal changed the owner: $(cat out.json)"
grep -qi "\"replaces\": \"$SERIAL\"" out.json || fail "the renewal does not name what it replaces"
openssl verify -CAfile root.pem -untrusted chain.pem -purpose sslclient renewed.pem | grep -q OK ||
  fail "renewed certificate does not verify"
"$CAIRN" history list issuing --format json > hist.json
grep -qi "cert:issuing:$SERIAL" hist.json || fail "history does not record the certificate as the actor"
as_svc cert show "$RENEWED" >/dev/null || fail "the service token lost its renewed certificate"

step "the renewed certificate works; revoked, foreign and server certificates do not"
[[ $(mtls renewed.pem fresh.key GET "/api/v1/cas/issuing/certificates/$RENEWED") == 200 ]] ||
  fail "renewed certificate: $(cat out.json)"
as_svc cert revoke "$SERIAL" --reason superseded >/dev/null
[[ $(mtls client.pem client.key GET "/api/v1/cas/issuing/certificates/$SERIAL") == 401 ]] &&
  grep -q '"invalid_client_certificate"' out.json || fail "a revoked certificate was accepted: $(cat out.json)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout self.key -out self.pem -days 1 \
  -subj "/CN=billing.svc.example" -addext "extendedKeyUsage=clientAuth" 2>/dev/null
[[ $(mtls self.pem self.key GET "/api/v1/cas") == 401 ]] || fail "a self-signed certificate was accepted: $(cat out.json)"
"$CAIRN" cert issue --ca issuing --csr other.csr --profile server --out server.pem >/dev/null
[[ $(mtls server.pem other.key GET "/api/v1/cas") == 401 ]] || fail "a serverAuth-only certificate was accepted"

step "restart: a new HTTPS certificate, the old one revoked as superseded"
stop_server
rm -f tlsport
start_server
TLS="https://127.0.0.1:$(cat tlsport)"
NEW_TLS=$(openssl s_client -connect "127.0.0.1:$(cat tlsport)" </dev/null 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2)
[[ -n $NEW_TLS && $NEW_TLS != "$TLS_SERIAL" ]] || fail "the HTTPS certificate was not replaced"
"$CAIRN" cert show "$TLS_SERIAL" --format json | grep -q '"status": "revoked"' || fail "the old HTTPS certificate is not revoked"
[[ $(mtls renewed.pem fresh.key GET "/api/v1/cas/issuing/certificates/$RENEWED") == 200 ]] || fail "mTLS after restart"
"$CAIRN" audit verify --data-dir data >/dev/null || fail "audit verify"
stop_server
echo "mtls e2e: all steps passed"
