#include "scheduler/task_queue.h"

#include <nlohmann/json.hpp>

#include "eventstore/error.h"

namespace cairn {
namespace {

constexpr const char* kPrefix = "task/";

std::string encode(const Task& t) {
  return nlohmann::json{{"v", 1},
                        {"kind", t.kind},
                        {"ca", t.ca},
                        {"target", t.target},
                        {"due_ms", t.due_ms},
                        {"attempts", t.attempts},
                        {"last_error", t.last_error},
                        {"created_ms", t.created_ms}}
      .dump();
}

Task decode(std::string_view bytes) {
  try {
    auto j = nlohmann::json::parse(bytes);
    Task t;
    t.kind = j.at("kind").get<std::string>();
    t.ca = j.at("ca").get<std::string>();
    t.target = j.at("target").get<std::string>();
    t.due_ms = j.at("due_ms").get<int64_t>();
    t.attempts = j.at("attempts").get<int>();
    t.last_error = j.at("last_error").get<std::string>();
    t.created_ms = j.at("created_ms").get<int64_t>();
    return t;
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Internal, "corrupt_record", std::string("cannot decode a task: ") + e.what());
  }
}

}  // namespace

TaskQueue::TaskQueue(KeyValueStore& kv, const Clock& clock) : kv_(kv), clock_(clock) {
  kv_.scan(kPrefix, [&](std::string_view, std::string_view value) {
    Task t = decode(value);
    tasks_[t.id()] = Entry{t, 0};
    return true;
  });
}

void TaskQueue::persist(const Task& t) {
  WriteBatch b;
  b.put(kPrefix + t.id(), encode(t));
  kv_.write(b, Durability::Sync);
}

void TaskQueue::request(const std::string& kind, const std::string& ca, const std::string& target) {
  std::lock_guard lock(mutex_);
  int64_t now = clock_.now_ms();
  Task t{kind, ca, target, now, 0, "", now};
  auto it = tasks_.find(t.id());
  if (it != tasks_.end()) {
    ++it->second.requests;
    Task& existing = it->second.task;
    if (existing.attempts > 0 || existing.due_ms <= now) return;  // retry pending, or already due
    existing.due_ms = now;
    persist(existing);
    return;
  }
  persist(t);
  tasks_[t.id()] = Entry{t, 1};
}

void TaskQueue::schedule_at(const std::string& kind, const std::string& ca, const std::string& target,
                            int64_t due_ms) {
  std::lock_guard lock(mutex_);
  int64_t now = clock_.now_ms();
  Task t{kind, ca, target, due_ms, 0, "", now};
  auto it = tasks_.find(t.id());
  if (it != tasks_.end()) {
    if (it->second.task.due_ms == due_ms) return;
    it->second.task.due_ms = due_ms;
    persist(it->second.task);
    return;
  }
  persist(t);
  tasks_[t.id()] = Entry{t, 0};
}

std::vector<ClaimedTask> TaskQueue::claim_due(int64_t now_ms) {
  std::lock_guard lock(mutex_);
  std::vector<ClaimedTask> out;
  for (auto& [id, e] : tasks_) {
    if (e.task.due_ms > now_ms || running_.count(id)) continue;
    running_.insert(id);
    out.push_back(ClaimedTask{e.task, e.requests});
  }
  return out;
}

void TaskQueue::release(const ClaimedTask& c) { running_.erase(c.task.id()); }

void TaskQueue::succeeded(const ClaimedTask& c) {
  std::lock_guard lock(mutex_);
  release(c);
  auto it = tasks_.find(c.task.id());
  if (it == tasks_.end()) return;
  if (it->second.requests != c.requests) {  // asked for again while it ran: run once more
    it->second.task.attempts = 0;
    it->second.task.last_error.clear();
    it->second.task.due_ms = clock_.now_ms();
    persist(it->second.task);
    return;
  }
  WriteBatch b;
  b.erase(kPrefix + c.task.id());
  kv_.write(b, Durability::Sync);
  tasks_.erase(it);
}

void TaskQueue::succeeded_until(const ClaimedTask& c, int64_t next_due_ms) {
  std::lock_guard lock(mutex_);
  release(c);
  auto it = tasks_.find(c.task.id());
  if (it == tasks_.end()) return;
  Task& t = it->second.task;
  t.attempts = 0;
  t.last_error.clear();
  t.due_ms = it->second.requests != c.requests ? std::min(next_due_ms, clock_.now_ms()) : next_due_ms;
  persist(t);
}

void TaskQueue::failed(const ClaimedTask& c, const std::string& error, int64_t retry_at_ms) {
  std::lock_guard lock(mutex_);
  release(c);
  auto it = tasks_.find(c.task.id());
  if (it == tasks_.end()) return;
  Task& t = it->second.task;
  ++t.attempts;
  t.last_error = error;
  t.due_ms = retry_at_ms;
  persist(t);
}

std::vector<Task> TaskQueue::list() const {
  std::lock_guard lock(mutex_);
  std::vector<Task> out;
  for (const auto& [id, e] : tasks_) out.push_back(e.task);
  return out;
}

std::optional<Task> TaskQueue::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return std::nullopt;
  return it->second.task;
}

std::optional<int64_t> TaskQueue::next_due() const {
  std::lock_guard lock(mutex_);
  std::optional<int64_t> next;
  for (const auto& [id, e] : tasks_)
    if (!running_.count(id) && (!next || e.task.due_ms < *next)) next = e.task.due_ms;
  return next;
}

size_t TaskQueue::running() const {
  std::lock_guard lock(mutex_);
  return running_.size();
}

}  // namespace cairn
