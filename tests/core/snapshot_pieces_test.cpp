// Snapshots in pieces: the certificate index writes only the chunks that
// changed since the last snapshot (CertificateIndex::encode_pieced), reads
// back exactly what encode() holds, refuses a piece that is missing or not
// the one named; the store keeps only the pieces its latest snapshot names,
// and a lost piece costs a replay, never the state. (The store's handling
// of failed piece writes: tests/eventstore/snapshot_pieces_store_test.cpp.)
#include <gtest/gtest.h>

#include <set>

#include "core/ca_manager.h"
#include "core/cert_auth.h"
#include "core/certificate_index.h"
#include "core/serial_number.h"
#include "eventstore/memory_kv_store.h"
#include "eventstore/snapshot_pieces.h"
#include "tests/eventstore/recording_piece_source.h"
#include "tests/core/pki_fixtures.h"

namespace cairn::testing {
namespace {

const std::string kPrefix = "a/ca/test/";

IssuedFields fields(const std::string& serial, const std::string& subject, const std::string& replaces = "") {
  IssuedFields f;
  f.serial = serial;
  f.subject = subject;
  f.replaces = replaces;
  f.profile = "server";
  f.requested_by = "alice";
  f.issuer_key_id = "k0";
  f.not_before_ms = 1'000;
  f.not_after_ms = 2'000;
  f.issued_at_ms = 1'500;
  return f;
}

// Fills an index and keeps the strings its fields view alive.
struct IndexFixture {
  CertificateIndex index;
  std::vector<std::string> serials;

  void add(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      serials.push_back(random_serial());
      const std::string subject = "CN=" + serials.back().substr(0, 12) + ".pieces.example";
      index.add(fields(serials.back(), subject), serials.size());
    }
  }
};

// One snapshot's encoding: the pieces it added are stored, as the store does.
struct Encoded {
  std::string bytes;
  size_t added = 0;
  std::set<std::string> named;
};

Encoded encode_and_store(CertificateIndex& index, KeyValueStore& kv, uint64_t version) {
  SnapshotPieceWriter writer(kPrefix, version);
  Encoded e;
  index.encode_pieced(e.bytes, writer);
  e.added = writer.new_pieces().size() / 2;  // each piece comes with its marker
  e.named = writer.named();
  if (!writer.new_pieces().empty()) kv.write(writer.new_pieces(), Durability::Sync);
  return e;
}

std::string decoded_whole(const Encoded& e, const KeyValueStore& kv) {
  return CertificateIndex::decode_pieced(e.bytes, KvSnapshotPieceSource(kv, kPrefix)).encode();
}

TEST(SnapshotPieces, OnlyTheChunksThatChangedAreWrittenAgain) {
  MemoryKvStore kv;
  IndexFixture f;
  f.add(70'000);  // entries: chunks of 32,768, 32,768 and 4,464; subject text (2.1 MB): 3 chunks
  Encoded first = encode_and_store(f.index, kv, 10);
  EXPECT_EQ(first.added, 6u);
  EXPECT_EQ(first.named.size(), 6u);
  EXPECT_EQ(decoded_whole(first, kv), f.index.encode());

  Encoded unchanged = encode_and_store(f.index, kv, 20);
  EXPECT_EQ(unchanged.added, 0u);
  EXPECT_EQ(unchanged.named, first.named);
  EXPECT_EQ(decoded_whole(unchanged, kv), f.index.encode());

  f.add(1);  // the last entry chunk and the last chunk of subject text
  Encoded grown = encode_and_store(f.index, kv, 30);
  EXPECT_EQ(grown.added, 2u);
  EXPECT_EQ(decoded_whole(grown, kv), f.index.encode());

  f.index.revoke(5, 1'700, 1);  // an entry of the first chunk
  Encoded revoked = encode_and_store(f.index, kv, 40);
  EXPECT_EQ(revoked.added, 1u);
  EXPECT_EQ(decoded_whole(revoked, kv), f.index.encode());

  // A renewal links the old entry (second chunk) to the new one (last chunk).
  const std::string renewed = random_serial();
  f.index.add(fields(renewed, "CN=renewed.example", f.serials[40'000]), 99'999);
  Encoded renewal = encode_and_store(f.index, kv, 50);
  EXPECT_EQ(renewal.added, 3u);
  EXPECT_EQ(decoded_whole(renewal, kv), f.index.encode());

  // Read back, the index names the pieces it was read from, until a chunk
  // changes.
  CertificateIndex decoded = CertificateIndex::decode_pieced(renewal.bytes, KvSnapshotPieceSource(kv, kPrefix));
  Encoded reread = encode_and_store(decoded, kv, 55);
  EXPECT_EQ(reread.added, 0u);
  EXPECT_EQ(reread.named, renewal.named);
  decoded.revoke(static_cast<CertificateIndex::Position>(decoded.size() - 1), 1'800, 4);
  EXPECT_EQ(encode_and_store(decoded, kv, 56).added, 1u);
  // Nothing remembered: after forget_pieces(), in a copy, read from encode().
  f.index.forget_pieces();
  EXPECT_EQ(encode_and_store(f.index, kv, 60).added, 6u);
  CertificateIndex copy = f.index;
  EXPECT_EQ(encode_and_store(copy, kv, 70).added, 6u);
  CertificateIndex whole = CertificateIndex::decode(f.index.encode());
  EXPECT_EQ(encode_and_store(whole, kv, 80).added, 6u);
}

TEST(SnapshotPieces, ReadsTheWholeEncodingToo) {
  IndexFixture f;
  f.add(100);
  f.index.revoke(3, 1'700, 1);
  MemoryKvStore empty;
  const std::string whole = f.index.encode();
  EXPECT_EQ(CertificateIndex::decode_pieced(whole, KvSnapshotPieceSource(empty, kPrefix)).encode(), whole);
}

TEST(SnapshotPieces, AMissingOrChangedPieceIsRefused) {
  MemoryKvStore kv;
  IndexFixture f;
  f.add(34'000);  // two entry pieces, one subject piece (1.02 MB)
  Encoded e = encode_and_store(f.index, kv, 7);
  ASSERT_EQ(e.named.size(), 3u);
  std::vector<std::string> keys(e.named.begin(), e.named.end());
  const std::string first = *kv.get(keys[0]);
  const std::string second = *kv.get(keys[1]);

  auto put = [&](const std::string& key, const std::string& value) {
    WriteBatch b;
    b.put(key, value);
    kv.write(b, Durability::Sync);
  };
  std::string flipped = first;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x20);
  put(keys[0], flipped);
  EXPECT_EQ(error_code_of([&] { decoded_whole(e, kv); }), "snapshot_incomplete");
  put(keys[0], second);  // another piece of this very snapshot
  EXPECT_EQ(error_code_of([&] { decoded_whole(e, kv); }), "snapshot_incomplete");
  WriteBatch erase;
  erase.erase(keys[0]);
  kv.write(erase, Durability::Sync);
  EXPECT_EQ(error_code_of([&] { decoded_whole(e, kv); }), "snapshot_incomplete");
  put(keys[0], first);
  EXPECT_EQ(decoded_whole(e, kv), f.index.encode());

  // A piece named twice (the second entry piece's number made the first's):
  // refused before anything is read.
  std::string twice = e.bytes;
  const std::string second_ref = std::string("\x07\0\0\0\0\0\0\0\x02\0\0\0", 12);
  const size_t at = twice.find(second_ref);
  ASSERT_NE(at, std::string::npos);
  twice[at + 8] = '\x01';
  EXPECT_EQ(error_code_of([&] { CertificateIndex::decode_pieced(twice, KvSnapshotPieceSource(kv, kPrefix)); }),
            "corrupt_record");

  // The encoding itself, cut short anywhere: refused, never a crash.
  for (size_t n = 0; n < e.bytes.size(); n += 7)
    EXPECT_EQ(error_code_of([&] {
                CertificateIndex::decode_pieced(std::string_view(e.bytes).substr(0, n), KvSnapshotPieceSource(kv, kPrefix));
              }),
              "corrupt_record")
        << "cut at " << n;
}

// ---- through the store ------------------------------------------------------

struct StoreFixture {
  MemoryKvStore kv;
  MemoryKeyStore keys;
  Signer signer{keys};
  ManualClock clock{1'790'000'000'000};
  std::unique_ptr<CaManager> manager = start();

  void make_hierarchy() {
    manager->create_ca("test", CreateCaRequest{"root", "CN=Pieces Root", "ec-p256", "", 3650});
    manager->create_ca("test", CreateCaRequest{"issuing", "CN=Pieces Issuing", "ec-p256", "root", 1825});
  }
  // Stores another state in the snapshot record, as an older release or a
  // damaged disk might have left it.
  void replace_snapshot_state(std::string state) {
    const auto& log = manager->store().log();
    auto snap = *log.snapshot("issuing");
    snap.state = std::move(state);
    WriteBatch b;
    b.put(log.snapshot_key("issuing"), encode_record(snap));
    kv.write(b, Durability::Sync);
  }
  std::unique_ptr<CaManager> start() {
    return std::make_unique<CaManager>(kv, signer, clock, CaManagerConfig{"http://pki.test", 5, nullptr});
  }
  void issue(int n) {
    for (int i = 0; i < n; ++i) {
      IssueRequest r;
      r.csr = make_csr_pem("p" + std::to_string(i), "DNS:p.example");
      manager->issue("test", "issuing", r);
    }
  }
  std::set<std::string> keys_under(const std::string& sub) const {
    std::set<std::string> out;
    kv.scan(manager->store().log().prefix("issuing") + sub, [&](std::string_view key, std::string_view) {
      out.insert(std::string(key.substr(key.rfind('/') + 1)));
      return true;
    });
    return out;
  }
  // The pieces the stored snapshot names (read through them).
  std::set<std::string> named_by_snapshot() const {
    RecordingPieceSource recording(kv, manager->store().log().prefix("issuing"));
    auto snap = manager->store().log().snapshot("issuing");
    if (!snap) return {};
    CertAuth::decode_snapshot(snap->state, recording);
    return recording.names();
  }
  std::string replayed() const { return CertAuth::encode_snapshot(manager->store().replay("issuing")); }
  static std::string loaded(CaManager& m) {
    return m.store().read("issuing", [](const CertAuth& ca, uint64_t) { return CertAuth::encode_snapshot(ca); });
  }
};

TEST(SnapshotPieces, TheStoreKeepsOnlyThePiecesItsLatestSnapshotNames) {
  StoreFixture s;
  s.make_hierarchy();
  s.issue(23);  // a snapshot every 5 events: each writes the changed chunks anew
  auto snap = s.manager->store().log().snapshot("issuing");
  ASSERT_TRUE(snap);
  EXPECT_GE(snap->version, 20u);
  const auto named = s.named_by_snapshot();
  EXPECT_EQ(named.size(), 2u);  // one chunk of entries, one of subject text
  EXPECT_EQ(s.keys_under("p/"), named);
  EXPECT_EQ(s.keys_under("q/"), named);
  // A fresh start loads it and equals the full replay.
  auto fresh = s.start();
  EXPECT_EQ(StoreFixture::loaded(*fresh), s.replayed());
}

TEST(SnapshotPieces, ALostPieceCostsAReplayNotTheState) {
  StoreFixture s;
  s.make_hierarchy();
  s.issue(12);
  auto pieces = s.keys_under("p/");
  ASSERT_FALSE(pieces.empty());
  WriteBatch erase;
  erase.erase(s.manager->store().log().prefix("issuing") + "p/" + *pieces.begin());
  s.kv.write(erase, Durability::Sync);

  auto fresh = s.start();
  EXPECT_EQ(StoreFixture::loaded(*fresh), s.replayed());
  // Its next snapshot is whole again, and the lost piece's marker is gone.
  s.manager = std::move(fresh);
  s.issue(6);
  EXPECT_EQ(s.named_by_snapshot(), s.keys_under("p/"));
  EXPECT_EQ(s.keys_under("q/"), s.keys_under("p/"));
  EXPECT_EQ(StoreFixture::loaded(*s.start()), s.replayed());
}

TEST(SnapshotPieces, ASnapshotThatDoesNotDecodeCostsAReplay) {
  StoreFixture s;
  s.make_hierarchy();
  s.issue(12);
  s.replace_snapshot_state(std::string("\x01", 1) + "not a state");
  EXPECT_EQ(StoreFixture::loaded(*s.start()), s.replayed());
}

// A snapshot written before pieces holds the whole index (format 1): it is
// still loaded, not replayed. (Doctored here so that loading it shows.)
TEST(SnapshotPieces, AWholeSnapshotFromBeforePiecesStillLoads) {
  StoreFixture s;
  s.make_hierarchy();
  s.issue(12);
  const auto& log = s.manager->store().log();
  auto snap = *log.snapshot("issuing");
  CertAuth state = CertAuth::decode_snapshot(snap.state, KvSnapshotPieceSource(s.kv, log.prefix("issuing")));
  const std::string serial = state.certificates().serial(state.certificates().at(0));
  state.apply(CertificateRevoked{serial, 1, s.clock.now_ms()});
  s.replace_snapshot_state(CertAuth::encode_snapshot(state));
  auto fresh = s.start();
  EXPECT_TRUE(fresh->store().read("issuing", [&](const CertAuth& ca, uint64_t) {
    return ca.certificates().at(ca.certificates().find(serial)).revoked;
  }));
}

}  // namespace
}  // namespace cairn::testing
