// RecordingPieceSource — reads snapshot pieces from a store (checked, as
// KvSnapshotPieceSource does) and records the names of those read, for tests
// that compare what a snapshot names with what is stored.
#pragma once

#include <set>
#include <string>

#include "eventstore/snapshot_pieces.h"

namespace cairn::testing {

class RecordingPieceSource final : public SnapshotPieceSource {
 public:
  RecordingPieceSource(const KeyValueStore& kv, std::string aggregate_prefix)
      : source_(kv, aggregate_prefix), prefix_(std::move(aggregate_prefix)) {}
  void read(const SnapshotPieceRef& piece, const std::function<void(std::string_view)>& visit) const override {
    const std::string key = snapshot_piece_key(prefix_, piece);
    names_.insert(key.substr(key.rfind('/') + 1));
    source_.read(piece, visit);
  }
  // "<version>.<number>" of each piece read.
  const std::set<std::string>& names() const { return names_; }

 private:
  KvSnapshotPieceSource source_;
  std::string prefix_;
  mutable std::set<std::string> names_;
};

}  // namespace cairn::testing
