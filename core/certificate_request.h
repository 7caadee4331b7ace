// CertificateRequest — a PKCS#10 CSR that has been parsed and whose
// self-signature has been verified. Only what issuance needs is kept.
// parse_certificate_request() throws InvalidInput "invalid_csr" for bad
// encoding, "csr_signature_invalid" when the signature does not verify,
// PolicyViolation "weak_key"/"unsupported_key" for keys cairn won't certify.
// Thread-safety: plain value type.
#pragma once

#include <string>
#include <string_view>

#include "core/subject_alt_names.h"

namespace cairn {

struct CertificateRequest {
  std::string der;
  std::string subject;         // as format_name() prints it
  std::string public_key_der;  // SubjectPublicKeyInfo
  std::string key_type;        // describe_public_key()
  SubjectAltNames sans;        // as requested, normalised
};

// Common CSRs (EC, RSA PKCS#1 v1.5 and Ed25519 signatures, strict DER) are
// read without OpenSSL's generic key decoder, which costs ~100 us per key in
// OpenSSL 3.0; everything else goes to the generic parser. Both give the
// same result for the same CSR (tests/core/certificate_request_test.cpp).
CertificateRequest parse_certificate_request(std::string_view pem_or_der);
// The same through OpenSSL's X509_REQ parser alone.
CertificateRequest parse_certificate_request_generic(std::string_view pem_or_der);

}  // namespace cairn
