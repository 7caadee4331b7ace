// FairMutex — a mutex that is handed to waiters in arrival order.
//
// std::mutex lets a thread that just released the lock take it again
// before any waiter wakes, so under contention some commands wait many
// turns (a long latency tail). Here unlock() hands the lock to the thread
// that has waited longest; a thread arriving at a free lock with nobody
// waiting takes it at once. Meets the standard Lockable requirements
// (std::lock_guard, std::unique_lock).
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace cairn {

class FairMutex {
 public:
  void lock() {
    std::unique_lock guard(mutex_);
    if (!held_ && waiters_.empty()) {
      held_ = true;
      return;
    }
    Waiter me;
    waiters_.push_back(&me);
    me.turn.wait(guard, [&] { return me.granted; });
  }

  bool try_lock() {
    std::lock_guard guard(mutex_);
    if (held_ || !waiters_.empty()) return false;
    held_ = true;
    return true;
  }

  // Threads queued behind the holder (for tests).
  size_t waiting() const {
    std::lock_guard guard(mutex_);
    return waiters_.size();
  }

  void unlock() {
    std::lock_guard guard(mutex_);
    if (waiters_.empty()) {
      held_ = false;
      return;
    }
    Waiter* next = waiters_.front();
    waiters_.pop_front();
    next->granted = true;  // stays held: handed over
    next->turn.notify_one();
  }

 private:
  struct Waiter {
    std::condition_variable turn;
    bool granted = false;
  };
  mutable std::mutex mutex_;
  bool held_ = false;
  std::deque<Waiter*> waiters_;
};

}  // namespace cairn
