// Persisted records of the event store and their hash chains.
//
// EventRecord: one event of one aggregate, with its version (1, 2, ...), the
// time and the command sequence number that produced it, the opaque payload
// the aggregate encoded, and hash_n = SHA-256(hash_{n-1} || canonical(n)).
// CommandRecord: one processed command (the audit trail): who, when, what,
// its parameters without secrets, the event versions it produced and its
// outcome; chained the same way over commands.
// The canonical byte layouts are documented in docs/architecture.md; they must
// never change for an existing record version.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

inline constexpr size_t kHashSize = 32;

struct EventRecord {
  uint64_t version = 0;
  int64_t time_ms = 0;
  uint64_t command_seq = 0;
  std::string payload;
  std::string hash;  // 32 raw bytes
};

// An EventRecord read in place: the views point into the stored bytes.
struct EventRecordView {
  uint64_t version = 0;
  int64_t time_ms = 0;
  uint64_t command_seq = 0;
  std::string_view payload;
  std::string_view hash;
};

struct CommandRecord {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  std::string actor;
  std::string summary;
  std::string params_json;
  std::vector<uint64_t> event_versions;
  bool ok = true;
  std::string error_code;
  std::string error_message;
  std::string hash;  // 32 raw bytes
};

// The tip of one aggregate's history.
struct AggregateHead {
  uint64_t version = 0;
  uint64_t command_seq = 0;
  std::string event_hash = std::string(kHashSize, '\0');
  std::string command_hash = std::string(kHashSize, '\0');
};

// The encoded state of an aggregate after `version` events; an
// optimisation for start-up, never the truth (audit verify replays and
// compares).
struct SnapshotRecord {
  uint64_t version = 0;
  std::string event_hash;  // hash of event `version`
  std::string state;       // A::encode_snapshot()
};

// A SnapshotRecord read in place.
struct SnapshotRecordView {
  uint64_t version = 0;
  std::string_view event_hash;
  std::string_view state;
};

std::string encode_record(const EventRecord& r);
std::string encode_record(const SnapshotRecord& r);
// The same bytes as encode_record(SnapshotRecord{version, event_hash, state})
// where `write_state` appends the state to the string it is given: the
// state is written once, in place (a large CA's is over 100 MB).
std::string encode_snapshot_record(uint64_t version, std::string_view event_hash,
                                   const std::function<void(std::string&)>& write_state);
SnapshotRecord decode_snapshot_record(std::string_view bytes);
SnapshotRecordView decode_snapshot_record_view(std::string_view bytes);  // throws corrupt_record
std::string encode_record(const CommandRecord& r);
std::string encode_record(const AggregateHead& r);
EventRecord decode_event_record(std::string_view bytes);
// The same record without copies; `bytes` must outlive the view. Throws
// corrupt_record like decode_event_record.
EventRecordView decode_event_record_view(std::string_view bytes);
CommandRecord decode_command_record(std::string_view bytes);
AggregateHead decode_head(std::string_view bytes);

std::string sha256(std::string_view data);
std::string chain_hash(std::string_view previous, const EventRecord& r);
std::string chain_hash(std::string_view previous, const CommandRecord& r);
std::string to_hex(std::string_view bytes);

}  // namespace cairn
