// AggregateLog — key layout and record I/O for the aggregates of one type.
//
// Keys (all under "a/<type>/<id>/"):  "h" head, "e/<version:020>" events,
// "c/<seq:020>" commands, "s" the latest snapshot, "p/..." and "q/..." its
// pieces and their markers (snapshot_pieces.h); and "l/<type>/<id>" lists
// the aggregate.
// append() only adds records to a WriteBatch: the caller writes it, so a
// command, its events, its head and whatever listeners added land together.
// Thread-safety: stateless apart from the store reference; safe to share.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/kv_store.h"
#include "eventstore/records.h"

namespace cairn {

// Throws Error{InvalidInput, "invalid_name"} unless id is 1..64 characters of
// [a-z0-9._-], starting with a letter or digit.
void validate_aggregate_id(std::string_view id);

class AggregateLog {
 public:
  AggregateLog(KeyValueStore& kv, std::string type);

  const std::string& type() const { return type_; }
  KeyValueStore& kv() const { return kv_; }

  AggregateHead head(std::string_view id) const;
  bool exists(std::string_view id) const;
  std::vector<std::string> ids() const;

  // Visits events with version >= from_version in order; return false to stop.
  void for_each_event(std::string_view id, uint64_t from_version,
                      const std::function<bool(const EventRecord&)>& visit) const;
  // The same without copying: the views last only during the call.
  void for_each_event_view(std::string_view id, uint64_t from_version,
                           const std::function<bool(const EventRecordView&)>& visit) const;
  void for_each_command(std::string_view id, uint64_t from_seq,
                        const std::function<bool(const CommandRecord&)>& visit) const;
  std::optional<CommandRecord> command(std::string_view id, uint64_t seq) const;
  std::optional<EventRecord> event(std::string_view id, uint64_t version) const;
  std::optional<SnapshotRecord> snapshot(std::string_view id) const;
  // The stored snapshot record undecoded, lent to `visit` without a copy
  // (decode_snapshot_record_view reads it in place; a large CA's is over
  // 100 MB); false if there is none.
  bool read_snapshot(std::string_view id, const std::function<void(std::string_view record)>& visit) const;

  // Adds the records for one command (and its events, possibly none) to
  // `batch`, chaining hashes from `head`. Fills command.seq, event_versions
  // and hashes. Returns the new head; `events_out` receives the records.
  AggregateHead append(std::string_view id, const AggregateHead& head, CommandRecord command,
                       const std::vector<std::string>& payloads, WriteBatch& batch,
                       std::vector<EventRecord>* events_out = nullptr) const;

  std::string head_key(std::string_view id) const;
  std::string event_key(std::string_view id, uint64_t version) const;
  std::string command_key(std::string_view id, uint64_t seq) const;
  std::string snapshot_key(std::string_view id) const;
  // "a/<type>/<id>/": every key of the aggregate starts with it.
  std::string prefix(std::string_view id) const;

 private:
  KeyValueStore& kv_;
  std::string type_;
};

}  // namespace cairn
