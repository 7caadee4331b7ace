#!/usr/bin/env bash
# End to end: the real `cairn serve` on a free loopback port with a RocksDB
# data directory, driven by the `cairn` CLI, with every certificate and CRL
# checked by the openssl command-line tool; then a restart must bring all
# state back from RocksDB.
# Usage: cli_e2e.sh /path/to/cairn
set -euo pipefail

CAIRN=${1:?usage: cli_e2e.sh /path/to/cairn}
source "$(dirname "$0")/lib.sh"

step "start the server on an empty data directory"
start_server
export CAIRN_TOKEN_FILE="$WORK/data/admin.token"
[[ $(stat -c %a data/admin.token) == 600 ]] || fail "admin.token is not 0600"
grep -q "shown only this once" server.log || fail "the new admin token was not announced"

step "unauthenticated requests are refused"
if CAIRN_TOKEN=wrong CAIRN_TOKEN_FILE= "$CAIRN" ca list 2>err.txt; then fail "a wrong token was accepted"; fi
grep -q "invalid_token" err.txt || fail "no invalid_token code: $(cat err.txt)"

step "create a root and an intermediate"
"$CAIRN" ca create root --subject "CN=Example Root,O=Example" --key ec-p256 >/dev/null
"$CAIRN" ca create issuing --parent root --subject "CN=Example Issuing CA,O=Example" --key ec-p256 >/dev/null
"$CAIRN" ca list | grep -q "issuing .*intermediate .*active" || fail "issuing CA is not active"
"$CAIRN" ca show root --format json | grep -q '"children": \[' || fail "root does not show children"
"$CAIRN" ca show root --format json | grep -A2 '"children"' | grep -q '"issuing"' || fail "root did not record its child"
[[ $(stat -c %a data/keys) == 700 ]] || fail "keys directory is not 0700"
for k in data/keys/*.key; do [[ $(stat -c %a "$k") == 600 ]] || fail "$k is not 0600"; done

step "issue from a CSR and verify with openssl"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout svc.key -out svc.csr \
  -subj "/CN=svc.example.com" -addext "subjectAltName=DNS:svc.example.com,IP:127.0.0.1" 2>/dev/null
"$CAIRN" cert issue --ca issuing --csr svc.csr --profile server --out svc.pem --chain-out chain.pem >issue.txt
SERIAL=$(openssl x509 -in svc.pem -noout -serial | cut -d= -f2)
grep -qi "$SERIAL" issue.txt || fail "issue output does not show the serial"
openssl x509 -in svc.pem -noout -ext subjectAltName | grep -q "DNS:svc.example.com, IP Address:127.0.0.1" \
  || fail "SANs missing from the certificate"
openssl x509 -in svc.pem -noout -ext extendedKeyUsage | grep -q "TLS Web Server Authentication" || fail "no serverAuth EKU"
openssl x509 -in svc.pem -noout -modulus >/dev/null 2>&1 || true
[[ $(openssl x509 -in svc.pem -noout -pubkey | openssl sha256) == $(openssl pkey -in svc.key -pubout | openssl sha256) ]] \
  || fail "certificate key does not match the CSR key"
"$CAIRN" crl get issuing --out crl.pem
openssl crl -in crl.pem -noout -CAfile chain.pem 2>&1 | grep -q "verify OK" || fail "CRL signature does not verify"
openssl verify -crl_check -CAfile chain.pem -CRLfile crl.pem svc.pem | grep -q "svc.pem: OK" || fail "fresh certificate does not verify"

step "OCSP: the URL in the certificate answers good, with and without a nonce"
"$CAIRN" ca chain issuing --out ca-chain.pem
openssl x509 -in ca-chain.pem -out issuing.pem
OCSP_URL=$(openssl x509 -in svc.pem -noout -ocsp_uri)
[[ "$OCSP_URL" == "$CAIRN_SERVER/ocsp/issuing" ]] || fail "unexpected OCSP URL $OCSP_URL"
openssl ocsp -issuer issuing.pem -cert svc.pem -url "$OCSP_URL" -CAfile ca-chain.pem -timeout 5 >ocsp.txt 2>&1
grep -q "Response verify OK" ocsp.txt && grep -q "svc.pem: good" ocsp.txt || fail "OCSP with nonce: $(cat ocsp.txt)"
openssl ocsp -issuer issuing.pem -cert svc.pem -url "$OCSP_URL" -CAfile ca-chain.pem -no_nonce -timeout 5 >ocsp.txt 2>&1
grep -q "Response verify OK" ocsp.txt && grep -q "svc.pem: good" ocsp.txt || fail "OCSP without nonce: $(cat ocsp.txt)"
openssl ocsp -issuer issuing.pem -cert svc.pem -no_nonce -reqout ocsp.req >/dev/null 2>&1
curl -fsS --max-time 5 "$OCSP_URL/$(base64 -w0 ocsp.req | sed 's|/|%2F|g; s|+|%2B|g; s|=|%3D|g')" -o ocsp-get.der
openssl ocsp -respin ocsp-get.der -issuer issuing.pem -cert svc.pem -CAfile ca-chain.pem >ocsp.txt 2>&1
grep -q "svc.pem: good" ocsp.txt || fail "OCSP over GET: $(cat ocsp.txt)"
openssl ocsp -issuer issuing.pem -cert svc.pem -url "$CAIRN_SERVER/ocsp/root" -CAfile ca-chain.pem -timeout 5 >ocsp.txt 2>&1 || true
grep -q "unauthorized" ocsp.txt || fail "OCSP for the wrong issuer: $(cat ocsp.txt)"

step "download in every form"
"$CAIRN" cert download "$SERIAL" pem --out dl.pem
cmp -s dl.pem svc.pem || fail "downloaded PEM differs"
"$CAIRN" cert download "$SERIAL" der --out dl.der
openssl x509 -inform DER -in dl.der -outform PEM | cmp -s - svc.pem || fail "downloaded DER differs"
"$CAIRN" cert download "$SERIAL" chain --ca issuing --out dl-chain.pem
[[ $(grep -c "BEGIN CERTIFICATE" dl-chain.pem) == 3 ]] || fail "chain should hold leaf, issuing and root"
"$CAIRN" cert list --ca issuing | grep -qi "$SERIAL.*valid" || fail "list does not show the certificate as valid"
"$CAIRN" cert show "$SERIAL" --format json | grep -q '"status": "valid"' || fail "show --format json"

step "the CRL distribution point in the certificate serves the same CRL"
CRL_URL=$(openssl x509 -in svc.pem -noout -ext crlDistributionPoints | grep -o 'http://[^ ]*')
[[ "$CRL_URL" == "$CAIRN_SERVER/crl/issuing.crl" ]] || fail "unexpected CRL DP $CRL_URL"
curl -fsS --max-time 5 "$CRL_URL" -o dp.crl
openssl crl -inform DER -in dp.crl -outform PEM | cmp -s - crl.pem || fail "CRL DP serves a different CRL"

step "server-side key generation"
"$CAIRN" cert issue --ca issuing --key-type ec-p384 --subject "CN=gen.example.com" --dns gen.example.com \
  --profile peer --out gen.pem --key-out gen.key >/dev/null
[[ $(stat -c %a gen.key) == 600 ]] || fail "generated key file is not 0600"
[[ $(openssl x509 -in gen.pem -noout -pubkey | openssl sha256) == $(openssl pkey -in gen.key -pubout | openssl sha256) ]] \
  || fail "generated key does not match its certificate"
if "$CAIRN" cert issue --ca issuing --key-type ec-p256 --subject "CN=x" --dns x.example 2>err.txt; then
  fail "--key-type without --key-out must be refused"
fi

step "a DER CSR works too; an existing key file is refused before anything is issued"
openssl req -in svc.csr -outform DER -out svc.der
"$CAIRN" cert issue --ca issuing --csr svc.der --out der.pem >/dev/null || fail "DER CSR refused"
BEFORE=$("$CAIRN" cert list --ca issuing --format json | grep -c '"serial"')
if "$CAIRN" cert issue --ca issuing --key-type ec-p256 --subject "CN=x" --dns x.example --key-out gen.key 2>err.txt; then
  fail "an existing key file was overwritten"
fi
grep -q "file_exists" err.txt || fail "no file_exists code: $(cat err.txt)"
AFTER=$("$CAIRN" cert list --ca issuing --format json | grep -c '"serial"')
[[ "$BEFORE" == "$AFTER" ]] || fail "a certificate was issued although its key could not be saved"

step "renew"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout svc2.key -out svc2.csr \
  -subj "/CN=svc.example.com" -addext "subjectAltName=DNS:svc.example.com" 2>/dev/null
"$CAIRN" cert renew "$SERIAL" --csr svc2.csr --out svc2.pem --format json > renew.json
grep -qi "\"replaces\": \"$SERIAL\"" renew.json || fail "renewal does not record what it replaces"
SERIAL2=$(openssl x509 -in svc2.pem -noout -serial | cut -d= -f2)
openssl verify -CAfile chain.pem svc2.pem | grep -q OK || fail "renewed certificate does not verify"

step "revoke and check with openssl"
"$CAIRN" cert revoke "$SERIAL" --reason keyCompromise >/dev/null
"$CAIRN" crl get issuing --out crl2.pem
openssl crl -in crl2.pem -noout -text | grep -q "Key Compromise" || fail "reason missing from CRL"
if openssl verify -crl_check -CAfile chain.pem -CRLfile crl2.pem svc.pem >verify.txt 2>&1; then
  fail "revoked certificate still verifies"
fi
grep -q "certificate revoked" verify.txt || fail "openssl did not report revocation: $(cat verify.txt)"
openssl verify -crl_check -CAfile chain.pem -CRLfile crl2.pem svc2.pem | grep -q OK || fail "renewed certificate affected"
for nonce in "" "-no_nonce"; do
  openssl ocsp -issuer issuing.pem -cert svc.pem -url "$OCSP_URL" -CAfile ca-chain.pem $nonce -timeout 5 >ocsp.txt 2>&1
  grep -q "svc.pem: revoked" ocsp.txt && grep -q "Reason: keyCompromise" ocsp.txt || fail "OCSP after revocation ($nonce): $(cat ocsp.txt)"
done
N1=$(openssl crl -in crl.pem -noout -crlnumber | cut -d= -f2)
N2=$(openssl crl -in crl2.pem -noout -crlnumber | cut -d= -f2)
(( N2 > N1 )) || fail "CRL number did not increase ($N1 -> $N2)"

step "errors carry stable codes and non-zero exit"
set +e
"$CAIRN" cert revoke "$SERIAL" --reason keyCompromise 2>err.txt; rc=$?
set -e
[[ $rc == 1 ]] || fail "revoking twice should exit 1, got $rc"
grep -q "already_revoked" err.txt || fail "no already_revoked code: $(cat err.txt)"
set +e
"$CAIRN" cert issue --ca nosuch --csr svc.csr 2>err.txt; rc=$?
set -e
[[ $rc == 1 ]] && grep -q "ca_not_found" err.txt || fail "unknown CA: rc=$rc $(cat err.txt)"
echo "garbage" > bad.csr
set +e
"$CAIRN" cert issue --ca issuing --csr bad.csr 2>err.txt; rc=$?
set -e
[[ $rc == 1 ]] && grep -q "invalid_csr" err.txt || fail "bad CSR: rc=$rc $(cat err.txt)"
for bad in "threads = 0" "handler_threads = 1" "handler_threads = 1025" "shutdown_grace_seconds = 601"; do
  printf '%s\n' "$bad" > bad.toml
  set +e
  CAIRN_PASSPHRASE=unused timeout 10 "$CAIRN" serve --config bad.toml --data-dir bad-data --listen 127.0.0.1:0 \
    2>err.txt; rc=$?
  set -e
  [[ $rc == 2 ]] && grep -q "invalid_config" err.txt || fail "config '$bad': rc=$rc $(cat err.txt)"
  [[ ! -e bad-data ]] || fail "config '$bad' was refused but left a data directory"
done

step "auditor: history, checkpoint, verify, replay, export (server running)"
"$CAIRN" history list issuing | grep -q "already_revoked" || fail "history does not show the refused revocation"
"$CAIRN" history show issuing 3 | grep -q '"CertificateIssued"' || fail "history show lacks the event"
AUDITOR=$("$CAIRN" token create --name auditor-1 --role auditor --format json | grep '"token"' | cut -d'"' -f4)
if CAIRN_TOKEN_FILE= CAIRN_TOKEN="$AUDITOR" "$CAIRN" cert revoke "$SERIAL2" 2>err.txt; then fail "an auditor revoked"; fi
grep -q "forbidden" err.txt || fail "auditor change: $(cat err.txt)"
CAIRN_TOKEN_FILE= CAIRN_TOKEN="$AUDITOR" "$CAIRN" audit checkpoint --out kept.json >/dev/null
"$CAIRN" audit verify --data-dir data --checkpoint kept.json >verify.txt || fail "audit verify failed: $(cat verify.txt)"
grep -q "audit OK" verify.txt || fail "no audit summary"
"$CAIRN" audit replay --data-dir data --ca issuing --version 3 --format json | grep -q '"version": 3' || fail "replay --version"
"$CAIRN" audit replay --data-dir data --ca issuing --at "$(date -u -d "+1 min" +%Y-%m-%dT%H:%M:%SZ)" | grep -qi "$SERIAL" || fail "replay --at"
"$CAIRN" audit export --data-dir data --format jsonl --out export.jsonl
grep -q '"record":"head"' export.jsonl || fail "export has no heads"
if "$CAIRN" audit verify --data-dir nowhere 2>err.txt; then fail "verify of a missing data dir succeeded"; fi

step "keys: a wrong passphrase is refused; rewrap changes it"
stop_server
if CAIRN_PASSPHRASE="a wrong passphrase here" timeout 20 "$CAIRN" serve --data-dir data --listen 127.0.0.1:0 \
     >wrong.log 2>&1; then
  fail "the server started with a wrong passphrase"
fi
grep -q "wrong_passphrase" wrong.log || fail "no wrong_passphrase code: $(cat wrong.log)"
CAIRN_NEW_PASSPHRASE="the new e2e passphrase" "$CAIRN" keys rewrap --data-dir data >/dev/null || fail "rewrap failed"
export CAIRN_PASSPHRASE="the new e2e passphrase"
start_server

step "restart: all state comes back from RocksDB"
"$CAIRN" cert list --ca issuing --format json > before.json
"$CAIRN" ca list --format json > cas-before.json
stop_server
start_server
grep -c "shown only this once" server.log | grep -q '^1$' || fail "the token was announced again after restart"
"$CAIRN" cert list --ca issuing --format json > after.json
"$CAIRN" ca list --format json > cas-after.json
cmp -s before.json after.json || fail "certificates differ after restart"
cmp -s cas-before.json cas-after.json || fail "CAs differ after restart"
"$CAIRN" crl get issuing --out crl3.pem
cmp -s crl2.pem crl3.pem || fail "CRL differs after restart"
"$CAIRN" cert show "$SERIAL" | grep -q "revoked" || fail "revocation lost after restart"
"$CAIRN" cert issue --ca issuing --csr svc.csr --out svc3.pem >/dev/null
openssl verify -crl_check -CAfile chain.pem -CRLfile crl3.pem svc3.pem | grep -q OK || fail "issuance after restart"
"$CAIRN" audit verify --data-dir data --checkpoint kept.json >/dev/null || fail "audit verify after restart"

step "OCSP signed by a delegated responder certificate that cairn issued"
stop_server
SERVE_ARGS="${SERVE_ARGS:-} --ocsp-signing delegated" start_server
for nonce in "" "-no_nonce"; do
  openssl ocsp -issuer issuing.pem -cert svc3.pem -cert svc.pem -url "$CAIRN_SERVER/ocsp/issuing" -CAfile ca-chain.pem $nonce \
    -timeout 5 -resp_text >ocsp.txt 2>&1
  grep -q "Response verify OK" ocsp.txt && grep -q "svc3.pem: good" ocsp.txt && grep -q "svc.pem: revoked" ocsp.txt ||
    fail "delegated OCSP ($nonce): $(cat ocsp.txt)"
  grep -q "Subject: CN=OCSP responder, OU=issuing" ocsp.txt || fail "no responder certificate in the answer: $(cat ocsp.txt)"
  grep -q "OCSP No Check" ocsp.txt && grep -q "OCSP Signing" ocsp.txt || fail "responder certificate extensions"
done
"$CAIRN" cert list --ca issuing --profile ocsp-responder --format json > responders.json
[[ $(grep -c '"serial"' responders.json) == 1 ]] || fail "expected one responder certificate: $(cat responders.json)"
"$CAIRN" audit verify --data-dir data --checkpoint kept.json >/dev/null || fail "audit verify after the responder"

step "bulk revocation: several certificates in one command, one CRL, all or none"
for n in 1 2 3; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout bulk$n.key -out bulk$n.csr \
    -subj "/CN=bulk$n.example.com" 2>/dev/null
  "$CAIRN" cert issue --ca issuing --csr bulk$n.csr --dns bulk$n.example.com --out bulk$n.pem >/dev/null
done
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
serial_of bulk1.pem > serials.txt
"$CAIRN" cert revoke-many --ca issuing --reason superseded --file serials.txt "$(serial_of bulk2.pem)" \
  --format json > bulk.json || fail "revoke-many failed"
grep -q '"revoked": 2' bulk.json || fail "revoke-many: $(cat bulk.json)"
"$CAIRN" crl get issuing --out crl-bulk.pem
for n in 1 2; do
  if openssl verify -crl_check -CAfile chain.pem -CRLfile crl-bulk.pem bulk$n.pem >/dev/null 2>&1; then
    fail "bulk$n.pem still verifies after the bulk revocation"
  fi
done
openssl verify -crl_check -CAfile chain.pem -CRLfile crl-bulk.pem bulk3.pem | grep -q OK || fail "bulk3.pem was touched"
# One serial already revoked: nothing is revoked, stable code, non-zero exit.
if "$CAIRN" cert revoke-many --ca issuing "$(serial_of bulk3.pem)" "$(serial_of bulk1.pem)" 2>err.txt; then
  fail "revoke-many with a revoked serial succeeded"
fi
grep -q already_revoked err.txt || fail "no stable code: $(cat err.txt)"
"$CAIRN" cert show "$(serial_of bulk3.pem)" | grep -Eq "status: +valid" || fail "bulk3 was revoked by a refused command"

stop_server

step "the auditor's offline tools never write to the data directory"
(cd data && find . -type f -exec md5sum {} + | sort) > sums-before.txt
"$CAIRN" audit verify --data-dir data >/dev/null
"$CAIRN" audit replay --data-dir data --ca issuing >/dev/null
"$CAIRN" audit export --data-dir data >/dev/null
(cd data && find . -type f -exec md5sum {} + | sort) > sums-after.txt
cmp -s sums-before.txt sums-after.txt || fail "audit tools changed the data directory: $(diff sums-before.txt sums-after.txt)"
echo "e2e: all steps passed"
