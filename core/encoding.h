// Conversions between DER, PEM and OpenSSL objects for certificates, CSRs,
// CRLs and keys. Parsers accept PEM or DER, reject trailing garbage and
// oversize input, and throw cairn::Error{InvalidInput} with a stable code.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/openssl_types.h"

namespace cairn {

inline constexpr size_t kMaxDerInput = 64 * 1024;
// CRLs list every revoked certificate (~40 bytes each): a CA with a million
// revocations publishes a 40 MB CRL, which auditors must still read.
inline constexpr size_t kMaxCrlInput = size_t{1} << 30;

X509Ptr parse_certificate(std::string_view pem_or_der);
X509ReqPtr parse_csr_object(std::string_view pem_or_der);
// Every certificate of a PEM bundle, in order (at least one, nothing else
// but whitespace between them): InvalidInput "invalid_certificate" otherwise.
std::vector<X509Ptr> parse_certificate_chain(std::string_view pem);
X509CrlPtr parse_crl(std::string_view pem_or_der);
EvpPkeyPtr parse_public_key_der(std::string_view der);

std::string to_der(const X509* cert);
std::string to_der(const X509_REQ* req);
std::string to_der(const X509_CRL* crl);
std::string public_key_der(const EVP_PKEY* key);
// What an OpenSSL i2d function wrote into the buffer it allocated: takes
// `der` (frees it, also if the copy throws); "" when len <= 0 (failed).
std::string adopt_der(unsigned char* der, int len);

std::string certificate_pem(std::string_view der);
std::string crl_pem(std::string_view der);
std::string csr_pem(std::string_view der);
// PKCS#8, unencrypted: only for handing a server-generated key to its owner.
std::string private_key_pem(const EVP_PKEY* key);

// Standard base64 without line breaks; decode throws InvalidInput "invalid_base64".
std::string base64_encode(std::string_view bytes);
std::string base64_decode(std::string_view text);

}  // namespace cairn
