// OcspResponder — answers RFC 6960 OCSP requests for the CAs in the store.
//
// respond() always returns a DER OCSPResponse: malformedRequest for bytes
// that are not an OCSP request, unauthorized when a CertID does not name
// this CA (issuer name and key hash, any hash algorithm OpenSSL knows),
// otherwise a basic response signed by the CA key (responder id by key
// hash) with good, revoked (time and reason) or unknown per certificate.
// A request's nonce is echoed. Answers to nonce-less single requests are
// cached until half their validity has passed; any event of the CA drops its
// cached answers (before and after the command is saved), so a cached answer
// never says less than the stored history does.
// Thread-safety: all methods may be called concurrently.
// Ownership: borrows the store, Signer and Clock.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "core/cert_auth.h"

namespace cairn {

struct OcspConfig {
  int64_t response_validity_ms = 4 * 3600 * 1000LL;  // nextUpdate - thisUpdate
  size_t max_cached = 100000;
};

class OcspResponder {
 public:
  OcspResponder(AggregateStore<CertAuth>& store, Signer& signer, const Clock& clock, OcspConfig config = {});

  // Registers the cache invalidation listeners on the store.
  void attach();
  std::string respond(const std::string& ca, std::string_view request_der);

  uint64_t cache_hits() const { return hits_; }

 private:
  struct Cached {
    uint64_t generation;
    int64_t refresh_after_ms;
    std::string der;
  };
  std::string sign_response(const std::string& ca, void* request, bool* cacheable);
  uint64_t generation(const std::string& ca);
  void invalidate(const std::string& ca);

  AggregateStore<CertAuth>& store_;
  Signer& signer_;
  const Clock& clock_;
  OcspConfig config_;
  std::mutex mutex_;
  std::map<std::string, uint64_t> generations_;
  std::map<std::string, Cached> cache_;  // key: ca + '\0' + CertID DER
  std::atomic<uint64_t> hits_{0};
};

}  // namespace cairn
