#include "scheduler/scheduler.h"

// Boost 1.74 Asio with GCC 12 in C++20 needs <utility> first (std::exchange).
#include <utility>
#include <boost/asio.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace cairn {

struct Scheduler::Loop {
  boost::asio::io_context io;
  boost::asio::steady_timer timer{io};
  std::unique_ptr<boost::asio::thread_pool> pool;
  std::thread thread;
  std::atomic<bool> stopping{false};
};

Scheduler::Scheduler(TaskQueue& queue, StatusStore& status, Metrics& metrics, const Clock& clock,
                     SchedulerConfig config)
    : queue_(queue), status_(status), metrics_(metrics), clock_(clock), config_(config) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::on(const std::string& kind, Handler handler) { handlers_[kind] = std::move(handler); }

int64_t Scheduler::retry_delay_ms(int attempts) {
  int64_t delay = config_.retry_base_ms;
  for (int i = 1; i < attempts && delay < config_.retry_cap_ms; ++i) delay *= 2;
  delay = std::min(delay, config_.retry_cap_ms);
  std::lock_guard lock(random_mutex_);
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(delay) * jitter(random_)));
}

void Scheduler::run_one(const ClaimedTask& c) {
  const Task& t = c.task;
  const std::string target = t.target.empty() ? t.kind : t.target;
  const std::string kind_label = "kind=\"" + t.kind + "\"";
  int64_t started = clock_.now_ms();
  auto it = handlers_.find(t.kind);
  if (it == handlers_.end()) {
    spdlog::warn("task {}: no handler for this kind; dropped", t.id());
    queue_.succeeded(c);
    return;
  }
  try {
    std::optional<int64_t> next = it->second(t);
    if (next)
      queue_.succeeded_until(c, *next);
    else
      queue_.succeeded(c);
    status_.record(t.ca, target, started, "", next.value_or(0));
    metrics_.add("cairn_tasks_total", kind_label + ",outcome=\"ok\"");
    if (t.attempts > 0) spdlog::info("task {} succeeded after {} failed attempt(s)", t.id(), t.attempts);
  } catch (const std::exception& e) {
    int64_t retry_at = clock_.now_ms() + retry_delay_ms(t.attempts + 1);
    std::string error = e.what();
    try {
      queue_.failed(c, error, retry_at);
      status_.record(t.ca, target, started, error, retry_at);
    } catch (const std::exception& storage) {
      spdlog::error("task {}: cannot record the failure: {}", t.id(), storage.what());
    }
    metrics_.add("cairn_tasks_total", kind_label + ",outcome=\"error\"");
    spdlog::warn("task {} failed (attempt {}), retry in {} ms: {}", t.id(), t.attempts + 1,
                 retry_at - clock_.now_ms(), error);
  }
}

size_t Scheduler::run_due() {
  auto claimed = queue_.claim_due(clock_.now_ms());
  for (const auto& c : claimed) run_one(c);
  return claimed.size();
}

void Scheduler::start() {
  std::lock_guard lock(loop_mutex_);
  if (loop_) return;
  loop_ = std::make_unique<Loop>();
  loop_->pool = std::make_unique<boost::asio::thread_pool>(static_cast<size_t>(std::max(1, config_.threads)));
  auto* loop = loop_.get();
  boost::asio::post(loop->io, [this] { plan(); });
  loop->thread = std::thread([loop] {
    auto guard = boost::asio::make_work_guard(loop->io);
    loop->io.run();
  });
}

// One planning step, on the io thread: hand the due tasks to the pool, then
// sleep until the next one is due (at most idle_ms: the clock may jump).
void Scheduler::plan() {
  Loop* loop = loop_.get();
  if (!loop || loop->stopping) return;
  for (auto& c : queue_.claim_due(clock_.now_ms()))
    boost::asio::post(*loop->pool, [this, c] {
      run_one(c);
      notify();
    });
  int64_t wait = config_.idle_ms;
  if (auto next = queue_.next_due()) wait = std::clamp<int64_t>(*next - clock_.now_ms(), 0, config_.idle_ms);
  loop->timer.expires_after(std::chrono::milliseconds(wait));
  loop->timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) plan();
  });
}

void Scheduler::notify() {
  // Under loop_mutex_ so that stop() cannot free the io_context while a
  // post is on its way (a command's listener may notify during shutdown).
  std::lock_guard lock(loop_mutex_);
  Loop* loop = loop_.get();
  if (!loop || loop->stopping) return;
  boost::asio::post(loop->io, [this, loop] {
    loop->timer.cancel();  // the pending wait ends with operation_aborted and does nothing
    plan();
  });
}

void Scheduler::stop() {
  Loop* loop = nullptr;
  {
    std::lock_guard lock(loop_mutex_);
    if (!loop_) return;
    loop = loop_.get();
    loop->stopping = true;
  }
  loop->io.stop();
  if (loop->thread.joinable()) loop->thread.join();
  loop->pool->stop();  // tasks not started stay queued in storage for the next start
  loop->pool->join();
  std::lock_guard lock(loop_mutex_);
  loop_.reset();
}

}  // namespace cairn
