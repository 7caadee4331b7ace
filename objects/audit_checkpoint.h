// Signed checkpoints of the history: the head (version + event hash, command
// sequence + command hash) of every aggregate at one moment, signed with the
// audit key — an Ed25519 key that is not a CA key, created on first use and
// kept in the key store like CA keys (its id and public key under
// "audit/key"). An auditor who keeps a checkpoint can later prove that
// nothing up to those heads was rewritten and that no history was cut off
// behind them (docs/audit.md gives the exact format).
// Checkpoints are also stored under "ckpt/<created_ms:020>".
// Thread-safety: CheckpointService methods may be called concurrently.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/signer.h"
#include "eventstore/aggregate_log.h"
#include "eventstore/clock.h"

namespace cairn {

struct CheckpointHead {
  std::string aggregate;  // "<type>/<id>"
  uint64_t version = 0;
  std::string event_hash;  // hex
  uint64_t command_seq = 0;
  std::string command_hash;  // hex
};

struct Checkpoint {
  int64_t created_ms = 0;
  std::vector<CheckpointHead> heads;
  std::string key_id;
  std::string public_key_der;
  std::string signature;

  std::string signed_bytes() const;  // canonical JSON without the signature
  std::string to_json() const;       // pretty JSON with the signature (base64)
  static Checkpoint from_json(const std::string& text);  // InvalidInput "invalid_checkpoint"
  bool signature_valid() const;
};

// Compares a checkpoint with stored history; returns the first problem.
std::optional<std::string> check_checkpoint(const Checkpoint& cp, const std::vector<const AggregateLog*>& logs);

class CheckpointService {
 public:
  CheckpointService(KeyValueStore& kv, Signer& signer, const Clock& clock) : kv_(kv), signer_(signer), clock_(clock) {}
  Checkpoint create(const std::vector<const AggregateLog*>& logs);
  std::optional<Checkpoint> latest() const;

 private:
  std::pair<std::string, std::string> audit_key();  // key id, public key DER
  KeyValueStore& kv_;
  Signer& signer_;
  const Clock& clock_;
  std::mutex mutex_;
};

std::vector<Checkpoint> stored_checkpoints(const KeyValueStore& kv);
// The audit public key recorded in the store, if a checkpoint was ever made.
std::optional<std::string> stored_audit_public_key(const KeyValueStore& kv);

}  // namespace cairn
