#!/usr/bin/env bash
# End to end: operator and service tokens and a profile that needs approval,
# driven by the `cairn` CLI against the real server. A service asks for a
# certificate, may not approve it itself, an operator approves (and cannot
# approve its own request), another request is rejected with a reason, and
# the approved certificate verifies with openssl.
# Usage: approval_e2e.sh /path/to/cairn
set -euo pipefail

CAIRN=${1:?usage: approval_e2e.sh /path/to/cairn}
source "$(dirname "$0")/lib.sh"

cat > cairn.toml <<'TOML'
[bootstrap]
enabled = true

[[profile]]
name = "internal-web"
base = "server"
description = "internal web servers, approved by an operator"
max_validity_days = 30
allowed_names = ["*.corp.example"]
key_types = ["ec-p256"]
requires_approval = true
TOML
SERVE_ARGS="--config $WORK/cairn.toml"

step "start the server with a profile that needs approval"
start_server
export CAIRN_TOKEN_FILE="$WORK/data/admin.token"
"$CAIRN" profile list | grep internal-web | grep -q 30 || fail "the configured profile is not listed"

step "tokens: an operator for the issuing CA and a service for *.corp.example"
token_of() { grep '"token"' | cut -d'"' -f4; }
OPS=$("$CAIRN" token create --name ops --role operator --ca issuing --format json | token_of)
WEB=$("$CAIRN" token create --name web --role service --ca issuing --allow-name '*.corp.example' \
        --profile internal-web --format json | token_of)
[[ ${#OPS} -gt 32 && ${#WEB} -gt 32 ]] || fail "token creation did not return secrets"
as_ops() { CAIRN_TOKEN_FILE= CAIRN_TOKEN="$OPS" "$CAIRN" "$@"; }
as_web() { CAIRN_TOKEN_FILE= CAIRN_TOKEN="$WEB" "$CAIRN" "$@"; }
"$CAIRN" token list | grep -q "web.*service.*issuing.*corp.example" || fail "token list lacks the service scope"

step "the service asks; the request waits"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout app.key \
  -subj "/CN=app.corp.example" -addext "subjectAltName=DNS:app.corp.example" -out app.csr 2>/dev/null
as_web cert issue --ca issuing --csr app.csr --profile internal-web > asked.txt
grep -q "pending" asked.txt || fail "the request is not pending: $(cat asked.txt)"
ID=$(as_web cert issue --ca issuing --csr app.csr --profile internal-web --format json | grep '"id"' | cut -d'"' -f4)
FIRST=$(awk '$1 == "request:" {print $2}' asked.txt)
[[ ${#ID} -eq 16 && ${#FIRST} -eq 16 ]] || fail "no request id ($ID, $FIRST)"
as_ops request list issuing --status pending | grep -c "token:web" | grep -q '^2$' || fail "operator does not see 2 pending"
[[ $(as_web cert list --ca issuing --format json | grep -c '"serial"') -eq 0 ]] || fail "something was issued early"

step "the service cannot approve, nor ask outside its names or profiles"
if as_web request approve issuing "$ID" 2>err.txt; then fail "the service approved a request"; fi
grep -q forbidden err.txt || fail "no forbidden code: $(cat err.txt)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout evil.key \
  -subj "/CN=evil.example" -addext "subjectAltName=DNS:evil.example" -out evil.csr 2>/dev/null
if as_web cert issue --ca issuing --csr evil.csr --profile internal-web 2>err.txt; then fail "outside names"; fi
grep -q name_not_allowed err.txt || fail "no name_not_allowed code: $(cat err.txt)"
if as_web cert issue --ca issuing --csr app.csr --profile server 2>err.txt; then fail "outside profiles"; fi
grep -q profile_not_allowed err.txt || fail "no profile_not_allowed code: $(cat err.txt)"
if as_web cert issue --ca root --csr app.csr --profile internal-web 2>err.txt; then fail "outside CAs"; fi
grep -q ca_not_allowed err.txt || fail "no ca_not_allowed code: $(cat err.txt)"

step "the operator approves one and rejects the other"
as_ops request approve issuing "$ID" | grep -q approved || fail "approval failed"
as_ops request reject issuing "$FIRST" --reason "duplicate request" | grep -q "duplicate request" \
  || fail "rejection lost its reason"
if as_ops request approve issuing "$FIRST" 2>err.txt; then fail "a rejected request was approved"; fi
grep -q request_decided err.txt || fail "no request_decided code: $(cat err.txt)"

step "the service collects its certificate, which openssl verifies"
as_web request show issuing "$ID" --out app-chain.pem | grep -q approved || fail "request not approved"
as_web request show issuing "$FIRST" | grep -q "rejected" || fail "the requester cannot see the rejection"
openssl x509 -in app-chain.pem -noout -subject | grep -q "app.corp.example" || fail "wrong certificate"
"$CAIRN" ca chain issuing --out ca-chain.pem
openssl verify -CAfile ca-chain.pem app-chain.pem | grep -q OK || fail "the approved certificate does not verify"
openssl x509 -in app-chain.pem -noout -checkend $((31 * 86400)) >/dev/null && fail "validity above the profile's 30 days"
SERIAL=$(as_web cert list --ca issuing --format json | grep '"serial"' | cut -d'"' -f4)
[[ -n "$SERIAL" ]] || fail "the service does not own the approved certificate"

step "an operator cannot approve its own request"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ops.key \
  -subj "/CN=ops.corp.example" -addext "subjectAltName=DNS:ops.corp.example" -out ops.csr 2>/dev/null
OWN=$(as_ops cert issue --ca issuing --csr ops.csr --profile internal-web --format json | grep '"id"' | cut -d'"' -f4)
if as_ops request approve issuing "$OWN" 2>err.txt; then fail "self-approval was accepted"; fi
grep -q self_approval err.txt || fail "no self_approval code: $(cat err.txt)"
"$CAIRN" request approve issuing "$OWN" >/dev/null || fail "the admin could not approve the operator's request"

step "history records who asked and who decided"
"$CAIRN" history list issuing | grep -q "approve request $ID" || fail "approval not in history"
"$CAIRN" history list issuing | grep "approve request $OWN" | grep -q "self_approval" \
  || fail "the refused self-approval is not in history"
"$CAIRN" audit checkpoint >/dev/null
stop_server
"$CAIRN" audit verify --data-dir data >/dev/null || fail "audit verify"
echo "approval e2e: all steps passed"
