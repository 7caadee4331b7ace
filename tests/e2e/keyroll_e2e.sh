#!/usr/bin/env bash
# End to end: key rollover of the issuing CA, checked with the openssl
# client. Certificates issued before and after activation both verify
# against the CA certificate at their own AIA URL; after revocation each is
# refused with the CRL at its own distribution point (signed by the key
# that issued it), and `openssl ocsp` answers revoked for both.
# Usage: keyroll_e2e.sh /path/to/cairn
set -euo pipefail

CAIRN=${1:?usage: keyroll_e2e.sh /path/to/cairn}
source "$(dirname "$0")/lib.sh"

newcert() {  # newcert NAME: issues NAME.pem from the issuing CA
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
    -subj "/CN=$1.example" -addext "subjectAltName=DNS:$1.example" 2>/dev/null
  "$CAIRN" cert issue --ca issuing --csr "$1.csr" --out "$1.pem" >/dev/null
}
# fetch_issuer CERT OUT: the issuing CA certificate at the cert's AIA URL.
fetch_issuer() {
  local url
  url=$(openssl x509 -in "$1" -noout -text | grep "CA Issuers - URI:" | sed 's/.*URI://')
  curl -fsS --max-time 5 -o "$2.der" "$url" || fail "cannot fetch $url"
  openssl x509 -inform DER -in "$2.der" -out "$2"
}
fetch_crl() {  # fetch_crl CERT OUT: the CRL at the cert's distribution point (PEM)
  local url
  url=$(openssl x509 -in "$1" -noout -ext crlDistributionPoints | grep URI: | sed 's/.*URI://')
  curl -fsS --max-time 5 -o "$2.der" "$url" || fail "cannot fetch $url"
  openssl crl -inform DER -in "$2.der" -out "$2"
}
staged() { "$CAIRN" ca show issuing --format json | grep -q '"key_roll": "staged"'; }

step "start; a certificate from the first key"
SERVE_ARGS=--init-hierarchy start_server
export CAIRN_TOKEN_FILE="$WORK/data/admin.token"
"$CAIRN" ca chain root > root.pem
newcert old

step "keyroll init: the parent certifies the new key (staged), the old key still signs"
"$CAIRN" keyroll init issuing >/dev/null
wait_until 15 "the new key's certificate" staged
newcert between
fetch_issuer between.pem between-issuer.pem
fetch_issuer old.pem first-issuer.pem
cmp -s between-issuer.pem first-issuer.pem || fail "before activation the old key must still sign"
openssl verify -CAfile root.pem -untrusted first-issuer.pem between.pem | grep -q "between.pem: OK" || fail "between.pem"

step "keyroll activate: new certificates come from the new key"
"$CAIRN" keyroll activate issuing --format json > activated.json
grep -q '"key_generation": 1' activated.json || fail "activation: $(cat activated.json)"
newcert new
fetch_issuer old.pem old-issuer.pem
fetch_issuer new.pem new-issuer.pem
cmp -s old-issuer.pem new-issuer.pem && fail "old and new certificates name the same issuer certificate"
openssl verify -CAfile root.pem -untrusted old-issuer.pem old.pem | grep -q "old.pem: OK" || fail "old certificate"
openssl verify -CAfile root.pem -untrusted new-issuer.pem new.pem | grep -q "new.pem: OK" || fail "new certificate"
fetch_crl old.pem old-crl.pem
fetch_crl new.pem new-crl.pem
openssl crl -in old-crl.pem -noout -CAfile old-issuer.pem 2>&1 | grep -q "verify OK" || fail "the old CRL is not signed by the old key"
openssl crl -in new-crl.pem -noout -CAfile new-issuer.pem 2>&1 | grep -q "verify OK" || fail "the new CRL is not signed by the new key"
for c in old new; do
  cat root.pem "$c-issuer.pem" > "$c-chain.pem"
  openssl verify -crl_check -CAfile "$c-chain.pem" -CRLfile "$c-crl.pem" "$c.pem" | grep -q "$c.pem: OK" ||
    fail "$c.pem does not verify with its CRL"
done

step "revoke both: each key's CRL and OCSP answer say so"
for c in old new; do
  "$CAIRN" cert revoke "$(openssl x509 -in "$c.pem" -noout -serial | cut -d= -f2)" --reason keyCompromise >/dev/null
  fetch_crl "$c.pem" "$c-crl.pem"
  if openssl verify -crl_check -CAfile "$c-chain.pem" -CRLfile "$c-crl.pem" "$c.pem" >verify.txt 2>&1; then
    fail "$c.pem still verifies after revocation"
  fi
  grep -q "certificate revoked" verify.txt || fail "$c.pem: $(cat verify.txt)"
  url=$(openssl x509 -in "$c.pem" -noout -ocsp_uri)
  openssl ocsp -issuer "$c-issuer.pem" -cert "$c.pem" -url "$url" -CAfile "$c-chain.pem" -timeout 5 >ocsp.txt 2>&1
  grep -q "Response verify OK" ocsp.txt && grep -q "$c.pem: revoked" ocsp.txt || fail "OCSP for $c.pem: $(cat ocsp.txt)"
done
openssl verify -crl_check -CAfile old-chain.pem -CRLfile old-crl.pem between.pem | grep -q "between.pem: OK" ||
  fail "an unrevoked certificate of the old key is refused"
"$CAIRN" audit verify --data-dir data >/dev/null || fail "audit verify"
stop_server
echo "keyroll e2e: all steps passed"
