#include "core/signer.h"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include "core/encoding.h"
#include "eventstore/records.h"

namespace cairn {

std::string Signer::key_id_for(const EVP_PKEY* key) {
  return to_hex(sha256(cairn::public_key_der(key)));
}

std::string Signer::create_key(KeyAlgorithm alg) {
  EvpPkeyPtr pkey = generate_key(alg);
  unsigned char* der = nullptr;
  int len = i2d_PrivateKey(pkey.get(), &der);
  if (len <= 0) throw_openssl(ErrorKind::Internal, "openssl_error", "cannot encode new key");
  std::string private_der(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_clear_free(der, static_cast<size_t>(len));
  std::string id = key_id_for(pkey.get());
  store_.put(id, private_der);
  OPENSSL_cleanse(private_der.data(), private_der.size());
  std::lock_guard lock(mutex_);
  cache_[id] = std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free);
  return id;
}

namespace {
std::string secret_id(const std::string& name) { return to_hex(sha256("cairn secret: " + name)); }
}  // namespace

void Signer::store_secret(const std::string& name, const std::string& value) { store_.put(secret_id(name), value); }

std::optional<std::string> Signer::secret(const std::string& name) { return store_.get(secret_id(name)); }

std::shared_ptr<EVP_PKEY> Signer::key(const std::string& key_id) {
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key_id);
    if (it != cache_.end()) return it->second;
  }
  auto der = store_.get(key_id);
  if (!der)
    throw Error(ErrorKind::Unavailable, "key_missing",
                "the private key " + key_id + " is not in the key store");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  EVP_PKEY* raw = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der->size()));
  OPENSSL_cleanse(der->data(), der->size());
  if (!raw) {
    ERR_clear_error();
    throw Error(ErrorKind::Unavailable, "key_unreadable", "the private key " + key_id + " cannot be read");
  }
  std::shared_ptr<EVP_PKEY> loaded(raw, EVP_PKEY_free);
  if (key_id_for(loaded.get()) != key_id)
    throw Error(ErrorKind::Unavailable, "key_mismatch", "the key file for " + key_id + " holds another key");
  std::lock_guard lock(mutex_);
  return cache_.emplace(key_id, loaded).first->second;
}

std::string Signer::public_key_der(const std::string& key_id) {
  return cairn::public_key_der(key(key_id).get());
}

void Signer::sign(const std::string& key_id, X509_CRL* crl) {
  auto k = key(key_id);
  if (X509_CRL_sign(crl, k.get(), signing_digest(k.get())) <= 0)
    throw_openssl(ErrorKind::Internal, "signing_failed", "CRL signing failed");
}

void Signer::sign(const std::string& key_id, X509_REQ* req) {
  auto k = key(key_id);
  if (X509_REQ_sign(req, k.get(), signing_digest(k.get())) <= 0)
    throw_openssl(ErrorKind::Internal, "signing_failed", "CSR signing failed");
}

void Signer::sign(const std::string& key_id, OCSP_BASICRESP* response, X509* responder, unsigned long flags) {
  auto k = key(key_id);
  if (OCSP_basic_sign(response, responder, k.get(), signing_digest(k.get()), nullptr, flags) != 1)
    throw_openssl(ErrorKind::Internal, "signing_failed", "OCSP response signing failed");
}

std::string Signer::sign_bytes(const std::string& key_id, std::string_view data) {
  auto k = key(key_id);
  std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, signing_digest(k.get()), nullptr, k.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1)
    throw_openssl(ErrorKind::Internal, "signing_failed", "signing failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size()) != 1)
    throw_openssl(ErrorKind::Internal, "signing_failed", "signing failed");
  sig.resize(len);
  return sig;
}

std::string Signer::signature_algorithm(const std::string& key_id) {
  {
    std::lock_guard lock(mutex_);
    auto it = algorithms_.find(key_id);
    if (it != algorithms_.end()) return it->second;
  }
  auto k = key(key_id);
  std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  unsigned char der[128];
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, der, sizeof der),
                         OSSL_PARAM_construct_end()};
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, signing_digest(k.get()), nullptr, k.get()) != 1 ||
      EVP_PKEY_CTX_get_params(pctx, params) != 1 || !OSSL_PARAM_modified(params) || params[0].return_size == 0 ||
      params[0].return_size > sizeof der)
    throw_openssl(ErrorKind::Internal, "signing_failed", "no signature algorithm identifier for key " + key_id);
  std::string algorithm(reinterpret_cast<const char*>(der), params[0].return_size);
  std::lock_guard lock(mutex_);
  return algorithms_.emplace(key_id, std::move(algorithm)).first->second;
}

}  // namespace cairn
