// DER (X.690) encoding of single elements, for the few structures cairn
// writes itself because OpenSSL's object model is too slow at scale (CRL
// entries by the million). Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn {

// Appends tag, definite minimal length and content to `out`.
void der_append(std::string& out, uint8_t tag, std::string_view content);
std::string der_wrap(uint8_t tag, std::string_view content);
// A DER INTEGER's content for a non-negative number given as hex digits.
std::string der_unsigned_integer_from_hex(std::string_view hex);
// UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), whole seconds.
std::string der_time(int64_t ms_since_epoch);

}  // namespace cairn
