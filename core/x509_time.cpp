#include "core/x509_time.h"

#include <ctime>

namespace cairn {

Asn1TimePtr to_asn1_time(int64_t ms) {
  Asn1TimePtr t(ASN1_TIME_set(nullptr, static_cast<time_t>(ms / 1000)));
  if (!t) throw_openssl(ErrorKind::Internal, "openssl_error", "cannot encode time");
  return t;
}

int64_t from_asn1_time(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1)
    throw Error(ErrorKind::InvalidInput, "invalid_time", "malformed ASN.1 time");
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

std::string iso8601(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t parse_iso8601(const std::string& text) {
  struct tm tm {};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) end = strptime(text.c_str(), "%Y-%m-%d", &tm);
  if (!end) throw Error(ErrorKind::InvalidInput, "invalid_time", "times look like 2026-11-22T10:00:00Z");
  if (*end == '.')
    while (*++end >= '0' && *end <= '9') {
    }
  if (*end != '\0' && !(end[0] == 'Z' && end[1] == '\0'))
    throw Error(ErrorKind::InvalidInput, "invalid_time", "times must be UTC, ending in Z");
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

}  // namespace cairn
