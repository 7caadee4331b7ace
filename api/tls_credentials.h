// TlsCredentials — the HTTPS listener's certificate, chain and private key,
// replaceable while the server runs (renewal), and the SSL_CTX set-up that
// uses them: TLS 1.2 or newer, the current certificate chosen at every
// handshake, and client certificates requested but not required. Client
// certificates are not judged here: any certificate the client proves it
// holds the key of is accepted by the handshake, and the API then accepts
// only one that cairn itself issued, byte for byte, still valid and not
// revoked (see client_certificate_identity.h).
// Thread-safety: set() and the handshake callback may run concurrently.
// Ownership: owns copies of the certificates and key; the private key lives
// only in memory.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cairn::api {

class TlsCredentials {
 public:
  TlsCredentials() = default;
  TlsCredentials(const TlsCredentials&) = delete;
  TlsCredentials& operator=(const TlsCredentials&) = delete;

  // `chain_pem`: the leaf first, then its CAs; `key_pem`: its private key.
  // Throws InvalidInput if they do not parse or do not belong together.
  void set(const std::string& chain_pem, const std::string& key_pem);
  bool ready() const;
  // For HttpServerOptions::tls_setup.
  bool setup(SSL_CTX& ctx);

 private:
  struct Current;
  static int select_certificate(SSL* ssl, void* self);
  std::shared_ptr<const Current> current() const;

  mutable std::mutex mutex_;
  std::shared_ptr<const Current> current_;
};

}  // namespace cairn::api
