// GroupCommit — many writes made durable by one sync (group commit).
//
// write() appends a batch without waiting for stable storage and returns a
// ticket; wait_durable(ticket) returns once that batch is durable. The first
// waiter whose batch is not yet durable syncs the store for every write
// completed before the sync began; writers arriving meanwhile wait for the
// next sync, which then covers all of them. So concurrent commands, on one CA
// or many, share fsyncs, and nobody is answered before their batch is durable.
// A failed sync is fail-stop: the batches it should have covered may or may
// not survive a crash, so every later write(), and wait_durable() for a
// batch not durable before the failure, throws Unavailable "storage_failed"
// until the process restarts and reloads what storage really holds.
// Each waiter sleeps on a wake-up of its own: a finished sync wakes only the
// waiters it covered, plus one of the others to run the next sync (which
// covers them all); the rest sleep on. (With one shared condition variable
// every waiter woke after every sync and all contended for the lock: ~5% of
// the server's CPU when issuing at concurrency 32.)
// Thread-safety: all methods may be called concurrently.
// Ownership: borrows the KeyValueStore, which must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "eventstore/kv_store.h"

namespace cairn {

class GroupCommit {
 public:
  explicit GroupCommit(KeyValueStore& kv) : kv_(kv) {}

  uint64_t write(const WriteBatch& batch);
  void wait_durable(uint64_t ticket);
  // Throws Unavailable "storage_failed" after a failed sync.
  void check_healthy() const;

  struct Stats {
    uint64_t writes = 0;
    uint64_t syncs = 0;
  };
  Stats stats() const;

 private:
  struct Waiter;
  // Runs one sync for every write completed so far, then wakes the waiters.
  // Called and returns with `lock` held; !syncing_ on entry.
  void sync_and_wake(std::unique_lock<std::mutex>& lock);

  KeyValueStore& kv_;
  mutable std::mutex mutex_;
  std::vector<Waiter*> waiters_;  // sleeping until a sync covers them or they must sync
  // Atomics, so that write(), check_healthy() and a wait for what is already
  // durable take no lock; they change only as described, durable_ and
  // failed_ under mutex_ too.
  std::atomic<uint64_t> written_{0};  // tickets handed out; each after its write completed
  std::atomic<uint64_t> durable_{0};  // every ticket <= this is on stable storage
  bool syncing_ = false;
  std::atomic<bool> failed_{false};
  uint64_t syncs_ = 0;
};

}  // namespace cairn
