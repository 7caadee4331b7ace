// StatusStore — what the background work last did, per CA and target (a
// repository name, or "crl" for the CA's own CRL): last attempt, last
// success, last error, consecutive failures and the next attempt. Stored
// under `status/<ca>/<target>` (JSON) so it survives restarts; it is
// information for operators, never a source of truth.
// Thread-safety: all methods may be called concurrently.
// Ownership: borrows the KeyValueStore.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eventstore/kv_store.h"

namespace cairn {

struct TargetStatus {
  std::string ca;
  std::string target;
  int64_t last_attempt_ms = 0;
  int64_t last_success_ms = 0;
  std::string last_error;  // of the last attempt; "" if it succeeded
  int failures = 0;        // consecutive
  int64_t next_attempt_ms = 0;  // 0: nothing scheduled
};

class StatusStore {
 public:
  explicit StatusStore(KeyValueStore& kv) : kv_(kv) {}

  void record(const std::string& ca, const std::string& target, int64_t at_ms, const std::string& error,
              int64_t next_attempt_ms);
  std::vector<TargetStatus> of_ca(const std::string& ca) const;

 private:
  KeyValueStore& kv_;
};

}  // namespace cairn
