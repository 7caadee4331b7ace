// Conversions between cairn times (ms since the Unix epoch, UTC) and
// ASN1_TIME, and ISO-8601 text for humans and JSON.
// ASN1_TIME_set picks UTCTime up to 2049 and GeneralizedTime after, as
// RFC 5280 4.1.2.5 requires. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "core/openssl_types.h"

namespace cairn {

Asn1TimePtr to_asn1_time(int64_t ms);
int64_t from_asn1_time(const ASN1_TIME* t);
std::string iso8601(int64_t ms);  // 2026-11-22T10:00:00Z
// Parses "2026-11-22T10:00:00Z" (seconds optional fractions ignored); throws
// InvalidInput "invalid_time".
int64_t parse_iso8601(const std::string& text);

inline constexpr int64_t kMsPerDay = 24LL * 3600 * 1000;

}  // namespace cairn
