// AggregateStore with a snapshot in pieces (snapshot_pieces.h), on an
// aggregate of four shelves, one piece each: a snapshot writes the shelves
// that changed and names the others; the store keeps exactly the pieces the
// latest snapshot names; a failed piece write fails no command and makes the
// next snapshot write every piece; a record whose pieces are not all stored
// is not written; a lost piece makes loading replay.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <optional>
#include <set>
#include <sstream>

#include "eventstore/aggregate_store.h"
#include "eventstore/memory_kv_store.h"
#include "eventstore/snapshot_pieces.h"
#include "tests/eventstore/recording_piece_source.h"
#include "eventstore/clock.h"

namespace cairn::testing {
namespace {

struct Put {
  int shelf = 0;
  int64_t amount = 0;
};

class Shelves {
 public:
  static constexpr const char* kType = "shelves";
  static constexpr const char* kNotFoundCode = "shelves_not_found";
  using Command = Put;
  using Event = Put;
  struct Context {};
  static constexpr size_t kShelves = 4;

  void apply(const Put& e) {
    shelves[static_cast<size_t>(e.shelf)].push_back(e.amount);
    pieces[static_cast<size_t>(e.shelf)].reset();
  }
  std::vector<Put> process(const Put& c, const CommandMeta&, Context&) const { return {c}; }

  static std::string encode_event(const Put& e) { return std::to_string(e.shelf) + ":" + std::to_string(e.amount); }
  static Put decode_event(std::string_view b) {
    std::string s(b);
    return Put{std::stoi(s.substr(0, s.find(':'))), std::stoll(s.substr(s.find(':') + 1))};
  }
  static std::string command_summary(const Put& c) { return "put " + encode_event(c); }
  static std::string command_params_json(const Put&) { return "{}"; }

  static std::string shelf_text(const std::vector<int64_t>& shelf) {
    std::string out;
    for (auto v : shelf) out += std::to_string(v) + " ";
    return out;
  }
  static std::string encode_snapshot(const Shelves& s) {
    std::string out;
    for (const auto& shelf : s.shelves) out += shelf_text(shelf) + "|";
    return out;
  }
  static Shelves decode_snapshot(std::string_view) {
    throw Error(ErrorKind::Internal, "snapshot_outdated", "this aggregate stores pieces only");
  }
  // The record: per shelf, its piece's reference as text.
  static void encode_snapshot_pieces(Shelves& s, std::string& out, SnapshotPieceSink& sink) {
    for (size_t i = 0; i < kShelves; ++i) {
      auto& piece = s.pieces[i];
      if (piece)
        sink.keep(*piece);
      else
        piece = sink.add(shelf_text(s.shelves[i]));
      out += std::to_string(piece->written_by) + " " + std::to_string(piece->number) + " " +
             std::to_string(piece->length) + " " +
             std::string(reinterpret_cast<const char*>(piece->sha256.data()), piece->sha256.size()) + "\n";
    }
  }
  static Shelves decode_snapshot(std::string_view bytes, const SnapshotPieceSource& source) {
    Shelves s;
    std::istringstream in{std::string(bytes)};
    for (size_t i = 0; i < kShelves; ++i) {
      SnapshotPieceRef ref;
      in >> ref.written_by >> ref.number >> ref.length;
      in.get();
      in.read(reinterpret_cast<char*>(ref.sha256.data()), ref.sha256.size());
      in.get();
      source.read(ref, [&](std::string_view text) {
        std::istringstream values{std::string(text)};
        int64_t v = 0;
        while (values >> v) s.shelves[i].push_back(v);
      });
    }
    return s;
  }
  static void forget_snapshot_pieces(Shelves& s) {
    for (auto& p : s.pieces) p.reset();
  }

  std::array<std::vector<int64_t>, kShelves> shelves;
  std::array<std::optional<SnapshotPieceRef>, kShelves> pieces;
};

// A store that can fail the next writes holding snapshot pieces.
class PieceFaultKv final : public KeyValueStore {
 public:
  std::optional<std::string> get(std::string_view key) const override { return inner.get(key); }
  bool read(std::string_view key, const std::function<void(std::string_view)>& visit) const override {
    return inner.read(key, visit);
  }
  void scan(std::string_view prefix, const Visitor& visit, std::string_view start = {}) const override {
    inner.scan(prefix, visit, start);
  }
  void write(const WriteBatch& batch, Durability durability) override {
    for (const auto& op : batch.ops())
      if (fail_piece_writes > 0 && op.kind == WriteBatch::Op::Kind::Put && op.key.find("/p/") != std::string::npos) {
        --fail_piece_writes;
        throw Error(ErrorKind::Unavailable, "storage_error", "injected piece write failure");
      }
    inner.write(batch, durability);
  }
  void sync() override { inner.sync(); }

  MemoryKvStore inner;
  int fail_piece_writes = 0;
};

struct Fixture {
  PieceFaultKv kv;
  ManualClock clock{1'000};
  std::unique_ptr<AggregateStore<Shelves>> store = start();

  std::unique_ptr<AggregateStore<Shelves>> start() {
    auto s = std::make_unique<AggregateStore<Shelves>>(kv, clock);
    s->set_snapshot_interval(4);
    return s;
  }
  void put(int shelf, int n = 1) {
    for (int i = 0; i < n; ++i) {
      Shelves::Context ctx;
      store->process("s", Put{shelf, ++next}, CommandMeta{"t", clock.now_ms(), std::nullopt}, ctx);
    }
  }
  uint64_t snapshot_version() const {
    auto snap = store->log().snapshot("s");
    return snap ? snap->version : 0;
  }
  std::set<std::string> stored(const std::string& sub) const {
    std::set<std::string> out;
    kv.scan(store->log().prefix("s") + sub, [&](std::string_view key, std::string_view) {
      out.insert(std::string(key.substr(key.rfind('/') + 1)));
      return true;
    });
    return out;
  }
  // The names of the pieces the stored record names, read through them.
  std::set<std::string> named() const {
    RecordingPieceSource recording(kv, store->log().prefix("s"));
    auto snap = store->log().snapshot("s");
    if (snap) Shelves::decode_snapshot(snap->state, recording);
    return recording.names();
  }
  // How many of the pieces the stored record names the snapshot of
  // `version` wrote.
  size_t named_written_by(uint64_t version) const {
    char prefix[24];
    std::snprintf(prefix, sizeof prefix, "%020llu.", static_cast<unsigned long long>(version));
    size_t n = 0;
    for (const auto& name : named()) n += name.starts_with(prefix) ? 1 : 0;
    return n;
  }
  void erase_piece(const std::string& name, bool with_marker) {
    WriteBatch erase;
    erase.erase(store->log().prefix("s") + "p/" + name);
    if (with_marker) erase.erase(store->log().prefix("s") + "q/" + name);
    kv.write(erase, Durability::Sync);
  }
  // The pieces (and markers) stored are those the record names, and a
  // fresh store loads what a full replay gives.
  void expect_only_named_pieces_and_loads_as_replayed() {
    EXPECT_EQ(stored("p/"), named());
    EXPECT_EQ(stored("q/"), named());
    expect_loads_as_replayed();
  }
  // What a fresh store loads, against a full replay.
  void expect_loads_as_replayed() {
    auto fresh = start();
    std::string loaded = fresh->read("s", [](const Shelves& s, uint64_t) { return Shelves::encode_snapshot(s); });
    EXPECT_EQ(loaded, Shelves::encode_snapshot(store->replay("s")));
  }
  int64_t next = 0;
};

TEST(SnapshotPiecesStore, WritesTheChangedPiecesAndKeepsOnlyTheNamedOnes) {
  Fixture f;
  for (int s = 0; s < 4; ++s) f.put(s);  // version 4: the first snapshot, four pieces
  EXPECT_EQ(f.snapshot_version(), 4u);
  EXPECT_EQ(f.stored("p/").size(), 4u);
  f.put(2, 4);  // version 8: only shelf 2 changed
  EXPECT_EQ(f.snapshot_version(), 8u);
  auto named = f.named();
  ASSERT_EQ(named.size(), 4u);
  EXPECT_EQ(f.named_written_by(8), 1u);
  EXPECT_EQ(f.stored("p/"), named);  // shelf 2's piece of version 4 is gone
  EXPECT_EQ(f.stored("q/"), named);
  f.put(0, 2);
  f.put(3, 2);
  EXPECT_EQ(f.snapshot_version(), 12u);
  f.expect_only_named_pieces_and_loads_as_replayed();
}

TEST(SnapshotPiecesStore, AFailedPieceWriteFailsNoCommandAndTheNextSnapshotWritesEveryPiece) {
  Fixture f;
  for (int s = 0; s < 4; ++s) f.put(s);
  f.kv.fail_piece_writes = 1;
  f.put(1, 4);  // version 8's snapshot cannot store shelf 1's piece
  EXPECT_EQ(f.kv.fail_piece_writes, 0);
  EXPECT_EQ(f.store->read("s", [](const Shelves& s, uint64_t) { return s.shelves[1].size(); }), 5u);
  EXPECT_EQ(f.snapshot_version(), 4u);
  f.put(0, 1);  // version 9 takes the snapshot that failed; shelf 1 unchanged since
  EXPECT_EQ(f.snapshot_version(), 9u);
  EXPECT_EQ(f.named_written_by(9), 4u);  // shelf 1's piece too: not named as if stored
  f.expect_only_named_pieces_and_loads_as_replayed();
}

TEST(SnapshotPiecesStore, ARecordIsNotWrittenWithoutItsPieces) {
  Fixture f;
  for (int s = 0; s < 4; ++s) f.put(s);
  // Shelf 3's piece disappears (with its marker, as pieces go); the next
  // snapshot names it (shelf 3 did not change), so its record is not
  // written, and the one after writes all.
  f.erase_piece(*std::prev(f.stored("p/").end()), true);
  f.put(0, 4);
  EXPECT_EQ(f.snapshot_version(), 4u);
  f.put(0, 4);
  EXPECT_EQ(f.snapshot_version(), 12u);
  f.expect_only_named_pieces_and_loads_as_replayed();
}

TEST(SnapshotPiecesStore, ALostPieceMakesLoadingReplay) {
  Fixture f;
  for (int s = 0; s < 4; ++s) f.put(s, 2);
  ASSERT_EQ(f.snapshot_version(), 8u);
  f.erase_piece(*f.stored("p/").begin(), false);
  f.expect_loads_as_replayed();
}

}  // namespace
}  // namespace cairn::testing
