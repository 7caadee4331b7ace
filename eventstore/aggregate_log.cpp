#include "eventstore/aggregate_log.h"

#include <cstdio>

#include "eventstore/error.h"

namespace cairn {

void validate_aggregate_id(std::string_view id) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  };
  bool ok = !id.empty() && id.size() <= 64 && ok_char(id[0]) && id[0] != '.' && id[0] != '_' &&
            id[0] != '-';
  for (char c : id) ok = ok && ok_char(c);
  if (!ok)
    throw Error(ErrorKind::InvalidInput, "invalid_name",
                "names must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a "
                "letter or digit");
}

namespace {
std::string padded(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(n));
  return buf;
}
}  // namespace

AggregateLog::AggregateLog(KeyValueStore& kv, std::string type) : kv_(kv), type_(std::move(type)) {}

std::string AggregateLog::prefix(std::string_view id) const {
  return "a/" + type_ + "/" + std::string(id) + "/";
}
std::string AggregateLog::head_key(std::string_view id) const { return prefix(id) + "h"; }
std::string AggregateLog::event_key(std::string_view id, uint64_t v) const {
  return prefix(id) + "e/" + padded(v);
}
std::string AggregateLog::command_key(std::string_view id, uint64_t seq) const {
  return prefix(id) + "c/" + padded(seq);
}

std::string AggregateLog::snapshot_key(std::string_view id) const { return prefix(id) + "s"; }

std::optional<EventRecord> AggregateLog::event(std::string_view id, uint64_t version) const {
  auto bytes = kv_.get(event_key(id, version));
  if (!bytes) return std::nullopt;
  return decode_event_record(*bytes);
}

bool AggregateLog::read_snapshot(std::string_view id, const std::function<void(std::string_view)>& visit) const {
  return kv_.read(snapshot_key(id), visit);
}

std::optional<SnapshotRecord> AggregateLog::snapshot(std::string_view id) const {
  auto bytes = kv_.get(snapshot_key(id));
  if (!bytes) return std::nullopt;
  return decode_snapshot_record(*bytes);
}

AggregateHead AggregateLog::head(std::string_view id) const {
  auto bytes = kv_.get(head_key(id));
  if (!bytes) return AggregateHead{};
  return decode_head(*bytes);
}

bool AggregateLog::exists(std::string_view id) const {
  return kv_.get("l/" + type_ + "/" + std::string(id)).has_value();
}

std::vector<std::string> AggregateLog::ids() const {
  std::vector<std::string> out;
  std::string p = "l/" + type_ + "/";
  kv_.scan(p, [&](std::string_view key, std::string_view) {
    out.emplace_back(key.substr(p.size()));
    return true;
  });
  return out;
}

void AggregateLog::for_each_event(std::string_view id, uint64_t from_version,
                                  const std::function<bool(const EventRecord&)>& visit) const {
  kv_.scan(prefix(id) + "e/", [&](std::string_view, std::string_view value) {
    return visit(decode_event_record(value));
  }, event_key(id, from_version));
}

void AggregateLog::for_each_event_view(std::string_view id, uint64_t from_version,
                                       const std::function<bool(const EventRecordView&)>& visit) const {
  kv_.scan(prefix(id) + "e/", [&](std::string_view, std::string_view value) {
    return visit(decode_event_record_view(value));
  }, event_key(id, from_version));
}

void AggregateLog::for_each_command(std::string_view id, uint64_t from_seq,
                                    const std::function<bool(const CommandRecord&)>& visit) const {
  kv_.scan(prefix(id) + "c/", [&](std::string_view, std::string_view value) {
    return visit(decode_command_record(value));
  }, command_key(id, from_seq));
}

std::optional<CommandRecord> AggregateLog::command(std::string_view id, uint64_t seq) const {
  auto bytes = kv_.get(command_key(id, seq));
  if (!bytes) return std::nullopt;
  return decode_command_record(*bytes);
}

AggregateHead AggregateLog::append(std::string_view id, const AggregateHead& head,
                                   CommandRecord command, const std::vector<std::string>& payloads,
                                   WriteBatch& batch, std::vector<EventRecord>* events_out) const {
  AggregateHead next = head;
  next.command_seq = head.command_seq + 1;
  command.seq = next.command_seq;
  command.event_versions.clear();
  for (const auto& payload : payloads) {
    EventRecord ev;
    ev.version = ++next.version;
    ev.time_ms = command.time_ms;
    ev.command_seq = command.seq;
    ev.payload = payload;
    ev.hash = chain_hash(next.event_hash, ev);
    next.event_hash = ev.hash;
    command.event_versions.push_back(ev.version);
    batch.put(event_key(id, ev.version), encode_record(ev));
    if (events_out) events_out->push_back(std::move(ev));
  }
  command.hash = chain_hash(head.command_hash, command);
  next.command_hash = command.hash;
  batch.put(command_key(id, command.seq), encode_record(command));
  batch.put(head_key(id), encode_record(next));
  if (head.command_seq == 0) batch.put("l/" + type_ + "/" + std::string(id), "");
  return next;
}

}  // namespace cairn
