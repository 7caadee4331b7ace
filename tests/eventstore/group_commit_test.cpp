// Group commit: concurrent commands share syncs, nobody is answered (and no
// reader sees a change) before it is durable, and a failed sync is
// fail-stop and loses nothing that was acknowledged; each waiter returns
// only once a sync covered its write, and all of a failed sync's are refused.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "eventstore/group_commit.h"
#include "eventstore/memory_kv_store.h"
#include "tests/eventstore/counter_aggregate.h"
#include "tests/test_util.h"

namespace cairn {
namespace {

using testing::Add;
using testing::Counter;
using testing::CounterContext;
using Store = AggregateStore<Counter>;
using namespace std::chrono_literals;

// A MemoryKvStore whose sync() can be held, counted and slowed down.
class GatedKvStore : public KeyValueStore {
 public:
  std::optional<std::string> get(std::string_view key) const override { return inner.get(key); }
  void scan(std::string_view prefix, const Visitor& visit, std::string_view start) const override {
    inner.scan(prefix, visit, start);
  }
  void write(const WriteBatch& batch, Durability durability) override { inner.write(batch, durability); }
  void sync() override {
    {
      std::unique_lock lock(mutex);
      ++syncs_started;
      changed.notify_all();
      changed.wait(lock, [&] { return open; });
    }
    if (delay.count()) std::this_thread::sleep_for(delay);
    inner.sync();
  }
  void set_open(bool value) {
    std::lock_guard lock(mutex);
    open = value;
    changed.notify_all();
  }
  bool wait_for_sync_started(int n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 5s, [&] { return syncs_started >= n; });
  }

  MemoryKvStore inner;
  std::chrono::milliseconds delay{0};
  std::mutex mutex;
  std::condition_variable changed;
  bool open = true;
  int syncs_started = 0;
};

CommandMeta meta() {
  CommandMeta m;
  m.actor = "tester";
  return m;
}

TEST(GroupCommit, ConcurrentCommandsShareSyncs) {
  GatedKvStore kv;
  kv.delay = 2ms;  // a disk's fsync
  ManualClock clock{1'700'000'000'000};
  Store store(kv, clock);
  CounterContext ctx;
  constexpr int kThreads = 8, kEach = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) store.process(t % 2 ? "odd" : "even", Add{1, 1}, meta(), ctx);
    });
  for (auto& t : threads) t.join();
  auto stats = store.commit_stats();
  EXPECT_EQ(stats.writes, uint64_t{kThreads * kEach});
  // Eight writers against a 2 ms sync: most syncs cover several commands.
  EXPECT_LT(stats.syncs, stats.writes / 2) << stats.syncs << " syncs for " << stats.writes << " commands";
  EXPECT_EQ(store.read("odd", [](const Counter& c, uint64_t) { return c.total; }), kThreads / 2 * kEach);
  // Everything acknowledged survives a crash.
  kv.inner.simulate_crash();
  Store reopened(kv, clock);
  EXPECT_EQ(reopened.read("even", [](const Counter& c, uint64_t) { return c.total; }), kThreads / 2 * kEach);
}

TEST(GroupCommit, NoAnswerAndNoReadBeforeTheSync) {
  GatedKvStore kv;
  ManualClock clock{1'700'000'000'000};
  Store store(kv, clock);
  CounterContext ctx;
  store.process("c", Add{1, 1}, meta(), ctx);
  kv.set_open(false);
  auto command = std::async(std::launch::async, [&] { return store.process("c", Add{5, 1}, meta(), ctx); });
  ASSERT_TRUE(kv.wait_for_sync_started(2));
  // Written, not yet durable: a crash now would take it back. Neither the
  // command, nor a reader of the new state, nor a no-op or a rejection
  // decided on it returns.
  auto reader = std::async(std::launch::async, [&] {
    return store.read("c", [](const Counter& c, uint64_t) { return c.total; });
  });
  auto no_op = std::async(std::launch::async, [&] { return store.process("c", Add{0, 1}, meta(), ctx); });
  auto conflict = std::async(std::launch::async, [&] {
    CommandMeta stale = meta();
    stale.expected_version = 1;
    return testing::error_code_of([&] { store.process("c", Add{1, 1}, stale, ctx); });
  });
  EXPECT_EQ(command.wait_for(100ms), std::future_status::timeout);
  EXPECT_EQ(reader.wait_for(10ms), std::future_status::timeout);
  EXPECT_EQ(no_op.wait_for(10ms), std::future_status::timeout);
  EXPECT_EQ(conflict.wait_for(10ms), std::future_status::timeout);
  kv.set_open(true);
  ASSERT_EQ(command.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(command.get().versions, (std::vector<uint64_t>{2}));
  ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(reader.get(), 6);
  ASSERT_EQ(no_op.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(no_op.get().events.empty());
  ASSERT_EQ(conflict.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(conflict.get(), "version_conflict");
}

TEST(GroupCommit, AFailedSyncStopsChangesAndLosesNothingAcknowledged) {
  MemoryKvStore kv;
  ManualClock clock{1'700'000'000'000};
  CounterContext ctx;
  {
    Store store(kv, clock);
    store.process("c", Add{1, 1}, meta(), ctx);
    kv.fail_sync_number(1);
    try {
      store.process("c", Add{10, 1}, meta(), ctx);
      FAIL() << "a command whose sync failed was acknowledged";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "storage_failed");
      EXPECT_EQ(e.kind(), ErrorKind::Unavailable);
    }
    // Fail-stop: no further change, no read of the unsure state.
    try {
      store.process("other", Add{1, 1}, meta(), ctx);
      FAIL() << "a change was accepted after a failed sync";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "storage_failed");
    }
    EXPECT_THROW(store.read("c", [](const Counter& c, uint64_t) { return c.total; }), Error);
  }
  kv.simulate_crash();  // the power goes: what was never synced is gone
  Store restarted(kv, clock);
  EXPECT_EQ(restarted.read("c", [](const Counter& c, uint64_t) { return c.total; }), 1);
  EXPECT_FALSE(restarted.exists("other"));
  restarted.process("c", Add{2, 1}, meta(), ctx);  // and it works again
  EXPECT_EQ(restarted.read("c", [](const Counter& c, uint64_t) { return c.total; }), 3);
}

// Counts writes and which of them each sync made durable: a write is
// durable once a sync that began after it completed has finished.
class CountingKvStore : public KeyValueStore {
 public:
  std::optional<std::string> get(std::string_view key) const override { return inner.get(key); }
  void scan(std::string_view prefix, const Visitor& visit, std::string_view start) const override {
    inner.scan(prefix, visit, start);
  }
  void write(const WriteBatch& batch, Durability durability) override {
    inner.write(batch, durability);
    last_write = ++writes;
  }
  void sync() override {
    uint64_t covered = writes.load();
    std::this_thread::sleep_for(200us);  // a disk's fsync, shortened
    inner.sync();
    uint64_t seen = durable.load();
    while (seen < covered && !durable.compare_exchange_weak(seen, covered)) {
    }
  }

  MemoryKvStore inner;
  std::atomic<uint64_t> writes{0}, durable{0};
  static thread_local uint64_t last_write;  // the number of this thread's last write
};
thread_local uint64_t CountingKvStore::last_write = 0;

TEST(GroupCommit, EveryWaiterReturnsOnlyOnceItsWriteIsDurable) {
  CountingKvStore kv;
  GroupCommit commit(kv);
  constexpr int kThreads = 16, kEach = 150;
  std::atomic<int> early{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        WriteBatch batch;
        batch.put("k/" + std::to_string(t) + "/" + std::to_string(i), "v");
        uint64_t ticket = commit.write(batch);
        commit.wait_durable(ticket);
        if (kv.durable.load() < CountingKvStore::last_write) ++early;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(early.load(), 0) << "waiters returned before a sync covered their write";
  auto stats = commit.stats();
  EXPECT_EQ(stats.writes, uint64_t{kThreads * kEach});
  EXPECT_LT(stats.syncs, stats.writes / 2) << stats.syncs << " syncs for " << stats.writes << " writes";
  kv.inner.simulate_crash();
  size_t kept = 0;
  kv.inner.scan("k/", [&](std::string_view, std::string_view) { return ++kept, true; });
  EXPECT_EQ(kept, size_t{kThreads * kEach});
}

TEST(GroupCommit, EveryWaiterOfAFailedSyncIsRefused) {
  GatedKvStore kv;
  GroupCommit commit(kv);
  kv.set_open(false);
  kv.inner.fail_sync_number(1);
  constexpr int kWaiters = 8;
  std::vector<std::future<std::string>> outcomes;
  auto write_and_wait = [&](int i) {
    WriteBatch batch;
    batch.put("k/" + std::to_string(i), "v");
    try {
      commit.wait_durable(commit.write(batch));
      return std::string("acknowledged");
    } catch (const Error& e) {
      return e.code();
    }
  };
  outcomes.push_back(std::async(std::launch::async, write_and_wait, 0));
  ASSERT_TRUE(kv.wait_for_sync_started(1));  // the first runs the sync; the others wait for it
  for (int i = 1; i < kWaiters; ++i) outcomes.push_back(std::async(std::launch::async, write_and_wait, i));
  std::this_thread::sleep_for(50ms);
  kv.set_open(true);
  for (auto& outcome : outcomes) {
    ASSERT_EQ(outcome.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(outcome.get(), "storage_failed");
  }
  EXPECT_EQ(commit.stats().syncs, 1u);
}

}  // namespace
}  // namespace cairn
