#include "core/serial_number.h"

#include <openssl/rand.h>

#include <cctype>

#include "core/encoding.h"
#include "eventstore/records.h"

namespace cairn {
namespace {

std::string bn_to_text(const BIGNUM* bn) {
  char* hex = BN_bn2hex(bn);
  if (!hex) throw_openssl(ErrorKind::Internal, "openssl_error", "BN_bn2hex failed");
  std::string out(hex);
  OPENSSL_free(hex);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string random_serial() {
  unsigned char bytes[20];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw_openssl(ErrorKind::Internal, "rng_failed", "random generator failed");
  // Positive (top bit clear) and a first octet >= 0x10, so the text form is
  // always 40 digits: 7 + 19*8 = 159 random bits minus the first-octet bias.
  bytes[0] &= 0x7f;
  if (bytes[0] < 0x10) bytes[0] |= 0x10;
  return to_hex(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

std::string normalize_serial(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c)) || hex.size() >= 40)
      throw Error(ErrorKind::InvalidInput, "invalid_serial",
                  "a serial number is up to 40 hexadecimal digits");
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.empty())
    throw Error(ErrorKind::InvalidInput, "invalid_serial", "empty serial number");
  BIGNUM* raw = nullptr;
  if (!BN_hex2bn(&raw, hex.c_str()))
    throw Error(ErrorKind::InvalidInput, "invalid_serial", "invalid serial number");
  BignumPtr bn(raw);
  return bn_to_text(bn.get());
}

Asn1IntegerPtr serial_to_asn1(const std::string& serial) {
  BIGNUM* raw = nullptr;
  if (!BN_hex2bn(&raw, serial.c_str()))
    throw Error(ErrorKind::InvalidInput, "invalid_serial", "invalid serial number");
  BignumPtr bn(raw);
  Asn1IntegerPtr out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!out) throw_openssl(ErrorKind::Internal, "openssl_error", "BN_to_ASN1_INTEGER failed");
  return out;
}

std::string serial_of(const X509* cert) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) throw_openssl(ErrorKind::Internal, "openssl_error", "cannot read serial");
  return bn_to_text(bn.get());
}

}  // namespace cairn
