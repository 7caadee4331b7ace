// Builds and signs one X.509 v3 certificate (RFC 5280) from a template:
// serial, names, validity, basicConstraints, keyUsage, extendedKeyUsage,
// SKI, AKI (keyid of the issuer), SANs, CRL distribution point and AIA
// (caIssuers, OCSP) and OCSP nocheck. Policy decisions (what is allowed) are made before; this
// only encodes them. Returns the DER.
// Thread-safety: pure function; signing goes through the thread-safe Signer.
#pragma once

#include <string>
#include <string_view>

#include "core/signer.h"
#include "core/subject_alt_names.h"

namespace cairn {

struct CertificateTemplate {
  std::string serial;                     // canonical hex
  const X509_NAME* subject = nullptr;
  std::string subject_public_key_der;     // SubjectPublicKeyInfo, copied as is
  const X509* issuer = nullptr;           // nullptr: self-signed
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
  std::string basic_constraints;          // e.g. "critical,CA:FALSE"
  std::string key_usage;                  // e.g. "critical,digitalSignature"
  std::string extended_key_usage;         // empty: none
  const SubjectAltNames* sans = nullptr;  // may be null or empty
  std::string crl_url;                    // empty: no CRL DP
  std::string ca_issuers_url;             // empty: no AIA caIssuers
  std::string ocsp_url;                   // empty: no AIA OCSP
  bool ocsp_no_check = false;             // id-pkix-ocsp-nocheck (delegated OCSP responders)
};

// A certificate before its signature: the TBSCertificate DER and the
// signature AlgorithmIdentifier it names (both for `signing_key_id`).
struct UnsignedCertificate {
  std::string tbs;
  std::string algorithm;
};
// Throws Internal "certificate_build_failed" for extension texts OpenSSL
// cannot parse and InvalidInput "invalid_public_key" for a key it cannot read.
UnsignedCertificate prepare_certificate(const CertificateTemplate& t, Signer& signer,
                                        const std::string& signing_key_id);
// Signs it: the Certificate DER. Throws Internal "signing_failed".
std::string signed_certificate(const UnsignedCertificate& u, Signer& signer, const std::string& signing_key_id);
// The Certificate DER from its parts; `signature` is the signature value
// itself (without the BIT STRING's unused-bits octet).
std::string certificate_from(const UnsignedCertificate& u, std::string_view signature);

// prepare_certificate(), then signed_certificate().
std::string build_certificate(const CertificateTemplate& t, Signer& signer,
                              const std::string& signing_key_id);

}  // namespace cairn
