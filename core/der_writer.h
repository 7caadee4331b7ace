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
// Appends only the tag and the length of `length` content bytes.
void der_append_header(std::string& out, uint8_t tag, size_t length);
// The size of the tag and length that der_append_header() writes.
size_t der_header_size(size_t length);
std::string der_wrap(uint8_t tag, std::string_view content);
// A DER INTEGER's content for a non-negative number given as hex digits.
std::string der_unsigned_integer_from_hex(std::string_view hex);
// The same written into `out` (hex of at most 40 digits); returns its length.
// Throws InvalidInput "invalid_serial" on a non-hex digit or more digits.
inline constexpr size_t kMaxDerSerialContent = 21;
size_t der_unsigned_integer_from_hex(std::string_view hex, uint8_t (&out)[kMaxDerSerialContent]);
// UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), whole seconds.
std::string der_time(int64_t ms_since_epoch);
// The same element (tag, length, text) written into `out`; returns its length.
inline constexpr size_t kMaxDerTime = 2 + 15;
size_t der_time(int64_t ms_since_epoch, char (&out)[kMaxDerTime]);

}  // namespace cairn
