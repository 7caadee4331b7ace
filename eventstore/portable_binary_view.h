// PortableBinaryView — reads, without copying, what cereal's
// PortableBinaryOutputArchive wrote on a little-endian machine: a leading
// endianness byte, then integers in little-endian order and strings as a
// 64-bit length and the bytes. For hot paths (replaying millions of events)
// that must not allocate; every read is bounds-checked and reports failure
// instead of throwing, so callers can fall back to cereal itself.
// Thread-safety: one per decode; the bytes must outlive it and its views.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace cairn {

class PortableBinaryView {
 public:
  // False unless the archive says it is little-endian and so is this machine.
  bool open(std::string_view bytes) {
    in_ = bytes;
    at_ = 0;
    ok_ = true;
    uint8_t little = 0;
    ok_ = std::endian::native == std::endian::little && read(little) && little == 1;
    return ok_;
  }

  template <class T>
  bool read(T& out) {
    static_assert(std::is_integral_v<T>);
    if (!ok_) return false;
    if (sizeof(T) > in_.size() - at_) return ok_ = false;
    std::memcpy(&out, in_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }

  bool read(std::string_view& out) {
    uint64_t n = 0;  // cereal's size_type
    if (!read(n)) return false;
    if (n > in_.size() - at_) return ok_ = false;
    out = in_.substr(at_, n);
    at_ += n;
    return true;
  }

  bool ok() const { return ok_; }
  bool at_end() const { return at_ == in_.size(); }

 private:
  std::string_view in_;
  size_t at_ = 0;
  bool ok_ = true;
};

// The writing side, for the same hot paths (one reserved buffer, no
// stream): appends what a little-endian archive holds for an integer or a
// string, on any machine; the archive's leading endianness byte is the
// caller's, as 1 (cereal reads such an archive anywhere).
template <class T>
  requires std::is_integral_v<T>
void portable_binary_append(std::string& out, T value) {
  const auto bits = static_cast<std::make_unsigned_t<T>>(value);
  for (size_t i = 0; i < sizeof value; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

inline void portable_binary_append(std::string& out, std::string_view bytes) {
  portable_binary_append(out, uint64_t{bytes.size()});  // cereal's size_type
  out.append(bytes);
}

}  // namespace cairn
