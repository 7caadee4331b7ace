// RocksDbKvStore — the production KeyValueStore on an embedded RocksDB.
//
// Opens (creating if needed) the database in `path`. Writes go through
// rocksdb::WriteBatch, so a batch is atomic; Durability::Sync sets
// WriteOptions::sync (fsync of the WAL before returning); Durability::Unlogged
// sets WriteOptions::disableWAL: such a write reaches disk only when its
// memtable is flushed (when full, or when the database is closed: the
// options keep avoid_flush_during_shutdown false for that).
// open_read_only() opens an existing database without writing (auditors).
// Thread-safety: all methods may be called concurrently.
// Ownership: owns the rocksdb::DB handle; rocksdb headers stay in the .cpp.
#pragma once

#include <memory>
#include <string>

#include "eventstore/kv_store.h"

namespace cairn {

class RocksDbKvStore final : public KeyValueStore {
 public:
  static std::unique_ptr<RocksDbKvStore> open(const std::string& path);
  static std::unique_ptr<RocksDbKvStore> open_read_only(const std::string& path);
  ~RocksDbKvStore() override;

  std::optional<std::string> get(std::string_view key) const override;
  bool read(std::string_view key, const std::function<void(std::string_view value)>& visit) const override;
  void scan(std::string_view prefix, const Visitor& visit,
            std::string_view start = {}) const override;
  void write(const WriteBatch& batch, Durability durability) override;
  void sync() override;  // rocksdb::DB::SyncWAL()
  // Writes the memtables to table files (large values to blob files) and
  // waits for it; RocksDB otherwise does this in the background when a
  // memtable is full. For tests and maintenance.
  void flush();

 private:
  struct Impl;
  explicit RocksDbKvStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn
