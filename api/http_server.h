// HttpServer — cairn's HTTP(S) interface: the JSON API under /api/v1/, the
// public CRL, OCSP and CA certificate URLs, and /health (see docs/api.md).
// One instance is one listener, plain HTTP or HTTPS (tls_setup).
//
// bind() reserves the port (0 picks a free one) before the services exist,
// so the public URL can name the real port; run() serves until stop().
// Every error answer is {"error":{"code":..,"message":..}} with the status
// its ErrorKind maps to. Internal errors are logged and answered without
// detail. Bodies over max_body_bytes get 413.
// Thread-safety: run() blocks one thread; handlers run on a worker pool;
// stop() may be called from any thread.
// Ownership: borrows the services given to run(), which must outlive it.
#pragma once

#include <openssl/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace cairn {
class BackgroundTasks;
class CaManager;
class Metrics;
class CaObjectsStore;
class CheckpointService;
class OcspResponder;
}  // namespace cairn

namespace cairn::api {

class RateLimiter;
class TokenAuthenticator;
class TokenStore;

struct ApiServices {
  CaManager* manager = nullptr;
  CaObjectsStore* objects = nullptr;
  const TokenAuthenticator* auth = nullptr;
  TokenStore* tokens = nullptr;
  CheckpointService* checkpoints = nullptr;
  OcspResponder* ocsp = nullptr;
  RateLimiter* limiter = nullptr;     // issuance per identity; null: no limits
  int service_rate_per_hour = 0;      // default for service tokens; 0: none
  BackgroundTasks* tasks = nullptr;
  Metrics* metrics = nullptr;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  size_t max_body_bytes = 1 << 20;
  int threads = 8;
  // Set: serve HTTPS, this callback configures the SSL_CTX (certificate,
  // client certificates; see TlsCredentials). Unset: plain HTTP.
  std::function<bool(SSL_CTX&)> tls_setup;
  std::string repository_dir;  // served read-only at /repo/ if set
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  int bind();  // returns the bound port; throws Error on failure
  void run(const ApiServices& services);  // blocks until stop()
  void stop();
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::api
