// KeyValueStore — the only seam between cairn and its storage.
//
// Ordered byte-string keys. Reads see every completed write. A WriteBatch is
// applied atomically: after a crash either all of it is visible or none.
// With Durability::Sync the call returns only once the batch is on stable
// storage; sync() makes earlier NoSync writes durable (see GroupCommit).
// Durability::Unlogged is for what can be rebuilt (snapshots): the batch
// skips the write-ahead log, so neither sync() nor a later Sync write makes
// it durable, and a crash may or may not keep it.
// Implementations: RocksDbKvStore (production) and MemoryKvStore
// (unit tests, fault injection).
// Thread-safety: all methods may be called concurrently.
// Errors: storage failures throw cairn::Error{Unavailable, "storage_error"}.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

enum class Durability { Sync, NoSync, Unlogged };

class WriteBatch {
 public:
  struct Op {
    enum class Kind { Put, Delete } kind;
    std::string key;
    std::string value;
  };

  void put(std::string key, std::string value) {
    ops_.push_back({Op::Kind::Put, std::move(key), std::move(value)});
  }
  void erase(std::string key) { ops_.push_back({Op::Kind::Delete, std::move(key), {}}); }
  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }

 private:
  std::vector<Op> ops_;
};

class KeyValueStore {
 public:
  // Return false from the visitor to stop the scan early.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;

  virtual ~KeyValueStore() = default;

  virtual std::optional<std::string> get(std::string_view key) const = 0;
  // Calls visit(value) if `key` exists and returns whether it did; the value
  // is lent, in place where the store can (large values: no copy).
  virtual bool read(std::string_view key, const std::function<void(std::string_view value)>& visit) const {
    auto value = get(key);
    if (value) visit(*value);
    return value.has_value();
  }

  // Visits keys that start with `prefix`, in ascending order, beginning at
  // the first key >= `start` (or at `prefix` when start is empty).
  virtual void scan(std::string_view prefix, const Visitor& visit,
                    std::string_view start = {}) const = 0;

  virtual void write(const WriteBatch& batch, Durability durability) = 0;

  // Makes every write that completed before the call durable (a WAL sync).
  virtual void sync() = 0;
};

}  // namespace cairn
