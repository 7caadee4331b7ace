// OcspResponder — answers RFC 6960 OCSP requests for the CAs in the store.
//
// respond() always returns a DER OCSPResponse: malformedRequest for bytes
// that are not an OCSP request, unauthorized when a CertID does not name
// this CA (issuer name and key hash, any hash algorithm OpenSSL knows),
// otherwise a basic response (responder id by key hash) with good, revoked
// (time and reason) or unknown per certificate. It is signed by the CA key,
// or with `delegated` by the CA's delegated responder (id-kp-OCSPSigning,
// nocheck; its certificate is included): the responder issues one through
// CaManager when none is valid or the current one is past half its life, so
// answers never outlive it (nextUpdate is capped by its notAfter). If that
// issuance fails and no responder certificate is valid, the CA key signs.
// A request's nonce is echoed. Answers to nonce-less single requests are
// cached until half their validity has passed (by CertID, and by the exact
// request bytes so that a repeated request is not even decoded); any event
// of the CA drops its cached answers (before and after the command is
// saved), so a cached answer never says less than the stored history does.
// Thread-safety: all methods may be called concurrently.
// Ownership: borrows the CaManager (its store and clock) and the Signer.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "core/ca_manager.h"

namespace cairn {

struct OcspConfig {
  int64_t response_validity_ms = 4 * 3600 * 1000LL;  // nextUpdate - thisUpdate
  size_t max_cached = 100000;
  bool delegated = false;             // sign with a delegated responder certificate
  int responder_validity_hours = 168;  // of each delegated responder certificate
};

class OcspResponder {
 public:
  OcspResponder(CaManager& manager, Signer& signer, OcspConfig config = {});

  // Registers the cache invalidation listeners on the store.
  void attach();
  std::string respond(const std::string& ca, std::string_view request_der);
  // With `delegated`: issues every active CA's responder certificate that is
  // due, so requests rarely wait for one. Returns how many it issued;
  // failures are reported in `errors` (CA: message) and do not stop it.
  size_t refresh_responders(std::vector<std::string>* errors = nullptr);

  uint64_t cache_hits() const { return hits_; }

 private:
  struct Cached {
    uint64_t generation;
    int64_t refresh_after_ms;
    std::string der;
  };
  struct Signing;
  std::string sign_response(const std::string& ca, void* request, bool* cacheable, int64_t* refresh_after_ms);
  uint64_t generation(const std::string& ca);
  uint64_t generation_locked(const std::string& ca) const;  // mutex_ held
  // Stores under mutex_; a full cache is emptied first (max_cached).
  void keep(std::map<std::string, Cached>& cache, std::string key, Cached cached);
  static constexpr size_t kMaxCachedRequestBytes = 1024;  // longer requests are decoded
  void invalidate(const std::string& ca);
  // Who signs for `ca` (state read under its lock): the CA itself or its
  // delegated responder, issuing a new responder certificate when one is due.
  bool responder_due(const CertAuth& state) const;

  CaManager& manager_;
  AggregateStore<CertAuth>& store_;
  Signer& signer_;
  const Clock& clock_;
  OcspConfig config_;
  std::mutex mutex_;
  std::map<std::string, uint64_t> generations_;
  std::map<std::string, Cached> cache_;       // key: ca + '\0' + CertID DER
  std::map<std::string, Cached> by_request_;  // key: ca + '\0' + request DER (the same answers)
  std::atomic<uint64_t> hits_{0};
};

}  // namespace cairn
