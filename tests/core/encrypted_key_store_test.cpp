// Keys encrypted at rest: the files never hold key material in the clear,
// a wrong passphrase is refused, rewrap changes only the passphrase.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/encrypted_key_store.h"
#include "core/signer.h"
#include "tests/core/pki_fixtures.h"
#include "tests/test_util.h"

namespace cairn {
namespace {

constexpr ScryptParams kFast{1 << 10, 8, 1};  // keep unit tests quick

std::string all_files(const std::string& dir) {
  std::string blob;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    blob += ss.str();
  }
  return blob;
}

std::string scalar_of(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  EvpPkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  return testing::private_scalar(key.get());
}

TEST(EncryptedKeyStore, FilesHoldNoPlaintextKeyAndRoundTrip) {
  testing::TempDir dir;
  auto store = EncryptedKeyStore::open(dir.path(), "a long enough passphrase", kFast);
  Signer signer(*store);
  std::string id = signer.create_key(KeyAlgorithm::EcP256);
  auto der = store->get(id);
  ASSERT_TRUE(der.has_value());
  std::string scalar = scalar_of(*der);
  ASSERT_EQ(scalar.size(), 32u);
  std::string files = all_files(dir.path());
  EXPECT_EQ(files.find(scalar), std::string::npos);
  EXPECT_EQ(files.find(*der), std::string::npos);
  EXPECT_EQ(std::filesystem::status(dir.path() + "/" + id + ".key").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // A fresh process with the passphrase signs with the same key.
  auto reopened = EncryptedKeyStore::open(dir.path(), "a long enough passphrase", kFast);
  EXPECT_EQ(reopened->get(id), der);
}

TEST(EncryptedKeyStore, WrongPassphraseIsRefusedClearly) {
  testing::TempDir dir;
  EncryptedKeyStore::open(dir.path(), "the right passphrase", kFast);
  try {
    EncryptedKeyStore::open(dir.path(), "the wrong passphrase", kFast);
    FAIL() << "a wrong passphrase opened the key store";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "wrong_passphrase");
    EXPECT_EQ(std::string(e.what()).find("the right passphrase"), std::string::npos);
  }
  EXPECT_EQ(testing::error_code_of([&] { EncryptedKeyStore::open(dir.path() + "/new", "short", kFast); }),
            "weak_passphrase");
}

TEST(EncryptedKeyStore, MissingManifestWithEncryptedKeysIsRefused) {
  testing::TempDir dir;
  {
    auto store = EncryptedKeyStore::open(dir.path(), "the right passphrase", kFast);
    Signer signer(*store);
    signer.create_key(KeyAlgorithm::EcP256);
  }
  std::filesystem::remove(dir.path() + "/keystore.json");
  // A fresh data key would let the server start and then fail every signature.
  EXPECT_EQ(testing::error_code_of([&] { EncryptedKeyStore::open(dir.path(), "any passphrase at all", kFast); }),
            "keystore_missing");
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/keystore.json")) << "nothing was written";
}

TEST(EncryptedKeyStore, TamperedKeyFileFailsItsIntegrityCheck) {
  testing::TempDir dir;
  auto store = EncryptedKeyStore::open(dir.path(), "a long enough passphrase", kFast);
  Signer signer(*store);
  std::string id = signer.create_key(KeyAlgorithm::Ed25519);
  std::string path = dir.path() + "/" + id + ".key";
  std::string blob;
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    blob = ss.str();
  }
  blob[blob.size() / 2] ^= 1;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << blob;
  EXPECT_EQ(testing::error_code_of([&] { store->get(id); }), "key_unreadable");
}

TEST(EncryptedKeyStore, RewrapChangesOnlyThePassphrase) {
  testing::TempDir dir;
  std::string id, der;
  {
    auto store = EncryptedKeyStore::open(dir.path(), "old passphrase here", kFast);
    Signer signer(*store);
    id = signer.create_key(KeyAlgorithm::EcP384);
    der = *store->get(id);
  }
  EncryptedKeyStore::rewrap(dir.path(), "old passphrase here", "new passphrase here", kFast);
  EXPECT_EQ(testing::error_code_of([&] { EncryptedKeyStore::open(dir.path(), "old passphrase here", kFast); }),
            "wrong_passphrase");
  EXPECT_EQ(EncryptedKeyStore::open(dir.path(), "new passphrase here", kFast)->get(id), der);
  EXPECT_EQ(testing::error_code_of([&] {
              EncryptedKeyStore::rewrap(dir.path(), "not the passphrase", "another passphrase", kFast);
            }),
            "wrong_passphrase");
}

TEST(EncryptedKeyStore, PlaintextKeysFromOlderVersionsAreEncryptedOnOpen) {
  testing::TempDir dir;
  std::string id, der;
  {
    FileKeyStore plain(dir.path());
    Signer signer(plain);
    id = signer.create_key(KeyAlgorithm::EcP256);
    der = *plain.get(id);
  }
  std::string scalar = scalar_of(der);
  ASSERT_NE(all_files(dir.path()).find(scalar), std::string::npos);
  auto store = EncryptedKeyStore::open(dir.path(), "a long enough passphrase", kFast);
  EXPECT_EQ(store->get(id), der);
  EXPECT_EQ(all_files(dir.path()).find(scalar), std::string::npos);
}

}  // namespace
}  // namespace cairn
