#include "core/encrypted_key_store.h"

#include <fcntl.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/encoding.h"
#include "core/openssl_types.h"

namespace cairn {
namespace {

constexpr std::string_view kMagic = "CKEY1";
constexpr std::string_view kWrapAad = "cairn-keystore-v1";
constexpr size_t kNonce = 12, kTag = 16, kKey = 32;

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OpenSslDeleter<EVP_CIPHER_CTX_free>>;

const unsigned char* u(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw Error(ErrorKind::Internal, "rng_failed", "random generator failed");
  return out;
}

// nonce || ciphertext || tag
std::string seal(std::string_view key, std::string_view plain, std::string_view aad) {
  std::string nonce = random_bytes(kNonce);
  std::string out = nonce;
  out.resize(kNonce + plain.size() + kTag);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u(key), u(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, u(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + kNonce, &len, u(plain), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + kNonce + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, o + kNonce + plain.size()) != 1)
    throw_openssl(ErrorKind::Internal, "encryption_failed", "AES-GCM encryption failed");
  return out;
}

std::optional<std::string> open_sealed(std::string_view key, std::string_view sealed, std::string_view aad) {
  if (sealed.size() < kNonce + kTag) return std::nullopt;
  size_t n = sealed.size() - kNonce - kTag;
  std::string plain(n, '\0');
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  std::string tag(sealed.substr(kNonce + n));
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u(key), u(sealed.substr(0, kNonce))) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, u(aad), static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                              u(sealed.substr(kNonce, n)), static_cast<int>(n)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len, &len) == 1;
  ERR_clear_error();
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return std::nullopt;
  }
  return plain;
}

std::string derive(std::string_view passphrase, std::string_view salt, const ScryptParams& p) {
  std::string key(kKey, '\0');
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                     salt.size(), p.n, p.r, p.p, 1ull << 30, reinterpret_cast<unsigned char*>(key.data()),
                     key.size()) != 1)
    throw_openssl(ErrorKind::Internal, "kdf_failed", "scrypt failed");
  return key;
}

struct Wrapped {
  ScryptParams params;
  std::string salt;
  std::string wrapped_key;
};

std::string manifest_path(const std::string& dir) { return dir + "/keystore.json"; }

std::optional<Wrapped> read_manifest(const std::string& dir) {
  std::ifstream in(manifest_path(dir));
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || j.value("kdf", "") != "scrypt" || j.value("version", 0) != 1)
    throw Error(ErrorKind::Internal, "invalid_keystore", manifest_path(dir) + " is not a cairn key store manifest");
  Wrapped w;
  w.params = {j.value("n", uint64_t{0}), j.value("r", uint64_t{0}), j.value("p", uint64_t{0})};
  w.salt = base64_decode(j.value("salt", ""));
  w.wrapped_key = base64_decode(j.value("wrapped_key", ""));
  return w;
}

void write_manifest(const std::string& dir, const Wrapped& w) {
  nlohmann::json j = {{"version", 1},
                      {"kdf", "scrypt"},
                      {"n", w.params.n},
                      {"r", w.params.r},
                      {"p", w.params.p},
                      {"salt", base64_encode(w.salt)},
                      {"cipher", "aes-256-gcm"},
                      {"wrapped_key", base64_encode(w.wrapped_key)}};
  std::string tmp = manifest_path(dir) + ".tmp";
  std::string text = j.dump(2) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok || ::rename(tmp.c_str(), manifest_path(dir).c_str()) != 0)
    throw Error(ErrorKind::Unavailable, "key_store_error", "cannot write " + manifest_path(dir));
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string unwrap(const Wrapped& w, std::string_view passphrase) {
  std::string kek = derive(passphrase, w.salt, w.params);
  auto key = open_sealed(kek, w.wrapped_key, kWrapAad);
  OPENSSL_cleanse(kek.data(), kek.size());
  if (!key || key->size() != kKey)
    throw Error(ErrorKind::Unauthorized, "wrong_passphrase",
                "the passphrase does not open this key store; CA keys stay locked");
  return *key;
}

void check_passphrase(std::string_view passphrase) {
  if (passphrase.size() < 12)
    throw Error(ErrorKind::InvalidInput, "weak_passphrase", "the key store passphrase must have at least 12 characters");
}

}  // namespace

EncryptedKeyStore::EncryptedKeyStore(std::string dir, std::string data_key)
    : files_(std::move(dir)), data_key_(std::move(data_key)) {}

EncryptedKeyStore::~EncryptedKeyStore() { OPENSSL_cleanse(data_key_.data(), data_key_.size()); }

std::unique_ptr<EncryptedKeyStore> EncryptedKeyStore::open(const std::string& dir, std::string_view passphrase,
                                                           ScryptParams params) {
  FileKeyStore files(dir);  // creates the directory
  auto manifest = read_manifest(dir);
  std::string data_key;
  if (manifest) {
    data_key = unwrap(*manifest, passphrase);
  } else {
    // Without the manifest, encrypted key files can never be opened again: a
    // new data key would make the server start and then fail every signature.
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      std::string name = entry.path().filename().string();
      if (!name.ends_with(".key") || name.size() != 68) continue;
      auto raw = files.get(name.substr(0, 64));
      if (raw && std::string_view(*raw).starts_with(kMagic))
        throw Error(ErrorKind::Unavailable, "keystore_missing",
                    manifest_path(dir) + " is missing but encrypted CA keys are present; restore it "
                    "from a backup (the keys cannot be opened without it)");
    }
    check_passphrase(passphrase);
    data_key = random_bytes(kKey);
    Wrapped w{params, random_bytes(16), ""};
    std::string kek = derive(passphrase, w.salt, params);
    w.wrapped_key = seal(kek, data_key, kWrapAad);
    OPENSSL_cleanse(kek.data(), kek.size());
    write_manifest(dir, w);
  }
  std::unique_ptr<EncryptedKeyStore> store(new EncryptedKeyStore(dir, std::move(data_key)));
  // Encrypt key files written in plaintext by older versions.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (!name.ends_with(".key") || name.size() != 68) continue;
    std::string id = name.substr(0, 64);
    auto raw = store->files_.get(id);
    if (raw && !std::string_view(*raw).starts_with(kMagic)) {
      store->put(id, *raw);
      OPENSSL_cleanse(raw->data(), raw->size());
    }
  }
  return store;
}

void EncryptedKeyStore::rewrap(const std::string& dir, std::string_view old_passphrase,
                               std::string_view new_passphrase, ScryptParams params) {
  check_passphrase(new_passphrase);
  auto manifest = read_manifest(dir);
  if (!manifest) throw Error(ErrorKind::NotFound, "no_keystore", "no encrypted key store in " + dir);
  std::string data_key = unwrap(*manifest, old_passphrase);
  Wrapped w{params, random_bytes(16), ""};
  std::string kek = derive(new_passphrase, w.salt, params);
  w.wrapped_key = seal(kek, data_key, kWrapAad);
  OPENSSL_cleanse(kek.data(), kek.size());
  OPENSSL_cleanse(data_key.data(), data_key.size());
  write_manifest(dir, w);
}

void EncryptedKeyStore::put(const std::string& key_id, const std::string& private_der) {
  files_.put(key_id, std::string(kMagic) + seal(data_key_, private_der, key_id));
}

std::optional<std::string> EncryptedKeyStore::get(const std::string& key_id) const {
  auto blob = files_.get(key_id);
  if (!blob) return std::nullopt;
  if (!std::string_view(*blob).starts_with(kMagic))
    throw Error(ErrorKind::Unavailable, "key_unreadable", "key " + key_id + " is not encrypted as expected");
  auto plain = open_sealed(data_key_, std::string_view(*blob).substr(kMagic.size()), key_id);
  if (!plain) throw Error(ErrorKind::Unavailable, "key_unreadable", "key " + key_id + " fails its integrity check");
  return plain;
}

}  // namespace cairn
