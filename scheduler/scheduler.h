// Scheduler — runs the TaskQueue's due tasks: on a Boost.Asio io_context
// thread that sleeps until the next due task (or notify()), with the work
// itself on a small pool of worker threads, so a slow repository never
// delays the others. A handler returns the next due time for periodic work
// (or nothing: done) and throws to fail; a failed task is retried after
// retry_base * 2^(attempts-1), capped at retry_cap, times a random factor in
// [0.5, 1] so that many retries do not fire together. Each attempt is
// recorded in the StatusStore and counted in Metrics. Handlers do their I/O
// without holding any CA lock (they read what they need first).
// Time comes from the Clock: run_due() runs what is due now on the calling
// thread, which is how tests drive it with a ManualClock.
// Thread-safety: all methods may be called concurrently; on() before start().
// Ownership: borrows the queue, status store, metrics and clock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "scheduler/metrics.h"
#include "scheduler/status_store.h"
#include "scheduler/task_queue.h"

namespace cairn {

struct SchedulerConfig {
  int threads = 2;
  int64_t retry_base_ms = 5'000;
  int64_t retry_cap_ms = 3'600'000;
  int64_t idle_ms = 60'000;  // longest sleep without a due task
  // Rotation notices for registered services (rotation_notices.h).
  std::vector<int> notice_days = {30, 7, 1};
  int notice_max_retries = 5;
  int64_t service_check_ms = 3'600'000;
};

class Scheduler {
 public:
  using Handler = std::function<std::optional<int64_t>(const Task&)>;

  Scheduler(TaskQueue& queue, StatusStore& status, Metrics& metrics, const Clock& clock, SchedulerConfig config);
  ~Scheduler();

  void on(const std::string& kind, Handler handler);
  size_t run_due();  // runs every due task on this thread; returns how many ran
  void start();
  void stop();       // waits for running tasks
  void notify();     // the queue changed: plan again

  // The delay before the retry after `attempts` failures (with jitter).
  int64_t retry_delay_ms(int attempts);

 private:
  struct Loop;
  void run_one(const ClaimedTask& c);
  void plan();

  TaskQueue& queue_;
  StatusStore& status_;
  Metrics& metrics_;
  const Clock& clock_;
  SchedulerConfig config_;
  std::map<std::string, Handler> handlers_;
  std::mutex random_mutex_;
  std::mt19937_64 random_{std::random_device{}()};
  std::mutex loop_mutex_;  // guards loop_ against notify() during stop()
  std::unique_ptr<Loop> loop_;
};

}  // namespace cairn
