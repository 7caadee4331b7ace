// FairMutex hands the lock to waiters in the order they arrived, and is a
// mutex (no two holders).
#include "eventstore/fair_mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace cairn {
namespace {

// Waits (bounded) until `n` threads are queued on `m`.
bool wait_for_waiters(const FairMutex& m, size_t n) {
  for (int i = 0; i < 5000; ++i) {
    if (m.waiting() == n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

TEST(FairMutex, WaitersGetTheLockInArrivalOrder) {
  FairMutex m;
  std::vector<int> order;  // written under m
  std::atomic<bool> release{false};
  m.lock();
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      std::lock_guard guard(m);
      order.push_back(i);
      while (i == 0 && !release) std::this_thread::yield();  // the first keeps it until told
    });
    ASSERT_TRUE(wait_for_waiters(m, static_cast<size_t>(i + 1))) << "thread " << i << " never queued";
  }
  // The releasing thread cannot take it back ahead of the queue (a
  // std::mutex would let it: it is free for an instant).
  m.unlock();
  EXPECT_FALSE(m.try_lock());
  release = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(m.waiting(), 0u);
}

TEST(FairMutex, TryLockFailsWhileHeldOrQueued) {
  FairMutex m;
  ASSERT_TRUE(m.try_lock());
  EXPECT_FALSE(m.try_lock());
  std::thread waiter([&] {
    std::lock_guard guard(m);
  });
  ASSERT_TRUE(wait_for_waiters(m, 1));
  m.unlock();  // handed to the waiter, not freed
  waiter.join();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

TEST(FairMutex, IsMutuallyExclusiveUnderContention) {
  FairMutex m;
  long counter = 0;  // not atomic: only correct if the lock excludes
  int inside = 0;
  bool overlap = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        std::lock_guard guard(m);
        overlap = overlap || ++inside != 1;
        ++counter;
        --inside;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_FALSE(overlap);
  EXPECT_EQ(counter, 8 * 2000);
}

}  // namespace
}  // namespace cairn
