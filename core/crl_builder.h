// Builds and signs an X.509 v2 CRL (RFC 5280 section 5): issuer, thisUpdate,
// nextUpdate, CRL number, AKI, and one entry per revoked certificate with
// its revocation date and reason code (omitted for "unspecified").
// Thread-safety: pure function; signing goes through the thread-safe Signer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/signer.h"

namespace cairn {

struct RevokedEntry {
  std::string serial;
  int64_t revoked_at_ms = 0;
  int reason = 0;  // RFC 5280 CRLReason
};

struct CrlTemplate {
  const X509* issuer = nullptr;
  uint64_t number = 0;
  int64_t this_update_ms = 0;
  int64_t next_update_ms = 0;
  std::vector<RevokedEntry> entries;
};

std::string build_crl(const CrlTemplate& t, Signer& signer, const std::string& signing_key_id);

}  // namespace cairn
