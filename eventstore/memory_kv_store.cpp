#include "eventstore/memory_kv_store.h"

#include <thread>

#include "eventstore/error.h"

namespace cairn {

std::optional<std::string> MemoryKvStore::get(std::string_view key) const {
  std::lock_guard lock(mutex_);
  auto it = current_.find(key);
  if (it == current_.end()) return std::nullopt;
  return it->second;
}

void MemoryKvStore::scan(std::string_view prefix, const Visitor& visit,
                         std::string_view start) const {
  // Copy the matching range first so a visitor may call back into the store.
  std::vector<std::pair<std::string, std::string>> items;
  {
    std::lock_guard lock(mutex_);
    auto it = current_.lower_bound(start.empty() || start < prefix ? prefix : start);
    for (; it != current_.end() && std::string_view(it->first).starts_with(prefix); ++it)
      items.emplace_back(it->first, it->second);
  }
  for (const auto& [k, v] : items)
    if (!visit(k, v)) return;
}

void MemoryKvStore::apply(std::map<std::string, std::string, std::less<>>& map,
                          const WriteBatch& batch) {
  for (const auto& op : batch.ops()) {
    if (op.kind == WriteBatch::Op::Kind::Put)
      map[op.key] = op.value;
    else
      map.erase(op.key);
  }
}

void MemoryKvStore::write(const WriteBatch& batch, Durability durability) {
  std::lock_guard lock(mutex_);
  ++writes_;
  if (fail_countdown_ > 0 && --fail_countdown_ == 0)
    throw Error(ErrorKind::Unavailable, "storage_error", "injected write failure");
  apply(current_, batch);
  if (durability == Durability::Unlogged) return;  // no log: nothing makes it durable
  if (durability == Durability::Sync) {
    // A synced write makes everything before it durable too, as a WAL does.
    for (const auto& pending : unsynced_) apply(durable_, pending);
    unsynced_.clear();
    apply(durable_, batch);
  } else {
    unsynced_.push_back(batch);
  }
}

void MemoryKvStore::sync() {
  if (int64_t delay = sync_delay_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  std::lock_guard lock(mutex_);
  if (fail_sync_countdown_ > 0 && --fail_sync_countdown_ == 0)
    throw Error(ErrorKind::Unavailable, "storage_error", "injected sync failure");
  for (const auto& pending : unsynced_) apply(durable_, pending);
  unsynced_.clear();
}

void MemoryKvStore::delay_syncs(std::chrono::milliseconds delay) { sync_delay_ms_ = delay.count(); }

void MemoryKvStore::fail_sync_number(int n) {
  std::lock_guard lock(mutex_);
  fail_sync_countdown_ = n;
}

void MemoryKvStore::fail_write_number(int n) {
  std::lock_guard lock(mutex_);
  fail_countdown_ = n;
}

void MemoryKvStore::simulate_crash() {
  std::lock_guard lock(mutex_);
  unsynced_.clear();
  current_ = durable_;
}

size_t MemoryKvStore::write_count() const {
  std::lock_guard lock(mutex_);
  return writes_;
}

}  // namespace cairn
