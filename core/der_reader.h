// DerReader — a strict, bounds-checked walker over DER (X.690) encodings.
//
// Why it exists: with OpenSSL 3.0, every d2i of a certificate, CSR or
// SubjectPublicKeyInfo builds a provider decoder chain for the public key
// (~100 us each on a 2 GHz core, five times the cost of an ECDSA signature).
// The issuance path only needs the structure, so it walks it with this reader
// and hands the small parts (names, extensions, algorithm identifiers) to
// OpenSSL's own parsers.
// Only definite, minimally encoded lengths and single-byte tags are accepted;
// anything else makes next() return false (callers fall back to OpenSSL).
// Thread-safety: a value over borrowed bytes; the bytes must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cairn {

struct DerElement {
  uint8_t tag = 0;
  std::string_view content;  // the value bytes
  std::string_view whole;    // tag, length and value
};

class DerReader {
 public:
  explicit DerReader(std::string_view bytes) : rest_(bytes) {}

  // The next element, or nullopt when the input is exhausted or malformed
  // (see failed()).
  std::optional<DerElement> next();
  // The next element if it has `tag`; otherwise nullopt and nothing consumed.
  std::optional<DerElement> next_if(uint8_t tag);
  bool at_end() const { return rest_.empty(); }
  bool failed() const { return failed_; }

 private:
  std::string_view rest_;
  bool failed_ = false;
};

// Tags used by X.509 and PKCS#10.
namespace der_tag {
inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kBitString = 0x03;
inline constexpr uint8_t kOid = 0x06;
inline constexpr uint8_t kSequence = 0x30;
inline constexpr uint8_t kSet = 0x31;
inline constexpr uint8_t kContext0 = 0xa0;  // [0] constructed
inline constexpr uint8_t kContext1 = 0xa1;
inline constexpr uint8_t kContext2 = 0xa2;
inline constexpr uint8_t kContext3 = 0xa3;
inline constexpr uint8_t kContext1Primitive = 0x81;
inline constexpr uint8_t kContext2Primitive = 0x82;
}  // namespace der_tag

// The single element that makes up `bytes` if it has `tag` and nothing
// follows it; nullopt otherwise.
std::optional<DerElement> der_single(std::string_view bytes, uint8_t tag);

// The bytes as OpenSSL's d2i functions take them.
inline const unsigned char* der_bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// The OpenSSL NID of an OBJECT IDENTIFIER element (NID_undef for one OpenSSL
// does not know); nullopt if it is not a valid OID.
std::optional<int> der_oid_nid(const DerElement& oid);

}  // namespace cairn
