#!/usr/bin/env bash
# End to end: background publishing to directory repositories with the real
# server. One repository is served at /repo/ and must match what the API
# says; another is "unmounted" at start: its syncs fail and are retried
# (visible in `cairn ca status` and `cairn task list`) until the directory
# appears, then it holds exactly the same objects. Issuance and revocation
# reach both; /metrics counts it all.
# Usage: repository_e2e.sh /path/to/cairn
set -euo pipefail

CAIRN=${1:?usage: repository_e2e.sh /path/to/cairn}
source "$(dirname "$0")/lib.sh"

mkdir -p www
cat > cairn.toml <<TOML
[bootstrap]
enabled = true

[scheduler]
retry_base_seconds = 1
retry_cap_seconds = 2

[[repository]]
name = "web"
path = "$WORK/www"
publish_issued = true
serve = true

[[repository]]
name = "backup"
path = "$WORK/mnt/backup"
publish_issued = true
TOML
SERVE_ARGS="--config $WORK/cairn.toml"
listing() { (cd "$1" && find . -type f | sort); }

step "start: the served repository fills, the unmounted one fails and is retried"
start_server
export CAIRN_TOKEN_FILE="$WORK/data/admin.token"
wait_until 10 "the web repository" test -s www/crl/issuing.crl
for f in ca/root.cer ca/issuing.cer chain/root.pem chain/issuing.pem crl/root.crl crl/issuing.crl; do
  [[ -s www/$f ]] || fail "www/$f missing: $(listing www)"
done
"$CAIRN" crl get issuing --der --out api.crl
cmp -s api.crl www/crl/issuing.crl || fail "the published CRL is not the current one"
curl -fsS --max-time 5 -o served.crl "$CAIRN_SERVER/repo/crl/issuing.crl" || fail "/repo/ does not serve the CRL"
cmp -s served.crl api.crl || fail "/repo/crl/issuing.crl differs"
openssl crl -inform DER -in served.crl -noout -CAfile www/chain/issuing.pem 2>&1 | grep -q "verify OK" ||
  fail "the published CRL does not verify"
for trick in "/repo/../data/admin.token" "/repo/%2e%2e/data/admin.token" "/repo/..%2fdata/admin.token"; do
  code=$(curl -sS --path-as-is --max-time 5 -o trick.out -w '%{http_code}' "$CAIRN_SERVER$trick")
  [[ $code == 400 || $code == 404 ]] && ! grep -q cairn_ trick.out || fail "path trick $trick answered $code"
done

# The backup repository's entry of `cairn ca status issuing` on one line.
backup_status() { "$CAIRN" ca status issuing --format json | tr -d '\n' | grep -o '{[^{}]*"target": "backup"[^{}]*}'; }
backup_failures_at_least() {
  local n
  n=$(backup_status | grep -o '"failures": [0-9]*' | grep -o '[0-9]*$' || true)
  [[ ${n:-0} -ge $1 ]]
}
no_sync_task() { ! "$CAIRN" task list | grep -q sync-repo; }
wait_until 10 "two failed attempts on the backup repository" backup_failures_at_least 2
"$CAIRN" ca status issuing > status.txt
grep -q "backup" status.txt && grep -q "not a directory" status.txt || fail "status does not show the outage: $(cat status.txt)"
"$CAIRN" task list > tasks.txt
grep -q "sync-repo.*issuing.*backup" tasks.txt || fail "task list lacks the retry: $(cat tasks.txt)"

step "the repository comes back: the next attempt publishes exactly the current objects"
mkdir -p mnt/backup
wait_until 15 "the backup repository" test -s mnt/backup/crl/issuing.crl
wait_until 10 "no pending sync task" no_sync_task
[[ "$(listing www)" == "$(listing mnt/backup)" ]] || fail "the repositories differ: $(diff <(listing www) <(listing mnt/backup))"
diff -r www mnt/backup >/dev/null || fail "the repositories' contents differ"
backup_status | grep -q '"failures": 0' ||
  fail "status still shows failures after the recovery"

step "issuance and revocation reach both repositories"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout svc.key -out svc.csr \
  -subj "/CN=svc.example.com" -addext "subjectAltName=DNS:svc.example.com" 2>/dev/null
"$CAIRN" cert issue --ca issuing --csr svc.csr --out svc.pem >/dev/null
SERIAL=$("$CAIRN" cert list --ca issuing --format json | grep '"serial"' | head -1 | cut -d'"' -f4)
wait_until 10 "the issued certificate in both" test -s "www/certs/issuing/$SERIAL.cer" -a -s "mnt/backup/certs/issuing/$SERIAL.cer"
openssl x509 -inform DER -in "www/certs/issuing/$SERIAL.cer" -noout -subject | grep -q svc.example.com || fail "wrong certificate published"
"$CAIRN" cert revoke "$SERIAL" --reason keyCompromise >/dev/null
wait_until 10 "the revoked certificate removed" bash -c "[[ ! -e www/certs/issuing/$SERIAL.cer && ! -e mnt/backup/certs/issuing/$SERIAL.cer ]]"
wait_until 10 "the new CRL published" bash -c "openssl crl -inform DER -in www/crl/issuing.crl -noout -text | grep -qi '${SERIAL}'"
openssl verify -crl_check -CAfile www/chain/issuing.pem -CRLfile <(openssl crl -inform DER -in www/crl/issuing.crl) \
  svc.pem >verify.txt 2>&1 && fail "the published CRL does not revoke: $(cat verify.txt)"
grep -q "certificate revoked" verify.txt || fail "openssl: $(cat verify.txt)"

step "service registry: register, link, show, update"
"$CAIRN" service register billing --name "Billing API" --type http --endpoint https://billing.internal \
  --webhook http://127.0.0.1:9/hook --allow-name '*.example.com' > svc.txt
grep -q "whsec_" svc.txt || fail "no webhook secret shown: $(cat svc.txt)"
"$CAIRN" cert issue --ca issuing --csr svc.csr --out svc2.pem >/dev/null
SERIAL2=$(openssl x509 -in svc2.pem -noout -serial | cut -d= -f2)
"$CAIRN" service link billing --ca issuing --serial "$SERIAL2" >/dev/null
"$CAIRN" service show billing --format json > svc.json
grep -qi "\"serial\": \"$SERIAL2\"" svc.json || fail "the link is not shown: $(cat svc.json)"
grep -q whsec_ svc.json && fail "the webhook secret is shown again"
"$CAIRN" service update billing --name "Billing" --format json | grep -q '"name": "Billing"' || fail "update"
"$CAIRN" service list | grep -q billing || fail "list"
if "$CAIRN" service link billing --ca issuing --serial 01 2>err.txt; then fail "linked an unknown serial"; fi
grep -q certificate_not_found err.txt || fail "unknown serial: $(cat err.txt)"
"$CAIRN" task list | grep -q "service-check" || fail "no service check scheduled"

step "kept keys: the owner fetches the key again; nobody else does"
"$CAIRN" cert issue --ca issuing --key-type ec-p256 --subject "CN=kept.example.com" --dns kept.example.com \
  --keep-key --out kept.pem --key-out kept.key >/dev/null
KEPT=$(openssl x509 -in kept.pem -noout -serial | cut -d= -f2)
curl -fsS --max-time 5 -H "Authorization: Bearer $(cat data/admin.token)" \
  "$CAIRN_SERVER/api/v1/cas/issuing/certificates/$KEPT/key" -o fetched.key || fail "fetching the kept key"
cmp -s <(openssl pkey -in fetched.key -pubout) <(openssl x509 -in kept.pem -noout -pubkey) || fail "the kept key does not match"
AUD=$("$CAIRN" token create --name aud --role auditor --format json | grep '"token"' | cut -d'"' -f4)
code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $AUD" \
  "$CAIRN_SERVER/api/v1/cas/issuing/certificates/$KEPT/key")
[[ $code == 403 ]] || fail "an auditor fetched a key: $code"
code=$(curl -sS --max-time 5 -o err.json -w '%{http_code}' -H "Authorization: Bearer $(cat data/admin.token)" \
  "$CAIRN_SERVER/api/v1/cas/issuing/certificates/$SERIAL2/key")
[[ $code == 404 ]] && grep -q key_not_managed err.json || fail "a key that is not kept: $code $(cat err.json)"
grep -rq "BEGIN PRIVATE KEY\|BEGIN EC PRIVATE KEY" data/ && fail "a private key is stored in clear"

step "/metrics counts issuance, revocation and task outcomes"
curl -fsS --max-time 5 "$CAIRN_SERVER/metrics" > metrics.txt
grep -q '^cairn_certificates_issued_total [1-9]' metrics.txt || fail "issuance not counted: $(cat metrics.txt)"
grep -q '^cairn_certificates_revoked_total 1$' metrics.txt || fail "revocation not counted"
grep -q 'cairn_tasks_total{kind="sync-repo",outcome="error"} [1-9]' metrics.txt || fail "failed syncs not counted"
grep -q 'cairn_tasks_total{kind="sync-repo",outcome="ok"} [1-9]' metrics.txt || fail "syncs not counted"

step "restart: the server-started sync changes nothing that is already current"
(cd www && find . -type f -exec md5sum {} + | sort) > before.txt
stop_server
start_server
wait_until 10 "no pending sync task after restart" no_sync_task
(cd www && find . -type f -exec md5sum {} + | sort) > after.txt
cmp -s before.txt after.txt || fail "the restart changed the repository: $(diff before.txt after.txt)"
"$CAIRN" audit verify --data-dir data >/dev/null || fail "audit verify"
stop_server
echo "repository e2e: all steps passed"
