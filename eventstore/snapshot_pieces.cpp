#include "eventstore/snapshot_pieces.h"

#include <charconv>
#include <cstdio>
#include <cstring>

#include "eventstore/error.h"
#include "eventstore/records.h"

namespace cairn {
namespace {

// "<version:020>.<number:010>": fixed width, so keys sort by version.
std::string piece_name(uint64_t version, uint32_t number) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%020llu.%010u", static_cast<unsigned long long>(version), number);
  return buf;
}

std::string marker_key(std::string_view aggregate_prefix, std::string_view name) {
  return std::string(aggregate_prefix) + "q/" + std::string(name);
}

std::string data_key(std::string_view aggregate_prefix, std::string_view name) {
  return std::string(aggregate_prefix) + "p/" + std::string(name);
}

[[noreturn]] void incomplete(const SnapshotPieceRef& piece, const char* what) {
  throw Error(ErrorKind::Internal, "snapshot_incomplete",
              "snapshot piece " + piece_name(piece.written_by, piece.number) + " " + what);
}

}  // namespace

std::string snapshot_piece_key(std::string_view aggregate_prefix, const SnapshotPieceRef& piece) {
  return data_key(aggregate_prefix, piece_name(piece.written_by, piece.number));
}

SnapshotPieceWriter::SnapshotPieceWriter(std::string aggregate_prefix, uint64_t version)
    : prefix_(std::move(aggregate_prefix)), version_(version) {}

SnapshotPieceRef SnapshotPieceWriter::add(std::string bytes) {
  SnapshotPieceRef ref;
  ref.written_by = version_;
  ref.number = next_++;
  ref.length = bytes.size();
  const std::string digest = sha256(bytes);
  std::memcpy(ref.sha256.data(), digest.data(), ref.sha256.size());
  const std::string name = piece_name(ref.written_by, ref.number);
  std::string key = data_key(prefix_, name);
  named_.insert(key);
  batch_.put(std::move(key), std::move(bytes));
  batch_.put(marker_key(prefix_, name), {});
  return ref;
}

void SnapshotPieceWriter::keep(const SnapshotPieceRef& piece) { named_.insert(snapshot_piece_key(prefix_, piece)); }

size_t erase_unnamed_pieces(const KeyValueStore& kv, std::string_view aggregate_prefix, uint64_t version,
                            const std::set<std::string>& named, WriteBatch& batch) {
  const std::string markers = std::string(aggregate_prefix) + "q/";
  size_t stored = 0;
  kv.scan(markers, [&](std::string_view key, std::string_view) {
    std::string_view name = key.substr(markers.size());
    uint64_t written_by = 0;
    auto parsed = std::from_chars(name.data(), name.data() + name.size(), written_by);
    if (parsed.ec != std::errc() || written_by > version) return false;  // sorted: the rest are later
    std::string data = data_key(aggregate_prefix, name);
    if (named.contains(data)) {
      ++stored;
    } else {
      batch.erase(std::move(data));
      batch.erase(std::string(key));
    }
    return true;
  });
  return stored;
}

KvSnapshotPieceSource::KvSnapshotPieceSource(const KeyValueStore& kv, std::string aggregate_prefix)
    : kv_(kv), prefix_(std::move(aggregate_prefix)) {}

void KvSnapshotPieceSource::read(const SnapshotPieceRef& piece,
                                 const std::function<void(std::string_view)>& visit) const {
  bool found = kv_.read(snapshot_piece_key(prefix_, piece), [&](std::string_view bytes) {
    if (bytes.size() != piece.length) incomplete(piece, "has another length");
    const std::string digest = sha256(bytes);
    if (std::memcmp(digest.data(), piece.sha256.data(), piece.sha256.size()) != 0)
      incomplete(piece, "has another digest");
    visit(bytes);
  });
  if (!found) incomplete(piece, "is missing");
}

}  // namespace cairn
