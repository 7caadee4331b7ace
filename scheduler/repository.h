// Repository — a place a CA's objects are published to, for relying
// parties: its certificate, chain and CRL, and optionally the certificates
// it issued. Paths mirror the URLs cairn puts in certificates, so a web
// server (or cairn's own /repo/) serving the directory answers them:
//   ca/<ca>.cer        the CA certificate (DER; the AIA caIssuers URL)
//   crl/<ca>.crl       the current CRL (DER; the CRL distribution point)
//   chain/<ca>.pem     the CA certificate and its issuers (PEM)
//   certs/<ca>/<serial>.cer   valid issued certificates (publish_issued)
// publish() makes the repository hold exactly the given set for that CA:
// files are written only when their bytes change, and issued certificates
// no longer in the set are removed. It throws Error{Unavailable,
// "repository_unavailable"} when the repository cannot be written.
// Thread-safety: publish() may be called concurrently for different CAs.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace cairn {

struct PublishedObject {
  std::string path;   // relative, as above
  std::string bytes;
};

struct RepositoryConfig {
  std::string name;                // 1-64 of a-z 0-9 . _ -
  std::string type = "directory";  // the only type so far
  std::string path;                // directory; must exist (a mount that is missing is an outage)
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

std::unique_ptr<Repository> make_repository(const RepositoryConfig& config);  // InvalidInput on a bad config

}  // namespace cairn
