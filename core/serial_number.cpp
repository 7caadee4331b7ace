#include "core/serial_number.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <array>
#include <cctype>
#include <cstring>
#include <mutex>

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

// Each RAND_bytes call costs a few microseconds whatever its length (OpenSSL
// 3's DRBG re-keys after every request; 1.4% of the server's CPU when
// issuing), so serials are cut from a block of its output drawn once per 32.
// Used bytes are wiped. The block is per thread; a forked child starts
// afresh, never repeating its parent's serials.
class SerialRandom {
 public:
  static void take(unsigned char* out, size_t n) {
    static std::once_flag registered;
    std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, [] { block().used = kSize; }); });
    Block& b = block();
    if (n > kSize - b.used) {
      if (RAND_bytes(b.bytes.data(), static_cast<int>(kSize)) != 1)
        throw_openssl(ErrorKind::Internal, "rng_failed", "random generator failed");
      b.used = 0;
    }
    std::memcpy(out, b.bytes.data() + b.used, n);
    OPENSSL_cleanse(b.bytes.data() + b.used, n);
    b.used += n;
  }

 private:
  static constexpr size_t kSize = 640;
  struct Block {
    std::array<unsigned char, kSize> bytes{};
    size_t used = kSize;  // nothing left: drawn on first use
  };
  static Block& block() {
    thread_local Block b;
    return b;
  }
};

}  // namespace

std::string random_serial() {
  unsigned char bytes[20];
  SerialRandom::take(bytes, sizeof bytes);
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
