// WakeUp<T> — one thread sleeps until another hands it a value, once.
// Used where many threads wait and each must be woken on its own (group
// commit's waiters, commands waiting for their turn): one shared condition
// variable woke them all, and they all contended for its lock.
// wake() sets the value and notifies under the WakeUp's own mutex, so the
// sleeper cannot return, and a WakeUp on its stack cannot go, before wake()
// has finished with it.
// Thread-safety: one sleeper and one waker at a time.
// Ownership: the sleeper owns it (typically on its stack).
#pragma once

#include <condition_variable>
#include <mutex>

namespace cairn {

template <class T>
class WakeUp {
 public:
  explicit WakeUp(T asleep) : value_(asleep), asleep_(asleep) {}
  WakeUp(const WakeUp&) = delete;
  WakeUp& operator=(const WakeUp&) = delete;

  void wake(T value) {
    std::lock_guard lock(mutex_);
    value_ = value;
    woken_.notify_one();
  }
  // Returns the value given to wake(), at once if it was already given.
  T sleep() {
    std::unique_lock lock(mutex_);
    woken_.wait(lock, [&] { return value_ != asleep_; });
    return value_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable woken_;
  T value_;
  const T asleep_;
};

}  // namespace cairn
