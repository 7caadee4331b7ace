// MemoryKvStore — an in-memory KeyValueStore for unit tests and fault
// injection. Not for production: nothing survives the process.
//
// Fault injection:
//  - fail_write_number(n): the n-th write() from now throws storage_error and
//    applies nothing (a failed batch leaves no trace).
//  - fail_sync_number(n): the n-th sync() from now throws storage_error and
//    makes nothing durable.
//  - delay_syncs(d): every sync() from now takes at least d (a slow disk).
//  - simulate_crash(): forgets every write that was made with
//    Durability::NoSync after the last synced write, as a power loss would,
//    and every Durability::Unlogged write (which a crash may lose; this
//    store always does).
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>

#include "eventstore/kv_store.h"

namespace cairn {

class MemoryKvStore final : public KeyValueStore {
 public:
  std::optional<std::string> get(std::string_view key) const override;
  void scan(std::string_view prefix, const Visitor& visit,
            std::string_view start = {}) const override;
  void write(const WriteBatch& batch, Durability durability) override;
  void sync() override;

  void fail_write_number(int n);
  void fail_sync_number(int n);
  void delay_syncs(std::chrono::milliseconds delay);
  void simulate_crash();
  size_t write_count() const;

 private:
  static void apply(std::map<std::string, std::string, std::less<>>& map,
                    const WriteBatch& batch);

  mutable std::mutex mutex_;
  std::map<std::string, std::string, std::less<>> current_;
  std::map<std::string, std::string, std::less<>> durable_;
  std::vector<WriteBatch> unsynced_;
  int fail_countdown_ = 0;
  int fail_sync_countdown_ = 0;
  std::atomic<int64_t> sync_delay_ms_{0};
  size_t writes_ = 0;
};

}  // namespace cairn
