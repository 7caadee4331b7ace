// Snapshot pieces — a large snapshot stored in parts under keys of their
// own, so that a snapshot writes only the parts that changed since the one
// before and names the others.
//
// A piece is written once, under "<aggregate prefix>p/<version>.<number>"
// (the version of the snapshot that wrote it, its number within that
// snapshot) and never changed; a marker "<aggregate prefix>q/<same>" with
// an empty value is written and erased with it, so that the pieces can be
// listed without reading them. A reference carries the piece's length and
// SHA-256, which the reader checks: a reference to a missing or different
// piece fails the snapshot, never loads something else.
//
// SnapshotPieceSink takes the pieces of one snapshot being encoded;
// SnapshotPieceWriter is the one AggregateStore uses: it gathers the new
// pieces into a batch (written unlogged, in the command's turn, before the
// snapshot record names them) and the keys of every piece the snapshot
// names, so that writing the record can erase the pieces no snapshot needs
// any more (garbage_of). SnapshotPieceSource reads pieces back.
// Thread-safety: a writer belongs to one encoding; KvSnapshotPieceSource
// may be used from several threads. Ownership: the source borrows the store.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/kv_store.h"

namespace cairn {

struct SnapshotPieceRef {
  uint64_t written_by = 0;  // version of the snapshot that wrote the piece
  uint32_t number = 0;      // its number among that snapshot's pieces
  uint64_t length = 0;
  std::array<unsigned char, 32> sha256{};
  bool operator==(const SnapshotPieceRef&) const = default;
};

class SnapshotPieceSink {
 public:
  virtual ~SnapshotPieceSink() = default;
  // A new piece of this snapshot.
  virtual SnapshotPieceRef add(std::string bytes) = 0;
  // A piece an earlier snapshot wrote, named again by this one.
  virtual void keep(const SnapshotPieceRef& piece) = 0;
};

class SnapshotPieceSource {
 public:
  virtual ~SnapshotPieceSource() = default;
  // Lends the piece's bytes to `visit`. Throws Error "snapshot_incomplete"
  // when the piece is missing or its length or digest differ from `piece`.
  virtual void read(const SnapshotPieceRef& piece, const std::function<void(std::string_view)>& visit) const = 0;
};

// The key of a piece; `aggregate_prefix` is AggregateLog::prefix(id).
std::string snapshot_piece_key(std::string_view aggregate_prefix, const SnapshotPieceRef& piece);

class SnapshotPieceWriter final : public SnapshotPieceSink {
 public:
  SnapshotPieceWriter(std::string aggregate_prefix, uint64_t version);
  SnapshotPieceRef add(std::string bytes) override;
  void keep(const SnapshotPieceRef& piece) override;

  // The new pieces and their markers, to be written before the record.
  const WriteBatch& new_pieces() const { return batch_; }
  // Keys of every piece the snapshot names, new or kept.
  const std::set<std::string>& named() const { return named_; }
  uint64_t version() const { return version_; }

 private:
  std::string prefix_;
  uint64_t version_;
  uint32_t next_ = 0;
  WriteBatch batch_;
  std::set<std::string> named_;
};

// Adds to `batch` the erasure of every piece (and marker) of the aggregate
// that the snapshot of `version` does not name and that was written by it
// or an earlier one (a later snapshot's pieces may be waiting for its
// record). Returns how many of the pieces in `named` are stored. Reads the
// markers only, not the pieces.
size_t erase_unnamed_pieces(const KeyValueStore& kv, std::string_view aggregate_prefix, uint64_t version,
                          const std::set<std::string>& named, WriteBatch& batch);

class KvSnapshotPieceSource final : public SnapshotPieceSource {
 public:
  KvSnapshotPieceSource(const KeyValueStore& kv, std::string aggregate_prefix);
  void read(const SnapshotPieceRef& piece, const std::function<void(std::string_view)>& visit) const override;

 private:
  const KeyValueStore& kv_;
  std::string prefix_;
};

}  // namespace cairn
