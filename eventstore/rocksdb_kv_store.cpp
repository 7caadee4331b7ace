#include "eventstore/rocksdb_kv_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/write_batch.h>

#include "eventstore/error.h"

namespace cairn {

struct RocksDbKvStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
  bool read_only = false;
};

namespace {

constexpr int kMaxOpenTableFiles = 512;

[[noreturn]] void fail(const char* what, const rocksdb::Status& s) {
  throw Error(ErrorKind::Unavailable, "storage_error",
              std::string(what) + ": " + s.ToString());
}

rocksdb::Options make_options(bool create) {
  rocksdb::Options options;
  options.create_if_missing = create;
  options.paranoid_checks = true;
  options.IncreaseParallelism(2);
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_size = 16 << 10;  // events are read in long runs (replay, audit)
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Large values (a big CA's snapshot, a CRL of a million entries) go to
  // blob files: read with one pread, not as one huge compressed block, and
  // not rewritten by every compaction. Overwritten ones are collected.
  options.enable_blob_files = true;
  options.min_blob_size = 256 << 10;
  options.enable_blob_garbage_collection = true;
  // Events are mostly DER, which hardly compresses: LZ4 costs the least to
  // read back (a replay decompresses every block once).
  options.compression = rocksdb::kLZ4Compression;
  // Unlogged writes (snapshots) reach disk only by a flush: a clean close
  // must flush them (the default, stated here because it matters).
  options.avoid_flush_during_shutdown = false;
  // Open files: the server keeps 1,024 descriptors for everything but its
  // listeners' connections (api/listening.h). RocksDB would otherwise keep
  // every table file open (-1), and a database grown to thousands of files
  // would use up that reserve and then fail writes; with a bound its table
  // cache closes the least recently used file instead.
  options.max_open_files = kMaxOpenTableFiles;
  return options;
}

}  // namespace

RocksDbKvStore::RocksDbKvStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksDbKvStore::~RocksDbKvStore() = default;

std::unique_ptr<RocksDbKvStore> RocksDbKvStore::open(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(make_options(true), path, &raw);
  if (!s.ok()) fail("cannot open database", s);
  auto impl = std::make_unique<Impl>();
  impl->db.reset(raw);
  return std::unique_ptr<RocksDbKvStore>(new RocksDbKvStore(std::move(impl)));
}

std::unique_ptr<RocksDbKvStore> RocksDbKvStore::open_read_only(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::OpenForReadOnly(make_options(false), path, &raw);
  if (!s.ok()) fail("cannot open database read-only", s);
  auto impl = std::make_unique<Impl>();
  impl->db.reset(raw);
  impl->read_only = true;
  return std::unique_ptr<RocksDbKvStore>(new RocksDbKvStore(std::move(impl)));
}

std::optional<std::string> RocksDbKvStore::get(std::string_view key) const {
  std::string value;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) fail("read failed", s);
  return value;
}

bool RocksDbKvStore::read(std::string_view key, const std::function<void(std::string_view value)>& visit) const {
  rocksdb::PinnableSlice value;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->db->DefaultColumnFamily(),
                          rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) fail("read failed", s);
  visit(std::string_view(value.data(), value.size()));
  return true;
}

void RocksDbKvStore::scan(std::string_view prefix, const Visitor& visit,
                          std::string_view start) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a replay or an audit reads everything once
  // Stop at the end of the prefix instead of reading past it.
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  rocksdb::Slice upper;
  if (!end.empty()) {
    end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
    upper = rocksdb::Slice(end);
    ro.iterate_upper_bound = &upper;
  }
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro));
  std::string_view from = start.empty() || start < prefix ? prefix : start;
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid(); it->Next()) {
    auto k = it->key();
    std::string_view key(k.data(), k.size());
    if (!key.starts_with(prefix)) break;
    auto v = it->value();
    if (!visit(key, std::string_view(v.data(), v.size()))) return;
  }
  if (!it->status().ok()) fail("scan failed", it->status());
}

void RocksDbKvStore::write(const WriteBatch& batch, Durability durability) {
  if (impl_->read_only)
    throw Error(ErrorKind::Internal, "storage_read_only", "database is open read-only");
  // Reserved at its final size (about: RocksDB adds a few bytes per entry),
  // so a large value (a CRL of 53 MB) is not copied again as it grows.
  size_t bytes = 12;
  for (const auto& op : batch.ops()) bytes += op.key.size() + op.value.size() + 11;
  rocksdb::WriteBatch wb(bytes);
  for (const auto& op : batch.ops()) {
    if (op.kind == WriteBatch::Op::Kind::Put)
      wb.Put(op.key, op.value);
    else
      wb.Delete(op.key);
  }
  rocksdb::WriteOptions wo;
  wo.sync = durability == Durability::Sync;
  wo.disableWAL = durability == Durability::Unlogged;
  auto s = impl_->db->Write(wo, &wb);
  if (!s.ok()) fail("write failed", s);
}

void RocksDbKvStore::flush() {
  if (impl_->read_only) return;
  rocksdb::FlushOptions options;
  options.wait = true;
  auto s = impl_->db->Flush(options);
  if (!s.ok()) fail("flush failed", s);
}

void RocksDbKvStore::sync() {
  if (impl_->read_only) return;
  auto s = impl_->db->SyncWAL();
  if (!s.ok()) fail("WAL sync failed", s);
}

}  // namespace cairn
