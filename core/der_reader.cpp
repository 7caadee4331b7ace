#include "core/der_reader.h"

#include <openssl/err.h>
#include <openssl/objects.h>

namespace cairn {

std::optional<DerElement> DerReader::next() {
  if (rest_.empty() || failed_) return std::nullopt;
  auto fail = [this]() -> std::optional<DerElement> {
    failed_ = true;
    return std::nullopt;
  };
  const auto* p = reinterpret_cast<const uint8_t*>(rest_.data());
  size_t avail = rest_.size();
  if (avail < 2) return fail();
  uint8_t tag = p[0];
  if ((tag & 0x1f) == 0x1f) return fail();  // multi-byte tags never occur here
  size_t header = 2;
  size_t length = p[1];
  if (length == 0x80) return fail();  // indefinite length: BER, not DER
  if (length > 0x80) {
    size_t n = length & 0x7f;
    if (n > 4 || avail < 2 + n) return fail();
    length = 0;
    for (size_t i = 0; i < n; ++i) length = (length << 8) | p[2 + i];
    // DER: the shortest form, no leading zero byte.
    if (length < 0x80 || p[2] == 0) return fail();
    header += n;
  }
  if (length > avail - header) return fail();
  DerElement e;
  e.tag = tag;
  e.content = rest_.substr(header, length);
  e.whole = rest_.substr(0, header + length);
  rest_.remove_prefix(header + length);
  return e;
}

std::optional<DerElement> DerReader::next_if(uint8_t tag) {
  if (rest_.empty() || failed_ || static_cast<uint8_t>(rest_[0]) != tag) return std::nullopt;
  return next();
}

std::optional<int> der_oid_nid(const DerElement& oid) {
  const unsigned char* p = der_bytes(oid.whole);
  ASN1_OBJECT* object = d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(oid.whole.size()));
  if (!object || p != der_bytes(oid.whole) + oid.whole.size()) {
    ASN1_OBJECT_free(object);
    ERR_clear_error();
    return std::nullopt;
  }
  int nid = OBJ_obj2nid(object);
  ASN1_OBJECT_free(object);
  return nid;
}

std::optional<DerElement> der_single(std::string_view bytes, uint8_t tag) {
  DerReader r(bytes);
  auto e = r.next();
  if (!e || e->tag != tag || !r.at_end()) return std::nullopt;
  return e;
}

}  // namespace cairn
