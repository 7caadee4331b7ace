// Builds and signs an X.509 v2 CRL (RFC 5280 section 5): issuer, thisUpdate,
// nextUpdate, CRL number, AKI, and one entry per revoked certificate with
// its revocation date and reason code (omitted for "unspecified").
//
// Entries are DER-encoded one by one (encode_revoked_entry) so a caller can
// keep them and build the next CRL by appending one entry instead of
// re-encoding them all (CaObjectsStore does). OpenSSL builds and signs the
// small CRL without entries; the entries are spliced into its to-be-signed
// part, which is then signed again. Entries appear in the order given.
// Thread-safety: pure functions; signing goes through the thread-safe Signer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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

// One revokedCertificates element (DER SEQUENCE), appended to `out`.
void append_revoked_entry(std::string& out, const RevokedEntry& entry);
void append_revoked_entry(std::string& out, std::string_view serial_hex, int64_t revoked_at_ms, int reason);
std::string encode_revoked_entry(const RevokedEntry& entry);

// A CRL of `t` (whose `entries` are ignored) listing `encoded_entries`: the
// concatenation of encode_revoked_entry() results.
std::string build_crl_with_entries(const CrlTemplate& t, std::string_view encoded_entries, Signer& signer,
                                   const std::string& signing_key_id);

std::string build_crl(const CrlTemplate& t, Signer& signer, const std::string& signing_key_id);

}  // namespace cairn
