#include "eventstore/group_commit.h"

#include <spdlog/spdlog.h>

#include "eventstore/error.h"

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
  std::lock_guard lock(mutex_);
  // The ticket is taken after the write completed: a sync that starts later
  // covers it, whatever order concurrent writers reach this line in.
  return ++written_;
}

void GroupCommit::wait_durable(uint64_t ticket) {
  std::unique_lock lock(mutex_);
  while (durable_ < ticket) {
    if (failed_) throw_failed();
    if (syncing_) {
      synced_.wait(lock);
      continue;
    }
    syncing_ = true;
    uint64_t target = written_;
    lock.unlock();
    bool ok = true;
    try {
      kv_.sync();
    } catch (const std::exception& e) {
      spdlog::critical("storage sync failed, refusing further changes: {}", e.what());
      ok = false;
    }
    lock.lock();
    syncing_ = false;
    ++syncs_;
    if (ok) durable_ = std::max(durable_, target);
    else failed_ = true;
    synced_.notify_all();
  }
}

void GroupCommit::check_healthy() const {
  std::lock_guard lock(mutex_);
  if (failed_) throw_failed();
}

GroupCommit::Stats GroupCommit::stats() const {
  std::lock_guard lock(mutex_);
  return {written_, syncs_};
}

}  // namespace cairn
