// PeriodicJobs — runs a few maintenance jobs (signed audit checkpoints,
// delegated OCSP responder rotation) each at its own interval on one
// background thread, until stop(). A job that throws is logged and runs
// again at its next time. Stands in until the scheduler (scheduler/) owns
// background work.
// Thread-safety: add() before start(); stop() from any thread, idempotent.
// Ownership: owns its thread; the jobs' captures must outlive stop().
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn::api {

class PeriodicJobs {
 public:
  ~PeriodicJobs() { stop(); }
  void add(std::string name, std::chrono::milliseconds interval, std::function<void()> job);
  void start();
  void stop();

 private:
  struct Job {
    std::string name;
    std::chrono::milliseconds interval;
    std::function<void()> run;
    std::chrono::steady_clock::time_point due;
  };
  void loop();

  std::vector<Job> jobs_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace cairn::api
