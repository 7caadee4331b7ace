// PublicListener — a small HTTP/1.1 server for the public URLs only
// (PublicEndpoints: OCSP, CRLs, CA certificates, /health), for relying
// parties that fetch them at high rates. Plain HTTP, as RFC 5280 and RFC
// 6960 use for these URLs; the API stays on HttpServer.
//
// Built on Boost.Asio with one io_context per thread: each accepted
// connection belongs to one thread, which reads, answers and writes it
// without locks or thread switches. Keep-alive (HTTP/1.1 default; HTTP/1.0
// with "Connection: keep-alive"), pipelined requests answered in order,
// HEAD, "Expect: 100-continue", absolute-form targets, percent-encoded paths.
// Limits, each answered with a JSON error and the connection closed: request
// line and headers over max_header_bytes (431), a body over max_body_bytes
// (413), a body without Content-Length (Transfer-Encoding: 411), malformed
// requests (400), other HTTP versions (505). A request (and its answer)
// must complete within request_timeout of the previous one, or the
// connection is closed. Connections beyond max_connections are closed as
// soon as they are accepted; bind() takes max_connections as a share of the
// open-file limit (ConnectionShare, listening.h), lowered to what the limit
// leaves if it must. A connection answers at most 16
// pipelined requests before writing them, taking turns with the others of
// its thread. After an error answer the connection stops sending and drops
// what the client still sends for up to 1 s before closing (no reset that
// could destroy the answer). Accept failures (out of descriptors) are
// retried after 100 ms.
// An answer that needs storage (a CRL, an OCSP answer that is not cached)
// is computed on the connection's thread, which serves its other
// connections after it.
// Thread-safety: bind() then run() on one thread (run() blocks until
// stop()); stop() may be called from any thread, also before run().
// Ownership: borrows the PublicEndpoints given to run().
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace cairn::api {

class PublicEndpoints;

struct PublicListenerOptions {
  std::string host = "127.0.0.1";
  int port = 8081;  // 0: any free port
  int threads = 0;  // 0: one per core
  size_t max_header_bytes = 8 << 10;
  size_t max_body_bytes = 64 << 10;
  std::chrono::milliseconds request_timeout{10000};
  size_t max_connections = 4096;
};

class PublicListener {
 public:
  explicit PublicListener(PublicListenerOptions options);
  ~PublicListener();
  PublicListener(const PublicListener&) = delete;
  PublicListener& operator=(const PublicListener&) = delete;

  int bind();  // returns the bound port; throws Error (bind_failed)
  void run(const PublicEndpoints& endpoints);
  void stop();

 private:
  struct Impl;
  class Connection;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::api
