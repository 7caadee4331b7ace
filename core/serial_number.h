// Certificate serial numbers: random, positive, 20 octets with at least 150
// bits from the CSPRNG (RFC 5280 4.1.2.2; CA/B BR asks for >= 64 bits).
// The canonical text form is 40 lowercase hex digits. normalize_serial()
// accepts upper case and colons and throws InvalidInput "invalid_serial".
// Thread-safety: all may be called concurrently (random_serial draws from
// OpenSSL's CSPRNG through a per-thread block, see serial_number.cpp).
#pragma once

#include <string>
#include <string_view>

#include "core/openssl_types.h"

namespace cairn {

std::string random_serial();
std::string normalize_serial(std::string_view text);
Asn1IntegerPtr serial_to_asn1(const std::string& serial);
std::string serial_of(const X509* cert);

}  // namespace cairn
