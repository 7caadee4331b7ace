#include "eventstore/group_commit.h"

#include <spdlog/spdlog.h>

#include "eventstore/error.h"
#include "eventstore/wake_up.h"

namespace cairn {
namespace {

[[noreturn]] void throw_failed() {
  throw Error(ErrorKind::Unavailable, "storage_failed",
              "storage could not make a write durable; changes are refused until the server restarts");
}

}  // namespace

uint64_t GroupCommit::write(const WriteBatch& batch) {
  check_healthy();
  kv_.write(batch, Durability::NoSync);
  // The ticket is taken after the write completed: a sync that starts later
  // covers it, whatever order concurrent writers reach this line in.
  return written_.fetch_add(1) + 1;
}

// A thread in wait_durable() asleep until a sync decides for it.
struct GroupCommit::Waiter {
  enum Outcome { kAsleep, kDurable, kLook };  // kLook: sync next, or see the failure
  uint64_t ticket = 0;
  WakeUp<Outcome> woken{kAsleep};
};

void GroupCommit::wait_durable(uint64_t ticket) {
  if (durable_.load() >= ticket) return;  // a reader's usual case
  std::unique_lock lock(mutex_);
  for (;;) {
    if (durable_ >= ticket) return;
    if (failed_) throw_failed();
    if (!syncing_) {
      sync_and_wake(lock);
      continue;
    }
    Waiter me;
    me.ticket = ticket;
    waiters_.push_back(&me);  // removed by the sync that wakes it
    lock.unlock();
    if (me.woken.sleep() == Waiter::kDurable) return;
    lock.lock();
  }
}

void GroupCommit::sync_and_wake(std::unique_lock<std::mutex>& lock) {
  syncing_ = true;
  uint64_t target = written_;
  lock.unlock();
  bool ok = true;
  try {
    kv_.sync();
  } catch (const std::exception& e) {
    spdlog::critical("storage sync failed, refusing further changes: {}", e.what());
    ok = false;
  } catch (...) {
    spdlog::critical("storage sync failed, refusing further changes");
    ok = false;
  }
  lock.lock();
  syncing_ = false;
  ++syncs_;
  if (ok) durable_ = std::max(durable_.load(), target);
  else failed_ = true;
  // Waiters whose writes came after `target` stay asleep but one: it runs
  // the next sync, which covers them all (their writes are complete). After
  // a failure all wake, to throw. Woken under mutex_ (a waiter never takes
  // it while holding its own), so that nothing here allocates or throws.
  bool next_chosen = false;
  std::erase_if(waiters_, [&](Waiter* w) {
    if (!failed_ && w->ticket <= durable_) {
      w->woken.wake(Waiter::kDurable);
    } else if (failed_ || !next_chosen) {
      w->woken.wake(Waiter::kLook);
      next_chosen = true;
    } else {
      return false;
    }
    return true;
  });
}

void GroupCommit::check_healthy() const {
  if (failed_) throw_failed();
}

GroupCommit::Stats GroupCommit::stats() const {
  std::lock_guard lock(mutex_);
  return {written_.load(), syncs_};
}

}  // namespace cairn
