// The auditor's checks over a data directory's store (read-only):
//  - every CA's history is intact (verify_history: hash chains, contiguous
//    versions and sequences, commands match their events);
//  - replaying all events works, and every certificate a CA issued carries a
//    valid signature by the CA certificate that was installed at the time,
//    with the serial and issuing key id its event claims;
//  - an intermediate's certificate is certified by its (local) parent;
//  - the latest snapshot equals a replay up to its version;
//  - the current CRL is signed by the CA and lists exactly the revoked
//    certificates that had not expired at its thisUpdate;
//  - every stored checkpoint, and any the auditor supplies, verifies and
//    matches the history (nothing rewritten, nothing cut off).
// audit() stops at the first problem and names it.
// Thread-safety: reads only.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "core/cert_auth.h"
#include "objects/audit_checkpoint.h"

namespace cairn {

struct AuditOptions {
  std::string only_ca;                  // empty: every CA
  std::vector<Checkpoint> checkpoints;  // kept by the auditor
};

struct AuditReport {
  size_t cas = 0;
  uint64_t events = 0;
  uint64_t commands = 0;
  size_t certificates = 0;
  size_t crls = 0;
  size_t snapshots = 0;
  size_t outdated_snapshots = 0;  // of an earlier encoding: not loaded, replayed instead
  size_t checkpoints = 0;
  std::optional<std::string> problem;
};

AuditReport audit(const KeyValueStore& kv, const AuditOptions& options);

// Writes every command, event and head as one JSON object per line, CAs in
// name order, each command followed by its events, the head last
// (docs/audit.md describes the fields and how to re-verify the hashes).
void export_history(const KeyValueStore& kv, const std::string& only_ca, std::ostream& out);

// The CA as it was after `version` events (0: all). NotFound for unknown CAs.
CertAuth replay_ca(const KeyValueStore& kv, const std::string& ca, uint64_t version = 0);
// The number of events the CA had at `time_ms` (its version then).
uint64_t version_at(const KeyValueStore& kv, const std::string& ca, int64_t time_ms);

}  // namespace cairn
