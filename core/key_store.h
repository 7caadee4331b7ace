// KeyStore — where CA private keys live, apart from events.
//
// Keys are addressed by key id (hex SHA-256 of the SubjectPublicKeyInfo DER)
// and stored as DER as i2d_PrivateKey writes it (SEC1 for EC, PKCS#1 for
// RSA, PKCS#8 for Ed25519). FileKeyStore writes one file per key, mode 0600,
// under <dir>, atomically (temp file, fsync, rename, fsync dir); encryption at
// rest is added by a later layer. MemoryKeyStore is for unit tests.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace cairn {

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  virtual void put(const std::string& key_id, const std::string& private_der) = 0;
  virtual std::optional<std::string> get(const std::string& key_id) const = 0;
};

class FileKeyStore final : public KeyStore {
 public:
  explicit FileKeyStore(std::string dir);  // creates dir (0700) if missing
  void put(const std::string& key_id, const std::string& private_der) override;
  std::optional<std::string> get(const std::string& key_id) const override;

 private:
  std::string path_for(const std::string& key_id) const;
  std::string dir_;
};

class MemoryKeyStore final : public KeyStore {
 public:
  void put(const std::string& key_id, const std::string& private_der) override;
  std::optional<std::string> get(const std::string& key_id) const override;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> keys_;
};

}  // namespace cairn
