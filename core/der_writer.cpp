#include "core/der_writer.h"

#include <ctime>

#include "eventstore/error.h"

namespace cairn {

void der_append(std::string& out, uint8_t tag, std::string_view content) {
  out.push_back(static_cast<char>(tag));
  size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else {
    int bytes = 0;
    for (size_t v = n; v; v >>= 8) ++bytes;
    out.push_back(static_cast<char>(0x80 | bytes));
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
  out.append(content);
}

std::string der_wrap(uint8_t tag, std::string_view content) {
  std::string out;
  out.reserve(content.size() + 6);
  der_append(out, tag, content);
  return out;
}

std::string der_unsigned_integer_from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw Error(ErrorKind::InvalidInput, "invalid_serial", "serial numbers are hexadecimal");
  };
  while (hex.size() > 1 && hex[0] == '0') hex.remove_prefix(1);
  std::string out;
  size_t i = 0;
  if (hex.size() % 2) out.push_back(static_cast<char>(nibble(hex[i++])));
  for (; i < hex.size(); i += 2) out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  if (out.empty()) out.push_back('\0');
  if (static_cast<uint8_t>(out[0]) & 0x80) out.insert(out.begin(), '\0');  // stays positive
  return out;
}

std::string der_time(int64_t ms) {
  time_t seconds = static_cast<time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  int year = tm.tm_year + 1900;
  char text[20];
  bool utc = year >= 1950 && year < 2050;
  size_t n = utc ? std::strftime(text, sizeof text, "%y%m%d%H%M%SZ", &tm)
                 : std::strftime(text, sizeof text, "%Y%m%d%H%M%SZ", &tm);
  return der_wrap(utc ? 0x17 : 0x18, std::string_view(text, n));
}

}  // namespace cairn
