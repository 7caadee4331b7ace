// AggregateStore<A> against both KeyValueStore implementations.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <numeric>
#include <thread>

#include "eventstore/memory_kv_store.h"
#include "eventstore/rocksdb_kv_store.h"
#include "tests/eventstore/counter_aggregate.h"
#include "tests/test_util.h"

namespace cairn {
namespace {

using testing::Add;
using testing::Added;
using testing::Counter;
using testing::CounterContext;
using Store = AggregateStore<Counter>;

class AggregateStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    store_.reset();
    if (GetParam() == "rocksdb") {
      kv_.reset();
      kv_ = RocksDbKvStore::open(dir_.path() + "/db");
    } else if (!kv_) {
      kv_ = std::make_unique<MemoryKvStore>();
    }
    store_ = std::make_unique<Store>(*kv_, clock_);
  }

  CommandMeta meta(const std::string& actor = "tester") {
    CommandMeta m;
    m.actor = actor;
    return m;
  }

  int64_t total(const std::string& id) {
    return store_->read(id, [](const Counter& c, uint64_t) { return c.total; });
  }
  uint64_t version(const std::string& id) {
    return store_->read(id, [](const Counter&, uint64_t v) { return v; });
  }

  testing::TempDir dir_;
  ManualClock clock_{1'700'000'000'000};
  std::unique_ptr<KeyValueStore> kv_;
  std::unique_ptr<Store> store_;
  CounterContext ctx_;
};

TEST_P(AggregateStoreTest, EventsGetContiguousVersionsAndStateFollows) {
  auto a = store_->process("c1", Add{5, 1}, meta(), ctx_);
  auto b = store_->process("c1", Add{2, 3}, meta(), ctx_);
  EXPECT_EQ(a.versions, (std::vector<uint64_t>{1}));
  EXPECT_EQ(b.versions, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(a.seq, 1u);
  EXPECT_EQ(b.seq, 2u);
  EXPECT_EQ(total("c1"), 11);
  EXPECT_EQ(version("c1"), 4u);
}

TEST_P(AggregateStoreTest, StateIsRebuiltFromStorageAfterReopen) {
  store_->process("c1", Add{5, 2}, meta(), ctx_);
  store_->process("c2", Add{1, 1}, meta(), ctx_);
  reopen();
  EXPECT_EQ(total("c1"), 10);
  EXPECT_EQ(total("c2"), 1);
  auto ids = store_->ids();
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"c1", "c2"}));
  // Replay equals the live state.
  EXPECT_EQ(store_->replay("c1").history, (std::vector<int64_t>{5, 5}));
  EXPECT_EQ(store_->replay("c1", 1).total, 5);
}

// Long enough for the applier's second thread (EventApplier::kThreadedFrom).
TEST_P(AggregateStoreTest, LongHistoryIsLoadedInOrderAfterReopen) {
  const int per_command = static_cast<int>(EventApplier<Counter>::kThreadedFrom / 2) + 3;
  for (int64_t amount : {1, 2, 3}) store_->process("c1", Add{amount, per_command}, meta(), ctx_);
  std::vector<int64_t> expected;
  for (int64_t amount : {1, 2, 3}) expected.insert(expected.end(), static_cast<size_t>(per_command), amount);
  reopen();
  EXPECT_EQ(store_->read("c1", [](const Counter& c, uint64_t) { return c.history; }), expected);
  EXPECT_EQ(store_->replay("c1").history, expected);
  EXPECT_EQ(store_->replay("c1", static_cast<uint64_t>(per_command) + 1).total, per_command + 2);
}

// A history with a hole is refused whether the events are applied by the
// loading thread (short) or by a second one (long); other aggregates load.
TEST_P(AggregateStoreTest, AMissingEventIsCorruptHistory) {
  const int long_run = static_cast<int>(EventApplier<Counter>::kThreadedFrom) + 100;
  store_->process("short", Add{1, 50}, meta(), ctx_);
  store_->process("long", Add{1, long_run}, meta(), ctx_);
  store_->process("intact", Add{4, 1}, meta(), ctx_);
  WriteBatch holes;
  holes.erase(store_->log().event_key("short", 20));
  holes.erase(store_->log().event_key("long", static_cast<uint64_t>(long_run) - 10));
  kv_->write(holes, Durability::Sync);
  reopen();
  for (const char* id : {"short", "long"}) {
    try {
      total(id);
      FAIL() << id << " loaded despite a missing event";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "corrupt_history") << id;
    }
  }
  EXPECT_EQ(total("intact"), 4);
}

TEST_P(AggregateStoreTest, CommandRecordsCarryActorTimeSummaryAndVersions) {
  clock_.set_ms(1'800'000'000'000);
  store_->process("c1", Add{3, 2}, meta("alice"), ctx_);
  auto rec = store_->log().command("c1", 1);
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->actor, "alice");
  EXPECT_EQ(rec->time_ms, 1'800'000'000'000);
  EXPECT_EQ(rec->summary, "add 3");
  EXPECT_EQ(rec->params_json, "{\"amount\":3}");
  EXPECT_EQ(rec->event_versions, (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(rec->ok);
}

TEST_P(AggregateStoreTest, NoOpStoresNothing) {
  store_->process("c1", Add{1, 1}, meta(), ctx_);
  auto head = store_->log().head("c1");
  auto out = store_->process("c1", Add{0, 1}, meta(), ctx_);
  EXPECT_EQ(out.seq, 0u);
  EXPECT_TRUE(out.events.empty());
  auto after = store_->log().head("c1");
  EXPECT_EQ(after.command_seq, head.command_seq);
  EXPECT_EQ(after.version, head.version);
  EXPECT_FALSE(store_->log().command("c1", 2).has_value());
}

TEST_P(AggregateStoreTest, RejectionIsRecordedWithoutEvents) {
  store_->process("c1", Add{1, 1}, meta(), ctx_);
  try {
    store_->process("c1", Add{-1, 1}, meta("mallory"), ctx_);
    FAIL() << "expected a rejection";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "negative");
  }
  auto rec = store_->log().command("c1", 2);
  ASSERT_TRUE(rec.has_value());
  EXPECT_FALSE(rec->ok);
  EXPECT_EQ(rec->actor, "mallory");
  EXPECT_EQ(rec->error_code, "negative");
  EXPECT_TRUE(rec->event_versions.empty());
  EXPECT_EQ(version("c1"), 1u);
}

TEST_P(AggregateStoreTest, RejectionOfUnknownAggregateCreatesNothing) {
  EXPECT_THROW(store_->process("ghost", Add{-1, 1}, meta(), ctx_), Error);
  EXPECT_FALSE(store_->exists("ghost"));
  EXPECT_TRUE(store_->ids().empty());
}

TEST_P(AggregateStoreTest, VetoByPreSaveListenerStoresNothing) {
  store_->process("c1", Add{1, 1}, meta(), ctx_);
  bool veto = true;
  store_->add_pre_save([&](const std::string&, const Counter&, const std::vector<Added>&, WriteBatch& b) {
    b.put("side/effect", "written");
    if (veto) throw Error(ErrorKind::Conflict, "vetoed", "no");
  });
  EXPECT_THROW(store_->process("c1", Add{7, 2}, meta(), ctx_), Error);
  EXPECT_EQ(total("c1"), 1);  // the cached state did not keep the vetoed events
  EXPECT_EQ(version("c1"), 1u);
  EXPECT_FALSE(kv_->get("side/effect").has_value());
  EXPECT_FALSE(store_->log().command("c1", 2).has_value());
  veto = false;
  store_->process("c1", Add{7, 1}, meta(), ctx_);
  EXPECT_EQ(kv_->get("side/effect"), "written");  // listener output lands with the events
  EXPECT_EQ(total("c1"), 8);
}

TEST_P(AggregateStoreTest, PostSaveListenerFailureDoesNotFailTheCommand) {
  int calls = 0;
  store_->add_post_save([&](const std::string&, const std::vector<Added>& events, const std::vector<uint64_t>& versions) {
    ++calls;
    EXPECT_EQ(events.size(), versions.size());
    throw std::runtime_error("listener broke");
  });
  auto out = store_->process("c1", Add{4, 1}, meta(), ctx_);
  EXPECT_EQ(out.seq, 1u);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(total("c1"), 4);
}

TEST_P(AggregateStoreTest, OptimisticVersionCheck) {
  store_->process("c1", Add{1, 1}, meta(), ctx_);
  CommandMeta m = meta();
  m.expected_version = 0;
  try {
    store_->process("c1", Add{1, 1}, m, ctx_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "version_conflict");
  }
  m.expected_version = 1;
  store_->process("c1", Add{1, 1}, m, ctx_);
  EXPECT_EQ(version("c1"), 2u);
}

TEST_P(AggregateStoreTest, HashChainLinksEveryEventAndCommand) {
  store_->process("c1", Add{1, 2}, meta(), ctx_);
  EXPECT_THROW(store_->process("c1", Add{-1, 1}, meta(), ctx_), Error);
  store_->process("c1", Add{3, 1}, meta(), ctx_);
  std::string prev(kHashSize, '\0');
  uint64_t n = 0;
  store_->log().for_each_event("c1", 1, [&](const EventRecord& r) {
    EXPECT_EQ(r.version, ++n);
    EXPECT_EQ(r.hash, chain_hash(prev, r));
    prev = r.hash;
    return true;
  });
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(store_->log().head("c1").event_hash, prev);
  std::string cprev(kHashSize, '\0');
  uint64_t seqs = 0;
  store_->log().for_each_command("c1", 1, [&](const CommandRecord& r) {
    EXPECT_EQ(r.seq, ++seqs);
    EXPECT_EQ(r.hash, chain_hash(cprev, r));
    cprev = r.hash;
    return true;
  });
  EXPECT_EQ(seqs, 3u);
  EXPECT_EQ(store_->log().head("c1").command_hash, cprev);
  // Changing any event byte changes its hash.
  EventRecord tampered;
  store_->log().for_each_event("c1", 2, [&](const EventRecord& r) { tampered = r; return false; });
  tampered.payload = "999";
  EXPECT_NE(chain_hash(std::string(kHashSize, '\0'), tampered), tampered.hash);
}

TEST_P(AggregateStoreTest, StartUpFromSnapshotEqualsReplayFromZero) {
  store_->set_snapshot_interval(4);
  for (int i = 1; i <= 10; ++i) store_->process("c1", Add{i, 1}, meta(), ctx_);
  auto snap = store_->log().snapshot("c1");
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->version, 8u);
  EXPECT_EQ(snap->event_hash, store_->log().event("c1", 8)->hash);
  EXPECT_EQ(snap->state, Counter::encode_snapshot(store_->replay("c1", 8)));
  reopen();
  store_->set_snapshot_interval(4);
  EXPECT_EQ(total("c1"), 55);
  EXPECT_EQ(Counter::encode_snapshot(store_->read("c1", [](const Counter& c, uint64_t) { return c; })),
            Counter::encode_snapshot(store_->replay("c1")));
  // Loading really starts from the snapshot: a doctored snapshot shows up.
  WriteBatch b;
  b.put(store_->log().snapshot_key("c1"), encode_record(SnapshotRecord{8, snap->event_hash, "1000,1000"}));
  kv_->write(b, Durability::Sync);
  reopen();
  EXPECT_EQ(total("c1"), 1000 + 9 + 10);
}

TEST_P(AggregateStoreTest, ConcurrentCommandsOnOneAggregateAreSerialised) {
  constexpr int kThreads = 8, kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      CounterContext ctx;
      for (int i = 0; i < kPerThread; ++i) store_->process("shared", Add{1, 1}, meta(), ctx);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(total("shared"), kThreads * kPerThread);
  EXPECT_EQ(version("shared"), static_cast<uint64_t>(kThreads * kPerThread));
  reopen();
  EXPECT_EQ(total("shared"), kThreads * kPerThread);
}

// Commands that wait while another thread runs theirs (run_in_turn) each
// get their own outcome or their own error, never a neighbour's.
TEST_P(AggregateStoreTest, ConcurrentCommandsEachGetTheirOwnOutcomeOrError) {
  store_->process("mixed", Add{1, 1}, meta(), ctx_);  // exists, so rejections are recorded
  constexpr int kThreads = 8, kPerThread = 60;
  std::mutex mutex;
  std::vector<uint64_t> versions;
  int64_t expected_total = 1;
  int mismatches = 0, rejections = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      CounterContext ctx;
      for (int i = 0; i < kPerThread; ++i) {
        int64_t amount = i % 3 == 0 ? -(t + 1) : i % 3 == 1 ? 0 : 100 * (t + 1) + i;
        try {
          auto outcome = store_->process("mixed", Add{amount, 1}, meta("thread" + std::to_string(t)), ctx);
          std::lock_guard lock(mutex);
          if (amount == 0) {
            mismatches += outcome.events.empty() ? 0 : 1;
          } else if (outcome.events.size() != 1 || outcome.events[0].amount != amount) {
            ++mismatches;
          } else {
            versions.insert(versions.end(), outcome.versions.begin(), outcome.versions.end());
            expected_total += amount;
          }
        } catch (const Error& e) {
          std::lock_guard lock(mutex);
          if (amount < 0 && e.code() == "negative") ++rejections;
          else ++mismatches;
        }
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(rejections, kThreads * kPerThread / 3);
  std::sort(versions.begin(), versions.end());
  std::vector<uint64_t> contiguous(versions.size());
  std::iota(contiguous.begin(), contiguous.end(), uint64_t{2});
  EXPECT_EQ(versions, contiguous);
  EXPECT_EQ(total("mixed"), expected_total);
  reopen();
  EXPECT_EQ(total("mixed"), expected_total);
}

TEST_P(AggregateStoreTest, InvalidIdsAreRefused) {
  for (const char* id : {"", "../etc", "a/b", "UPPER", ".hidden", "x y"}) {
    try {
      store_->process(id, Add{1, 1}, meta(), ctx_);
      FAIL() << id;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "invalid_name") << id;
    }
  }
}

TEST_P(AggregateStoreTest, UnknownAggregateIsNotFound) {
  try {
    total("nobody");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "counter_not_found");
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  }
}

INSTANTIATE_TEST_SUITE_P(Both, AggregateStoreTest, ::testing::Values("memory", "rocksdb"));

// Fault injection needs the in-memory store.
TEST(AggregateStoreFaults, FailedBatchLeavesNoTraceAndStoreKeepsWorking) {
  MemoryKvStore kv;
  ManualClock clock(1);
  Store store(kv, clock);
  CounterContext ctx;
  CommandMeta m;
  m.actor = "t";
  store.process("c1", Add{1, 1}, m, ctx);
  kv.fail_write_number(1);
  EXPECT_THROW(store.process("c1", Add{10, 2}, m, ctx), Error);
  EXPECT_EQ(store.read("c1", [](const Counter& c, uint64_t v) { return std::make_pair(c.total, v); }),
            std::make_pair(int64_t{1}, uint64_t{1}));
  EXPECT_FALSE(store.log().command("c1", 2).has_value());
  store.process("c1", Add{2, 1}, m, ctx);
  EXPECT_EQ(store.read("c1", [](const Counter& c, uint64_t) { return c.total; }), 3);
  EXPECT_EQ(store.log().head("c1").command_seq, 2u);
}

TEST(AggregateStoreFaults, SyncedCommandsSurviveACrash) {
  MemoryKvStore kv;
  ManualClock clock(1);
  CounterContext ctx;
  CommandMeta m;
  m.actor = "t";
  {
    Store store(kv, clock);
    store.process("c1", Add{5, 1}, m, ctx);
  }
  kv.simulate_crash();
  Store store(kv, clock);
  EXPECT_EQ(store.read("c1", [](const Counter& c, uint64_t) { return c.total; }), 5);
}

// Snapshots are written unlogged, after the command is durable: a crash may
// lose one (this store always does), and a failed snapshot write fails
// nothing; either way loading replays from the snapshot before.
TEST(AggregateStoreFaults, ASnapshotLostOrNotWrittenCostsOnlyReplay) {
  MemoryKvStore kv;
  ManualClock clock(1);
  CounterContext ctx;
  CommandMeta m;
  m.actor = "t";
  auto total_and_version = [](Store& s) {
    return s.read("c1", [](const Counter& c, uint64_t v) { return std::make_pair(c.total, v); });
  };
  {
    Store store(kv, clock);
    store.set_snapshot_interval(4);
    for (int i = 1; i <= 3; ++i) store.process("c1", Add{i, 1}, m, ctx);
    // Version 4 takes a snapshot, but its sync fails: no snapshot of a
    // state that is not durable is written.
    kv.fail_sync_number(1);
    EXPECT_THROW(store.process("c1", Add{4, 1}, m, ctx), Error);
    EXPECT_FALSE(store.log().snapshot("c1").has_value());
  }
  kv.simulate_crash();  // restarts after the failed sync; version 4 is lost
  {
    Store store(kv, clock);
    store.set_snapshot_interval(4);
    EXPECT_EQ(total_and_version(store), std::make_pair(int64_t{6}, uint64_t{3}));
    store.process("c1", Add{4, 1}, m, ctx);
    ASSERT_TRUE(store.log().snapshot("c1").has_value());
    EXPECT_EQ(store.log().snapshot("c1")->version, 4u);
    for (int i = 5; i <= 6; ++i) store.process("c1", Add{i, 1}, m, ctx);
  }
  kv.simulate_crash();  // every command was synced; the snapshot was not
  {
    Store store(kv, clock);
    store.set_snapshot_interval(4);
    EXPECT_FALSE(store.log().snapshot("c1").has_value());
    EXPECT_EQ(total_and_version(store), std::make_pair(int64_t{21}, uint64_t{6}));
    store.process("c1", Add{7, 1}, m, ctx);  // loaded without a snapshot: takes one
    ASSERT_TRUE(store.log().snapshot("c1").has_value());
    EXPECT_EQ(store.log().snapshot("c1")->version, 7u);
    for (int i = 8; i <= 10; ++i) store.process("c1", Add{i, 1}, m, ctx);
    kv.fail_write_number(2);  // version 11: its batch is the next write, its snapshot the one after
    EXPECT_NO_THROW(store.process("c1", Add{11, 1}, m, ctx));
    ASSERT_TRUE(store.log().snapshot("c1").has_value());
    EXPECT_EQ(store.log().snapshot("c1")->version, 7u);  // the failed one left no trace
    EXPECT_EQ(total_and_version(store), std::make_pair(int64_t{66}, uint64_t{11}));
  }
  Store store(kv, clock);
  EXPECT_EQ(total_and_version(store), std::make_pair(int64_t{66}, uint64_t{11}));
  EXPECT_EQ(store.replay("c1").total, 66);
}

// A store whose first unlogged write waits until the test lets it go on.
class HoldFirstUnloggedWrite final : public KeyValueStore {
 public:
  std::optional<std::string> get(std::string_view key) const override { return inner.get(key); }
  void scan(std::string_view prefix, const Visitor& visit, std::string_view start = {}) const override {
    inner.scan(prefix, visit, start);
  }
  void write(const WriteBatch& batch, Durability durability) override {
    if (durability == Durability::Unlogged && !held_.exchange(true)) {
      holding.set_value();
      release.get_future().wait();
    }
    inner.write(batch, durability);
  }
  void sync() override { inner.sync(); }

  MemoryKvStore inner;
  std::promise<void> holding;
  std::promise<void> release;

 private:
  std::atomic<bool> held_{false};
};

// Each command writes its snapshot after its turn, so an older one can come
// late; it must not replace a newer one.
TEST(AggregateStoreFaults, ALateSnapshotNeverReplacesANewerOne) {
  HoldFirstUnloggedWrite kv;
  ManualClock clock(1);
  Store store(kv, clock);
  store.set_snapshot_interval(1);  // while version / 8 < 1: a snapshot after every command
  CounterContext ctx;
  CommandMeta m;
  m.actor = "t";
  std::thread first([&] { store.process("c1", Add{1, 1}, m, ctx); });  // its snapshot, of version 1, is held
  kv.holding.get_future().wait();
  auto second = std::async(std::launch::async, [&] { store.process("c1", Add{2, 1}, m, ctx); });
  // Time for the second command's snapshot (of version 2) to be written,
  // were nothing to stop it; then the first one's goes on.
  second.wait_for(std::chrono::milliseconds(300));
  kv.release.set_value();
  first.join();
  second.get();
  ASSERT_TRUE(store.log().snapshot("c1").has_value());
  EXPECT_EQ(store.log().snapshot("c1")->version, 2u);
  EXPECT_EQ(store.read("c1", [](const Counter& c, uint64_t) { return c.total; }), 3);
}

}  // namespace
}  // namespace cairn
