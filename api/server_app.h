// ServerApp — one running cairn server: opens the data directory (RocksDB
// in <data_dir>/db, CA keys encrypted in <data_dir>/keys, the admin token in
// <data_dir>/admin.token), wires CaManager, CaObjectsStore and the HTTP
// server, and optionally creates a ready root + issuing CA hierarchy.
// With tls_host set it also serves the API over HTTPS, with public_host the
// public URLs on a port of their own (see ServeOptions).
// Used by `cairn serve` and by in-process API tests.
// Thread-safety: start() then run() on one thread; stop() from any thread.
// Ownership: owns every component it opens.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/profile.h"
#include "scheduler/repository.h"
#include "scheduler/scheduler.h"

namespace cairn {
class CaManager;
}

namespace cairn::api {

struct ServeOptions {
  std::string data_dir = "./cairn-data";
  std::string passphrase;       // opens the encrypted key store; required
  std::string host = "127.0.0.1";
  int port = 8080;              // 0: any free port
  std::string public_url;       // empty: http://host:port, or the public listener's
  // Public listener (off while public_host is empty): OCSP, CRLs, CA
  // certificates and /health on their own plain-HTTP port, served by
  // PublicListener (event-driven, for high request rates). The API
  // listener serves these URLs too.
  std::string public_host;
  int public_port = 8081;   // 0: any free port
  int public_threads = 0;   // 0: one per core
  std::chrono::milliseconds public_request_timeout{10000};  // see PublicListenerOptions
  std::chrono::milliseconds request_timeout{10000};  // the API listeners'; see HttpServerOptions
  std::chrono::milliseconds shutdown_grace{5000};    // the API listeners'; see HttpServerOptions
  int crl_validity_hours = 168;
  std::string ocsp_signing = "ca";         // "ca" or "delegated"
  int ocsp_responder_validity_hours = 168;  // delegated responder certificates
  int ocsp_response_validity_minutes = 240; // nextUpdate - thisUpdate of OCSP answers
  int snapshot_interval = 500;  // events between CA snapshots; 0: none
  int checkpoint_interval_minutes = 60;  // signed audit checkpoints; 0: only on demand
  int threads = 64;
  int handler_threads = 64;  // see HttpServerOptions
  size_t max_body_bytes = 1 << 20;
  std::vector<Profile> profiles;  // configured profiles, besides the built-ins
  int service_rate_per_hour = 1000;  // certificates/hour for service tokens without their own limit; 0: none
  // HTTPS listener (off while tls_host is empty): the API with client
  // certificate (mTLS) identities; its certificate comes from tls_ca.
  std::string tls_host;
  int tls_port = 8443;                 // 0: any free port
  std::string tls_ca;                  // empty: issuing_handle
  std::vector<std::string> tls_names;  // empty: tls_host
  int tls_validity_days = 30;
  std::vector<RepositoryConfig> repositories;  // where CAs publish (scheduler/repository.h)
  std::string serve_repository;  // name of a directory repository to serve at /repo/; empty: none
  SchedulerConfig scheduler;
  double crl_reissue_remaining = 0.5;  // re-sign a CRL when less than this part of its validity is left
  bool init_hierarchy = false;
  std::string root_handle = "root";
  std::string root_subject = "CN=cairn Root CA";
  std::string issuing_handle = "issuing";
  std::string issuing_subject = "CN=cairn Issuing CA";
  std::string hierarchy_key = "ec-p256";
};

class ServerApp {
 public:
  explicit ServerApp(ServeOptions options);
  ~ServerApp();

  // Opens storage, binds the port, bootstraps. Returns the bound port.
  int start();
  void run();   // serves until stop()
  void stop();

  // The admin token if start() created it (to print once), else empty.
  const std::string& new_admin_token() const;
  const std::string& public_url() const;
  int tls_port() const;  // the bound HTTPS port, 0 without HTTPS
  int public_port() const;  // the bound public listener port, 0 without it
  CaManager& manager();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::api
