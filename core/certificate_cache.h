// shared_certificate() — parsed certificates by DER, kept for reuse.
//
// A CA signs every certificate with its own certificate as issuer; parsing it
// each time costs more than the signature (OpenSSL 3.0 decodes its key through
// a provider decoder chain). The cache holds up to 256 parsed certificates,
// keyed by their exact DER, and starts over when full.
// Thread-safety: may be called concurrently; the returned X509 is shared and
// must only be read (OpenSSL's getters lock their own lazily built caches).
// Throws like parse_certificate() for input that is not a certificate.
#pragma once

#include <memory>
#include <string_view>

#include "core/openssl_types.h"

namespace cairn {

std::shared_ptr<const X509> shared_certificate(std::string_view der);

}  // namespace cairn
