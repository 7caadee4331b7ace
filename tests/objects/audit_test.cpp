// The auditor's tools on a real RocksDB data directory: verify catches every
// kind of tampering and names the record; replay to a version or a time
// equals the live state at that moment; the export can be re-verified from
// its documented hash rule alone.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "eventstore/rocksdb_kv_store.h"
#include "objects/ca_auditor.h"
#include "objects/ca_objects_store.h"
#include "tests/core/pki_fixtures.h"
#include "tests/test_util.h"

namespace cairn {
namespace {

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kv = RocksDbKvStore::open(dir.path() + "/db");
    manager = std::make_unique<CaManager>(*kv, signer, clock, CaManagerConfig{"http://pki.test", 4, nullptr});
    objects = std::make_unique<CaObjectsStore>(*kv, signer, clock, CaObjectsConfig{});
    objects->attach(manager->store());
    checkpoints = std::make_unique<CheckpointService>(*kv, signer, clock);
    manager->create_ca("alice", CreateCaRequest{"root", "CN=Audit Root", "ec-p256", "", 3650});
    manager->create_ca("alice", CreateCaRequest{"issuing", "CN=Audit Issuing", "ec-p256", "root", 1825});
    for (int i = 0; i < 6; ++i) {
      clock.advance_ms(60'000);
      IssueRequest r;
      r.csr = testing::make_csr_pem("h" + std::to_string(i), "DNS:h" + std::to_string(i) + ".example");
      serials.push_back(manager->issue("bob", "issuing", r).certificate.serial);
      record_state();
    }
    clock.advance_ms(60'000);
    manager->revoke("carol", "issuing", serials[1], "keyCompromise");
    record_state();
  }

  void record_state() {
    manager->store().read("issuing", [&](const CertAuth& ca, uint64_t v) {
      states.push_back({v, clock.now_ms(), CertAuth::encode_snapshot(ca)});
      return 0;
    });
  }

  AuditReport run(std::vector<Checkpoint> kept = {}) {
    AuditOptions o;
    o.checkpoints = std::move(kept);
    return audit(*kv, o);
  }

  void put(const std::string& key, const std::string& value) {
    WriteBatch b;
    b.put(key, value);
    kv->write(b, Durability::Sync);
  }
  void erase(const std::string& key) {
    WriteBatch b;
    b.erase(key);
    kv->write(b, Durability::Sync);
  }
  const AggregateLog& log() { return manager->store().log(); }

  struct State {
    uint64_t version;
    int64_t time_ms;
    std::string encoded;
  };

  testing::TempDir dir;
  ManualClock clock{1'790'000'000'000};
  MemoryKeyStore keys;
  Signer signer{keys};
  std::unique_ptr<RocksDbKvStore> kv;
  std::unique_ptr<CaManager> manager;
  std::unique_ptr<CaObjectsStore> objects;
  std::unique_ptr<CheckpointService> checkpoints;
  std::vector<std::string> serials;
  std::vector<State> states;
};

TEST_F(AuditTest, UntouchedHistoryVerifies) {
  checkpoints->create({&log()});
  auto r = run();
  ASSERT_FALSE(r.problem) << *r.problem;
  EXPECT_EQ(r.cas, 2u);
  EXPECT_EQ(r.certificates, 7u);  // 6 + the issuing CA's own certificate
  EXPECT_EQ(r.crls, 2u);
  EXPECT_GE(r.snapshots, 1u);
  EXPECT_EQ(r.checkpoints, 1u);
}

TEST_F(AuditTest, ChangedEventPayloadIsCaught) {
  auto ev = *log().event("issuing", 4);
  ev.payload[ev.payload.size() / 2] ^= 0x01;
  put(log().event_key("issuing", 4), encode_record(ev));
  auto r = run();
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("ca/issuing event 4"), std::string::npos) << *r.problem;
  EXPECT_NE(r.problem->find("hash chain broken"), std::string::npos) << *r.problem;
}

TEST_F(AuditTest, ChangedRawByteIsCaught) {
  std::string raw = *kv->get(log().event_key("issuing", 5));
  raw[raw.size() - 40] ^= 0x20;  // inside the stored hash
  put(log().event_key("issuing", 5), raw);
  auto r = run();
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("event 5"), std::string::npos) << *r.problem;
}

TEST_F(AuditTest, DeletedEventIsCaught) {
  erase(log().event_key("issuing", 4));
  auto r = run();
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("ca/issuing event 4"), std::string::npos) << *r.problem;
  EXPECT_NE(r.problem->find("missing"), std::string::npos) << *r.problem;
}

TEST_F(AuditTest, CaDroppedFromTheListIsCaught) {
  erase("l/ca/issuing");
  auto r = run();
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("ca/issuing has stored records but is missing"), std::string::npos) << *r.problem;
}

TEST_F(AuditTest, SwappedEventsAreCaught) {
  std::string a = *kv->get(log().event_key("issuing", 3));
  std::string b = *kv->get(log().event_key("issuing", 4));
  put(log().event_key("issuing", 3), b);
  put(log().event_key("issuing", 4), a);
  auto r = run();
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("ca/issuing event 3"), std::string::npos) << *r.problem;
}

TEST_F(AuditTest, EditedCommandActorOrTimeIsCaught) {
  const std::string original = *kv->get(log().command_key("issuing", 3));
  auto cmd = *log().command("issuing", 3);
  cmd.actor = "mallory";
  put(log().command_key("issuing", 3), encode_record(cmd));
  auto r = run();
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("ca/issuing command 3"), std::string::npos) << *r.problem;
  EXPECT_NE(r.problem->find("command record was changed"), std::string::npos) << *r.problem;

  put(log().command_key("issuing", 3), original);
  ASSERT_FALSE(run().problem);
  auto later = *log().command("issuing", 4);
  later.time_ms += 1000;
  put(log().command_key("issuing", 4), encode_record(later));
  auto r2 = run();
  ASSERT_TRUE(r2.problem);
  EXPECT_NE(r2.problem->find("ca/issuing command 4: hash chain broken"), std::string::npos) << *r2.problem;
}

TEST_F(AuditTest, CommandPointingAtOtherEventsIsCaught) {
  // Rewrite command 3 to claim event 4 and re-chain every command after it,
  // as an attacker who knows the hash rule would.
  std::string prev = log().command("issuing", 2)->hash;
  AggregateHead head = log().head("issuing");
  for (uint64_t seq = 3; seq <= head.command_seq; ++seq) {
    auto c = *log().command("issuing", seq);
    if (seq == 3) c.event_versions = {4};
    c.hash = chain_hash(prev, c);
    prev = c.hash;
    put(log().command_key("issuing", seq), encode_record(c));
  }
  head.command_hash = prev;
  put(log().head_key("issuing"), encode_record(head));
  auto r = run();
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("command 3"), std::string::npos) << *r.problem;
  EXPECT_NE(r.problem->find("does not match the events"), std::string::npos) << *r.problem;
}

TEST_F(AuditTest, TruncatedTailAfterACheckpointIsCaught) {
  IssueRequest r;
  r.csr = testing::make_csr_pem("last", "DNS:last.example");
  manager->issue("bob", "issuing", r);
  Checkpoint kept = checkpoints->create({&log()});
  // The attacker removes the last command and its event, rewrites the head
  // so the shortened chain is consistent, and deletes stored checkpoints.
  AggregateHead head = log().head("issuing");
  erase(log().event_key("issuing", head.version));
  erase(log().command_key("issuing", head.command_seq));
  AggregateHead shorter = head;
  shorter.version -= 1;
  shorter.command_seq -= 1;
  shorter.event_hash = log().event("issuing", shorter.version)->hash;
  shorter.command_hash = log().command("issuing", shorter.command_seq)->hash;
  put(log().head_key("issuing"), encode_record(shorter));
  kv->scan("ckpt/", [&](std::string_view k, std::string_view) {
    erase(std::string(k));
    return true;
  });
  EXPECT_FALSE(run().problem) << "a cleanly cut tail is self-consistent";
  auto cut = run({kept});
  ASSERT_TRUE(cut.problem);
  EXPECT_NE(cut.problem->find("ca/issuing: history was cut off behind the checkpoint"), std::string::npos)
      << *cut.problem;
}

TEST_F(AuditTest, RewrittenAndRechainedHistoryIsCaughtByAKeptCheckpoint) {
  Checkpoint kept = checkpoints->create({&log()});
  // Change the actor of command 2 and re-chain everything after it: the
  // stored history is consistent again, but no longer the one signed.
  std::string prev = log().command("issuing", 1)->hash;
  AggregateHead head = log().head("issuing");
  for (uint64_t seq = 2; seq <= head.command_seq; ++seq) {
    auto c = *log().command("issuing", seq);
    if (seq == 2) c.actor = "mallory";
    c.hash = chain_hash(prev, c);
    prev = c.hash;
    put(log().command_key("issuing", seq), encode_record(c));
  }
  head.command_hash = prev;
  put(log().head_key("issuing"), encode_record(head));
  kv->scan("ckpt/", [&](std::string_view k, std::string_view) {
    erase(std::string(k));
    return true;
  });
  EXPECT_FALSE(run().problem) << "re-chained history is self-consistent";
  auto r = run({kept});
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("rewritten history"), std::string::npos) << *r.problem;

  // A forged checkpoint signature does not help either.
  Checkpoint forged = kept;
  forged.heads[0].version += 1;
  auto f = run({forged});
  ASSERT_TRUE(f.problem);
  EXPECT_NE(f.problem->find("signature"), std::string::npos) << *f.problem;
}

TEST_F(AuditTest, SerialIssuedTwiceIsCaught) {
  // A well-chained extra command whose event re-issues an existing serial.
  CommandRecord forged;
  forged.actor = "mallory";
  forged.time_ms = clock.now_ms();
  forged.summary = "issue";
  WriteBatch batch;
  log().append("issuing", log().head("issuing"), forged, {log().event("issuing", 3)->payload}, batch);
  kv->write(batch, Durability::Sync);
  auto r = run();
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("was issued twice"), std::string::npos) << *r.problem;
}

TEST_F(AuditTest, DoctoredSnapshotIsCaught) {
  auto snap = *log().snapshot("issuing");
  CertAuth doctored = CertAuth::decode_snapshot(snap.state, KvSnapshotPieceSource(*kv, log().prefix("issuing")));
  doctored.apply(CertificateRevoked{serials[0], 1, clock.now_ms()});
  snap.state = CertAuth::encode_snapshot(doctored);
  put(log().snapshot_key("issuing"), encode_record(snap));  // whole (format 1), as before pieces
  auto r = run();
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("does not equal a replay"), std::string::npos) << *r.problem;
}

// The snapshot's certificate index is stored in pieces (snapshot_pieces.h):
// a piece changed or gone is a problem the audit names.
TEST_F(AuditTest, DoctoredOrMissingSnapshotPieceIsCaught) {
  std::vector<std::string> pieces;
  kv->scan(log().prefix("issuing") + "p/", [&](std::string_view key, std::string_view) {
    pieces.emplace_back(key);
    return true;
  });
  ASSERT_FALSE(pieces.empty());
  ASSERT_FALSE(run().problem);
  const std::string original = *kv->get(pieces.back());
  std::string changed = original;
  changed.back() = static_cast<char>(changed.back() ^ 1);
  put(pieces.back(), changed);
  auto r = run();
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("has another digest"), std::string::npos) << *r.problem;
  WriteBatch erase;
  erase.erase(pieces.back());
  kv->write(erase, Durability::Sync);
  r = run();
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("is missing"), std::string::npos) << *r.problem;
  put(pieces.back(), original);
  EXPECT_FALSE(run().problem);
}

TEST_F(AuditTest, StaleCrlIsCaught) {
  // Replace the current CRL by the one from before the revocation.
  auto current = *kv->get("o/crl/issuing");
  manager->revoke("carol", "issuing", serials[2], "superseded");
  put("o/crl/issuing", current);
  auto r = run();
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->find("CRL does not list revoked certificate " + serials[2]), std::string::npos) << *r.problem;
}

TEST_F(AuditTest, ReplayToAVersionOrTimeEqualsTheLiveStateThen) {
  for (const auto& s : states) {
    EXPECT_EQ(CertAuth::encode_snapshot(replay_ca(*kv, "issuing", s.version)), s.encoded) << s.version;
    EXPECT_EQ(version_at(*kv, "issuing", s.time_ms), s.version) << s.time_ms;
    EXPECT_EQ(version_at(*kv, "issuing", s.time_ms + 30'000), s.version);
  }
  EXPECT_EQ(version_at(*kv, "issuing", 0), 0u);
  EXPECT_THROW(replay_ca(*kv, "nosuch"), Error);
}

// Re-verifies the export using only the rule in docs/audit.md, with its own
// byte packing and OpenSSL's SHA-256.
TEST_F(AuditTest, ExportCanBeVerifiedIndependently) {
  std::ostringstream out;
  export_history(*kv, "", out);
  auto sha = [](const std::string& data) {
    unsigned char md[32];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
    std::string hex;
    char buf[3];
    for (unsigned char c : md) {
      std::snprintf(buf, sizeof buf, "%02x", c);
      hex += buf;
    }
    return hex;
  };
  auto unhex = [](const std::string& hex) {
    std::string bytes;
    for (size_t i = 0; i < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return bytes;
  };
  auto u64 = [](uint64_t v) {
    std::string s;
    for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return s;
  };
  auto lp = [&](const std::string& s) { return u64(s.size()) + s; };
  std::map<std::string, std::string> event_prev, command_prev;
  std::istringstream in(out.str());
  std::string line;
  size_t events = 0, commands = 0, heads = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    std::string agg = j["aggregate"];
    if (!event_prev.count(agg)) {
      event_prev[agg] = std::string(32, '\0');
      command_prev[agg] = std::string(32, '\0');
    }
    if (j["record"] == "event") {
      std::string data = event_prev[agg] + u64(j["version"]) + u64(j["time_ms"].get<int64_t>()) +
                         u64(j["command_seq"]) + lp(base64_decode(j["payload"].get<std::string>()));
      ASSERT_EQ(sha(data), j["hash"]) << line.substr(0, 120);
      event_prev[agg] = unhex(j["hash"]);
      ++events;
    } else if (j["record"] == "command") {
      std::string data = command_prev[agg] + u64(j["seq"]) + u64(j["time_ms"].get<int64_t>()) + lp(j["actor"]) +
                         lp(j["summary"]) + lp(j["params_json"]) + u64(j["event_versions"].size());
      for (const auto& v : j["event_versions"]) data += u64(v.get<uint64_t>());
      data.push_back(j["ok"].get<bool>() ? 1 : 0);
      data += lp(j["error_code"]) + lp(j["error_message"]);
      ASSERT_EQ(sha(data), j["hash"]) << line.substr(0, 120);
      command_prev[agg] = unhex(j["hash"]);
      ++commands;
    } else {
      ASSERT_EQ(j["record"], "head");
      EXPECT_EQ(unhex(j["event_hash"]), event_prev[agg]);
      EXPECT_EQ(unhex(j["command_hash"]), command_prev[agg]);
      ++heads;
    }
  }
  auto r = run();
  EXPECT_EQ(events, r.events);
  EXPECT_EQ(commands, r.commands);
  EXPECT_EQ(heads, 2u);
}

}  // namespace
}  // namespace cairn
