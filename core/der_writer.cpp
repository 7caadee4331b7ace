#include "core/der_writer.h"

#include "eventstore/error.h"

namespace cairn {

namespace {

int long_length_bytes(size_t n) {
  int bytes = 0;
  for (size_t v = n; v; v >>= 8) ++bytes;
  return bytes;
}

}  // namespace

void der_append_header(std::string& out, uint8_t tag, size_t n) {
  out.push_back(static_cast<char>(tag));
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else {
    const int bytes = long_length_bytes(n);
    out.push_back(static_cast<char>(0x80 | bytes));
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
}

size_t der_header_size(size_t n) { return n < 0x80 ? 2 : 2 + static_cast<size_t>(long_length_bytes(n)); }

void der_append(std::string& out, uint8_t tag, std::string_view content) {
  der_append_header(out, tag, content.size());
  out.append(content);
}

std::string der_wrap(uint8_t tag, std::string_view content) {
  std::string out;
  out.reserve(der_header_size(content.size()) + content.size());
  der_append(out, tag, content);
  return out;
}

size_t der_unsigned_integer_from_hex(std::string_view hex, uint8_t (&out)[kMaxDerSerialContent]) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw Error(ErrorKind::InvalidInput, "invalid_serial", "serial numbers are hexadecimal");
  };
  while (hex.size() > 1 && hex[0] == '0') hex.remove_prefix(1);
  if (hex.size() > 2 * (kMaxDerSerialContent - 1))
    throw Error(ErrorKind::InvalidInput, "invalid_serial", "a serial number is up to 40 hexadecimal digits");
  uint8_t digits[kMaxDerSerialContent - 1];
  size_t n = 0, i = 0;
  if (hex.empty()) digits[n++] = 0;
  if (hex.size() % 2) digits[n++] = static_cast<uint8_t>(nibble(hex[i++]));
  for (; i < hex.size(); i += 2) digits[n++] = static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
  size_t at = 0;
  if (digits[0] & 0x80) out[at++] = 0;  // stays positive
  for (size_t k = 0; k < n; ++k) out[at++] = digits[k];
  return at;
}

std::string der_unsigned_integer_from_hex(std::string_view hex) {
  uint8_t out[kMaxDerSerialContent];
  size_t n = der_unsigned_integer_from_hex(hex, out);
  return std::string(reinterpret_cast<const char*>(out), n);
}

namespace {

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
// civil_from_days), so no gmtime/strftime per CRL entry.
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2 ? 1 : 0;
}

char* two_digits(char* p, unsigned v) {
  *p++ = static_cast<char>('0' + v / 10);
  *p++ = static_cast<char>('0' + v % 10);
  return p;
}

}  // namespace

size_t der_time(int64_t ms, char (&out)[kMaxDerTime]) {
  int64_t seconds = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  int64_t days = seconds / 86400;
  int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  int64_t year = 0;
  unsigned month = 0, day = 0;
  civil_from_days(days, year, month, day);
  if (year < 0 || year > 9999)
    throw Error(ErrorKind::InvalidInput, "invalid_time", "time outside years 0000-9999");
  const bool utc = year >= 1950 && year < 2050;
  char* p = out + 2;
  if (!utc) p = two_digits(p, static_cast<unsigned>(year / 100));
  p = two_digits(p, static_cast<unsigned>(year % 100));
  p = two_digits(p, month);
  p = two_digits(p, day);
  p = two_digits(p, static_cast<unsigned>(rest / 3600));
  p = two_digits(p, static_cast<unsigned>(rest / 60 % 60));
  p = two_digits(p, static_cast<unsigned>(rest % 60));
  *p++ = 'Z';
  out[0] = static_cast<char>(utc ? 0x17 : 0x18);
  out[1] = static_cast<char>(p - out - 2);
  return static_cast<size_t>(p - out);
}

std::string der_time(int64_t ms) {
  char out[kMaxDerTime];
  return std::string(out, der_time(ms, out));
}

}  // namespace cairn
