#include "eventstore/records.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <bit>
#include <cstring>
#include <sstream>

#include "eventstore/error.h"
#include "eventstore/portable_binary_view.h"
#include "eventstore/view_input.h"

// Record layouts are versioned with cereal class versions so that fields can
// be added later while old data keeps loading.
namespace cairn {

// Also written and read without cereal (encode_snapshot_record and
// decode_snapshot_record_view), which must follow it.
constexpr std::uint32_t kSnapshotRecordClassVersion = 1;

template <class Ar>
void serialize(Ar& ar, EventRecord& r, std::uint32_t const /*version*/) {
  ar(r.version, r.time_ms, r.command_seq, r.payload, r.hash);
}
template <class Ar>
void serialize(Ar& ar, CommandRecord& r, std::uint32_t const /*version*/) {
  ar(r.seq, r.time_ms, r.actor, r.summary, r.params_json, r.event_versions, r.ok,
     r.error_code, r.error_message, r.hash);
}
template <class Ar>
void serialize(Ar& ar, AggregateHead& r, std::uint32_t const /*version*/) {
  ar(r.version, r.command_seq, r.event_hash, r.command_hash);
}

template <class Ar>
void serialize(Ar& ar, SnapshotRecord& r, std::uint32_t const /*version*/) {
  ar(r.version, r.event_hash, r.state);
}

}  // namespace cairn

CEREAL_CLASS_VERSION(cairn::SnapshotRecord, cairn::kSnapshotRecordClassVersion)
CEREAL_CLASS_VERSION(cairn::EventRecord, 1)
CEREAL_CLASS_VERSION(cairn::CommandRecord, 1)
CEREAL_CLASS_VERSION(cairn::AggregateHead, 1)

namespace cairn {
namespace {

template <class T>
std::string encode(const T& value) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive ar(out);
    ar(value);
  }
  return std::move(out).str();
}

template <class T>
T decode(std::string_view bytes, const char* what) {
  T value;
  try {
    ViewInput in(bytes);
    cereal::PortableBinaryInputArchive ar(in.stream());
    ar(value);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Internal, "corrupt_record",
                std::string("cannot decode ") + what + ": " + e.what());
  }
  return value;
}

void put_u64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_bytes(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out.append(s);
}

}  // namespace

std::string encode_record(const EventRecord& r) { return encode(r); }
std::string encode_record(const SnapshotRecord& r) { return encode(r); }

// The layout decode_snapshot_record_view reads: cereal's portable binary
// archive (endianness byte, then little-endian integers; strings as a 64-bit
// length and the bytes) of kSnapshotRecordClassVersion. A big-endian machine
// leaves it to cereal.
std::string encode_snapshot_record(uint64_t version, std::string_view event_hash,
                                   const std::function<void(std::string&)>& write_state) {
  if constexpr (std::endian::native != std::endian::little) {
    SnapshotRecord r{version, std::string(event_hash), {}};
    write_state(r.state);
    return encode_record(r);
  }
  std::string out;
  out.push_back(1);  // little-endian archive
  portable_binary_append(out, kSnapshotRecordClassVersion);
  portable_binary_append(out, version);
  portable_binary_append(out, event_hash);
  const size_t length_at = out.size();
  portable_binary_append(out, uint64_t{0});
  write_state(out);
  const uint64_t state_size = out.size() - length_at - sizeof(uint64_t);
  std::memcpy(out.data() + length_at, &state_size, sizeof state_size);
  return out;
}
SnapshotRecord decode_snapshot_record(std::string_view b) { return decode<SnapshotRecord>(b, "snapshot"); }
std::string encode_record(const CommandRecord& r) { return encode(r); }
std::string encode_record(const AggregateHead& r) { return encode(r); }
EventRecord decode_event_record(std::string_view b) { return decode<EventRecord>(b, "event"); }

SnapshotRecordView decode_snapshot_record_view(std::string_view b) {
  PortableBinaryView in;
  SnapshotRecordView r;
  uint32_t class_version = 0;
  if (in.open(b) && in.read(class_version) && class_version == kSnapshotRecordClassVersion && in.read(r.version) &&
      in.read(r.event_hash) &&
      in.read(r.state))
    return r;
  decode<SnapshotRecord>(b, "snapshot");  // throws with cereal's own message
  throw Error(ErrorKind::Internal, "corrupt_record", "cannot decode snapshot: unexpected layout");
}

EventRecordView decode_event_record_view(std::string_view b) {
  // The layout cereal writes for EventRecord class version 1 (see serialize
  // above); anything else goes through cereal, which copies.
  PortableBinaryView in;
  EventRecordView r;
  uint32_t class_version = 0;
  if (in.open(b) && in.read(class_version) && class_version == 1 && in.read(r.version) && in.read(r.time_ms) &&
      in.read(r.command_seq) && in.read(r.payload) && in.read(r.hash))
    return r;
  decode<EventRecord>(b, "event");  // throws with cereal's own message
  throw Error(ErrorKind::Internal, "corrupt_record", "cannot decode event: unexpected layout");
}
CommandRecord decode_command_record(std::string_view b) {
  return decode<CommandRecord>(b, "command");
}
AggregateHead decode_head(std::string_view b) { return decode<AggregateHead>(b, "head"); }

std::string sha256(std::string_view data) {
  // Fetched once (OpenSSL 3 fetches EVP_sha256() again on each use); never freed.
  static const EVP_MD* const digest = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (fetched) return fetched;
    ERR_clear_error();
    return EVP_sha256();
  }();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, digest, nullptr) != 1)
    throw Error(ErrorKind::Internal, "hash_failed", "SHA-256 failed");
  return std::string(reinterpret_cast<char*>(md), len);
}

// canonical(event) = u64be(version) || u64be(time_ms) || u64be(command_seq)
//                    || u64be(len) || payload
std::string chain_hash(std::string_view previous, const EventRecord& r) {
  std::string data(previous);
  put_u64(data, r.version);
  put_u64(data, static_cast<uint64_t>(r.time_ms));
  put_u64(data, r.command_seq);
  put_bytes(data, r.payload);
  return sha256(data);
}

// canonical(command) = u64be(seq) || u64be(time_ms) || lp(actor) || lp(summary)
//   || lp(params_json) || u64be(n) || n * u64be(version) || u8(ok)
//   || lp(error_code) || lp(error_message)     where lp(s) = u64be(len) || s
std::string chain_hash(std::string_view previous, const CommandRecord& r) {
  std::string data(previous);
  put_u64(data, r.seq);
  put_u64(data, static_cast<uint64_t>(r.time_ms));
  put_bytes(data, r.actor);
  put_bytes(data, r.summary);
  put_bytes(data, r.params_json);
  put_u64(data, r.event_versions.size());
  for (auto v : r.event_versions) put_u64(data, v);
  data.push_back(r.ok ? 1 : 0);
  put_bytes(data, r.error_code);
  put_bytes(data, r.error_message);
  return sha256(data);
}

std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
  return out;
}

}  // namespace cairn
