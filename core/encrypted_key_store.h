// EncryptedKeyStore — CA private keys encrypted at rest.
//
// Each key file holds "CKEY1" || nonce(12) || AES-256-GCM(ciphertext) ||
// tag(16), with the key id as associated data, under a random 256-bit data
// key. The data key itself is wrapped (AES-256-GCM, AAD "cairn-keystore-v1")
// under a key derived from the operator's passphrase with scrypt, and kept
// with the KDF parameters and salt in <dir>/keystore.json. Changing the
// passphrase (rewrap) therefore rewrites only that one file, atomically.
// open() refuses a wrong passphrase with Error{Unauthorized,
// "wrong_passphrase"}; it encrypts any plaintext key files left by older
// versions. Neither passphrase nor keys ever appear in errors or logs.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/key_store.h"

namespace cairn {

struct ScryptParams {
  uint64_t n = 1 << 15;  // 32 MiB of memory with r = 8
  uint64_t r = 8;
  uint64_t p = 1;
};

class EncryptedKeyStore final : public KeyStore {
 public:
  static std::unique_ptr<EncryptedKeyStore> open(const std::string& dir, std::string_view passphrase,
                                                 ScryptParams params = {});
  // Re-wraps the data key under a new passphrase. Key files are untouched.
  static void rewrap(const std::string& dir, std::string_view old_passphrase, std::string_view new_passphrase,
                     ScryptParams params = {});
  ~EncryptedKeyStore() override;

  void put(const std::string& key_id, const std::string& private_der) override;
  std::optional<std::string> get(const std::string& key_id) const override;

 private:
  EncryptedKeyStore(std::string dir, std::string data_key);
  FileKeyStore files_;
  std::string data_key_;  // 32 bytes, wiped on destruction
};

}  // namespace cairn
