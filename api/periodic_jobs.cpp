#include "api/periodic_jobs.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace cairn::api {

void PeriodicJobs::add(std::string name, std::chrono::milliseconds interval, std::function<void()> job) {
  jobs_.push_back(Job{std::move(name), interval, std::move(job), {}});
}

void PeriodicJobs::start() {
  if (jobs_.empty() || thread_.joinable()) return;
  auto now = std::chrono::steady_clock::now();
  for (auto& job : jobs_) job.due = now + job.interval;
  thread_ = std::thread([this] { loop(); });
}

void PeriodicJobs::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void PeriodicJobs::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    auto next = std::min_element(jobs_.begin(), jobs_.end(),
                                 [](const Job& a, const Job& b) { return a.due < b.due; });
    if (cv_.wait_until(lock, next->due, [this] { return stopping_; })) return;
    if (std::chrono::steady_clock::now() < next->due) continue;
    lock.unlock();
    try {
      next->run();
    } catch (const std::exception& e) {
      spdlog::error("periodic job '{}' failed: {}", next->name, e.what());
    }
    lock.lock();
    next->due = std::chrono::steady_clock::now() + next->interval;
  }
}

}  // namespace cairn::api
