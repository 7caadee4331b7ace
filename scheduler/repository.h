// Repository — a place a CA's objects are published to, for relying
// parties: its certificate, chain and CRL, and optionally the certificates
// it issued. Paths mirror the URLs cairn puts in certificates, so a web
// server (or cairn's own /repo/) serving the directory answers them:
//   ca/<ca>.cer        the CA certificate (DER; the AIA caIssuers URL)
//   crl/<ca>.crl       the current CRL (DER; the CRL distribution point)
//   chain/<ca>.pem     the CA certificate and its issuers (PEM)
//   certs/<ca>/<serial>.cer   valid issued certificates (publish_issued)
// publish() makes the repository hold exactly the given set for that CA:
// files are written only when their bytes change, and files in the CA's
// own folders (certs/<ca>/, ca/<ca>/, crl/<ca>/) no longer in the set are
// removed. It throws Error{Unavailable,
// "repository_unavailable"} when the repository cannot be written.
// Thread-safety: publish() may be called concurrently for different CAs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "eventstore/kv_store.h"

namespace cairn {

struct PublishedObject {
  std::string path;   // relative, as above
  std::string bytes;
};

struct RepositoryConfig {
  std::string name;                // 1-64 of a-z 0-9 . _ -
  std::string type = "directory";  // "directory" or "http"
  std::string path;                // directory; must exist (a mount that is missing is an outage)
  std::string url;                 // http: base URL; objects are PUT to <url>/<path>
  std::string token;               // http: sent as "Authorization: Bearer <token>"; never logged
  bool publish_issued = false;
  std::vector<std::string> cas;    // empty: every CA
};

class Repository {
 public:
  virtual ~Repository() = default;
  virtual const RepositoryConfig& config() const = 0;
  virtual void publish(const std::string& ca, const std::vector<PublishedObject>& objects) = 0;
  bool serves(const std::string& ca) const;
};

// Writes each file atomically: a temporary file in the same directory,
// fsync, rename over the old one, fsync of the directory.
class DirectoryRepository final : public Repository {
 public:
  explicit DirectoryRepository(RepositoryConfig config);
  const RepositoryConfig& config() const override { return config_; }
  void publish(const std::string& ca, const std::vector<PublishedObject>& objects) override;

 private:
  RepositoryConfig config_;
};

// A remote HTTP endpoint: each object is PUT to <url>/<path> (body: its
// bytes) and objects published earlier for the CA but no longer current are
// DELETEd (the set last published is kept under `pub/<repo>/<ca>`). Any
// answer but 2xx (404 for a DELETE) is an outage.
class HttpRepository final : public Repository {
 public:
  HttpRepository(RepositoryConfig config, KeyValueStore& kv);
  const RepositoryConfig& config() const override { return config_; }
  void publish(const std::string& ca, const std::vector<PublishedObject>& objects) override;

 private:
  RepositoryConfig config_;
  KeyValueStore& kv_;
};

// InvalidInput "invalid_repository" on a bad config. `kv` keeps what an
// http repository last published.
std::unique_ptr<Repository> make_repository(const RepositoryConfig& config, KeyValueStore* kv = nullptr);

}  // namespace cairn
