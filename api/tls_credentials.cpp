#include "api/tls_credentials.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "core/encoding.h"

namespace cairn::api {

struct TlsCredentials::Current {
  std::vector<X509Ptr> chain;  // leaf first
  EvpPkeyPtr key;
};

namespace {

// Accepts every client certificate at the TLS layer; the API decides.
int accept_any_client_certificate(int, X509_STORE_CTX*) { return 1; }

}  // namespace

void TlsCredentials::set(const std::string& chain_pem, const std::string& key_pem) {
  auto next = std::make_shared<Current>();
  next->chain = parse_certificate_chain(chain_pem);
  BioPtr bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  next->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (next->chain.empty() || !next->key || X509_check_private_key(next->chain[0].get(), next->key.get()) != 1) {
    ERR_clear_error();
    throw Error(ErrorKind::InvalidInput, "invalid_tls_credentials",
                "the TLS certificate and private key do not parse or do not match");
  }
  std::lock_guard lock(mutex_);
  current_ = std::move(next);
}

bool TlsCredentials::ready() const { return current() != nullptr; }

std::shared_ptr<const TlsCredentials::Current> TlsCredentials::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

bool TlsCredentials::setup(SSL_CTX& ctx) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  SSL_CTX_set_cert_cb(&ctx, &TlsCredentials::select_certificate, this);
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, accept_any_client_certificate);
  // With client certificates asked for, OpenSSL refuses to resume a
  // session (a handshake failure, not a full handshake) unless the context
  // is named.
  static constexpr unsigned char kSessionContext[] = "cairn-api";
  return SSL_CTX_set_session_id_context(&ctx, kSessionContext, sizeof kSessionContext - 1) == 1;
}

int TlsCredentials::select_certificate(SSL* ssl, void* self) {
  auto creds = static_cast<TlsCredentials*>(self)->current();
  if (!creds) return 0;  // no certificate yet: the handshake fails
  if (SSL_use_certificate(ssl, creds->chain[0].get()) != 1 || SSL_use_PrivateKey(ssl, creds->key.get()) != 1)
    return 0;
  SSL_clear_chain_certs(ssl);
  for (size_t i = 1; i < creds->chain.size(); ++i)
    if (SSL_add1_chain_cert(ssl, creds->chain[i].get()) != 1) return 0;
  return 1;
}

}  // namespace cairn::api
