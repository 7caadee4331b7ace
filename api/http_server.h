// HttpServer — cairn's HTTP(S) interface: the JSON API under /api/v1/, the
// public CRL, OCSP and CA certificate URLs, and /health (see docs/api.md).
// One instance is one listener, plain HTTP or HTTPS (tls_setup).
//
// bind() reserves the port (0 picks a free one) before the services exist,
// so the public URL can name the real port; run() serves until stop().
// Every error answer is {"error":{"code":..,"message":..}} with the status
// its ErrorKind maps to. Internal errors are logged and answered without
// detail.
// Event-driven (Boost.Asio): `threads` event loops, each on its own
// thread, serve the connections; an idle keep-alive connection costs no
// thread. Accepting has a thread of its own; a new connection goes to a
// loop not handling a request (the one with the fewest connections) and
// stays there. A connection alone on its loop has its requests handled on
// the loop's thread, start to end (a handler may wait for a durable
// commit), unless every other loop is doing so already (one loop is always
// left free for new connections); the requests of connections that share a
// loop, and those, are handled on a pool of `handler_threads` threads, so that one's long request (a large
// CRL) does not hold up the others. A handler spends most of its time
// waiting for its durable commit, so the pool is larger than the cores: it
// bounds how many of those requests can share one sync.
// HTTP/1.1 as PublicListener serves it (keep-alive, pipelined requests in
// order, HEAD, 100-continue; see http1_request.h). A malformed request or
// query is 400, a request line over 8 KiB 414, request line and headers
// over 8 KiB 431, a body over max_body_bytes 413 (the rest of it, up to 4x
// the limit, is read and dropped), Transfer-Encoding 411, another version
// 505; the connection is then closed. Deadlines: the request line and
// headers must arrive within request_timeout of the connection's start (or
// TLS handshake) or the previous answer; then each piece of the body and
// of the answer must move within it. The connections together hold at most
// max(64 MiB, 8 x max_body_bytes) of unanswered requests: one receiving a
// large body beyond that gets 503 server_busy. Connections beyond
// max_connections are closed when accepted. stop() closes the acceptor and
// the connections waiting for a request; a request already begun (its body
// arriving, or being handled) is still answered within shutdown_grace, with
// "Connection: close", and a connection still open after it is closed;
// run() returns after.
// Thread-safety: run() blocks its thread; stop() may be called from any
// thread, also before run().
// Ownership: borrows the services given to run(), which must outlive it.
#pragma once

#include <openssl/types.h>

#include <atomic>
#include <chrono>
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
  int threads = 64;          // 1-256
  int handler_threads = 64;  // 2-1024 (with one, a long request would hold up the others)
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds shutdown_grace{5000};  // 0-600 s
  size_t max_connections = 1024;
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
