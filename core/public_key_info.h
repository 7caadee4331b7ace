// PublicKeyInfo — a SubjectPublicKeyInfo (RFC 5280 4.1.2.7) read and named
// without building an OpenSSL key object, and the fast ways to use one.
//
// OpenSSL 3.0 turns every SubjectPublicKeyInfo into an EVP_PKEY through a
// freshly built provider decoder chain (~100 us); issuance needs only the
// key's name (for policy), its bytes (to put in the certificate) and, for a
// CSR, one signature check. These functions do that directly for EC (named
// curves), RSA and Ed25519 keys; anything else goes through OpenSSL's
// generic decoder, so every key OpenSSL reads still works.
// Thread-safety: pure functions and a plain value type.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/openssl_types.h"

namespace cairn {

struct PublicKeyInfo {
  std::string der;             // the whole SubjectPublicKeyInfo
  int algorithm_nid = NID_undef;
  int curve_nid = NID_undef;   // EC keys with a named curve
  std::string key_bytes;       // BIT STRING contents, without the unused-bits octet
};

// nullopt when `der` is not one DER SubjectPublicKeyInfo (callers that must
// reject then report their own error code).
std::optional<PublicKeyInfo> read_public_key_info(std::string_view der);

// The same names and errors as describe_public_key(): "ec-p256", "rsa-2048",
// "ed25519", ...; throws PolicyViolation "weak_key"/"unsupported_key" and
// InvalidInput "invalid_public_key" for an RSA key that is not RSAPublicKey.
std::string describe_public_key_info(const PublicKeyInfo& info);

// An EVP_PKEY for the key, checked by OpenSSL (an EC point must be on its
// curve). Throws InvalidInput "invalid_public_key" if it is not a usable key.
EvpPkeyPtr public_key_from_info(const PublicKeyInfo& info);

}  // namespace cairn
