// Signer — the only component that touches CA private keys.
//
// create_key() generates a key, stores it in the KeyStore and returns its key
// id; sign() signs a CRL, CSR or OCSP response and sign_bytes() any bytes
// (certificates, see certificate_builder.h) with the key of that id. Private
// keys never leave the Signer: callers only see key ids and public keys.
// Loaded keys are cached in memory for the life of the Signer.
// Thread-safety: all methods may be called concurrently.
// Ownership: borrows the KeyStore, which must outlive the Signer.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/key_algorithm.h"
#include "core/key_store.h"

#include <openssl/ocsp.h>

namespace cairn {

class Signer {
 public:
  explicit Signer(KeyStore& store) : store_(store) {}

  std::string create_key(KeyAlgorithm alg);
  // A copy of the public half (SubjectPublicKeyInfo DER).
  std::string public_key_der(const std::string& key_id);

  void sign(const std::string& key_id, X509_CRL* crl);
  void sign(const std::string& key_id, X509_REQ* req);
  // Signs an OCSP basic response as `responder` (flags: OCSP_* sign flags).
  void sign(const std::string& key_id, OCSP_BASICRESP* response, X509* responder, unsigned long flags);
  // A detached signature over `data` (Ed25519, ECDSA or RSA PKCS#1 v1.5).
  std::string sign_bytes(const std::string& key_id, std::string_view data);
  // The DER AlgorithmIdentifier of sign_bytes() signatures with this key
  // (e.g. ecdsa-with-SHA256), as OpenSSL writes it into what it signs.
  std::string signature_algorithm(const std::string& key_id);

  static std::string key_id_for(const EVP_PKEY* key);

  // Other secrets the server must keep (a remote parent's token), sealed in
  // the same key store under an id derived from `name`; never in events.
  void store_secret(const std::string& name, const std::string& value);
  std::optional<std::string> secret(const std::string& name);

 private:
  std::shared_ptr<EVP_PKEY> key(const std::string& key_id);

  KeyStore& store_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<EVP_PKEY>> cache_;
  std::map<std::string, std::string> algorithms_;  // key id -> AlgorithmIdentifier DER
};

}  // namespace cairn
