#include "objects/audit_checkpoint.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/x509_time.h"
#include "eventstore/records.h"

namespace cairn {
namespace {

constexpr const char* kFormat = "cairn-checkpoint-v1";
constexpr const char* kAuditKey = "audit/key";

nlohmann::json unsigned_json(const Checkpoint& cp) {
  nlohmann::json heads = nlohmann::json::array();
  for (const auto& h : cp.heads)
    heads.push_back({{"aggregate", h.aggregate}, {"version", h.version}, {"event_hash", h.event_hash},
                     {"command_seq", h.command_seq}, {"command_hash", h.command_hash}});
  return {{"format", kFormat},
          {"created_ms", cp.created_ms},
          {"created_at", iso8601(cp.created_ms)},
          {"heads", heads},
          {"key_id", cp.key_id},
          {"public_key", base64_encode(cp.public_key_der)}};
}

}  // namespace

std::string Checkpoint::signed_bytes() const { return unsigned_json(*this).dump(); }

std::string Checkpoint::to_json() const {
  auto j = unsigned_json(*this);
  j["signature"] = base64_encode(signature);
  return j.dump(2) + "\n";
}

Checkpoint Checkpoint::from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != kFormat)
    throw Error(ErrorKind::InvalidInput, "invalid_checkpoint", "not a cairn checkpoint");
  Checkpoint cp;
  try {
    cp.created_ms = j.at("created_ms").get<int64_t>();
    cp.key_id = j.at("key_id").get<std::string>();
    cp.public_key_der = base64_decode(j.at("public_key").get<std::string>());
    cp.signature = base64_decode(j.at("signature").get<std::string>());
    for (const auto& h : j.at("heads"))
      cp.heads.push_back({h.at("aggregate").get<std::string>(), h.at("version").get<uint64_t>(),
                          h.at("event_hash").get<std::string>(), h.at("command_seq").get<uint64_t>(),
                          h.at("command_hash").get<std::string>()});
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::InvalidInput, "invalid_checkpoint", std::string("malformed checkpoint: ") + e.what());
  }
  return cp;
}

bool Checkpoint::signature_valid() const {
  try {
    auto key = parse_public_key_der(public_key_der);
    return verify_signature(key.get(), signed_bytes(), signature);
  } catch (const Error&) {
    return false;
  }
}

std::optional<std::string> check_checkpoint(const Checkpoint& cp, const std::vector<const AggregateLog*>& logs) {
  if (!cp.signature_valid()) return "the checkpoint's signature does not verify";
  for (const auto& h : cp.heads) {
    const AggregateLog* log = nullptr;
    std::string id;
    for (const auto* l : logs)
      if (h.aggregate.starts_with(l->type() + "/")) {
        log = l;
        id = h.aggregate.substr(l->type().size() + 1);
      }
    if (!log) return h.aggregate + ": unknown aggregate type in checkpoint";
    AggregateHead now = log->head(id);
    if (now.version < h.version || now.command_seq < h.command_seq)
      return h.aggregate + ": history was cut off behind the checkpoint (checkpoint at version " +
             std::to_string(h.version) + ", command " + std::to_string(h.command_seq) + "; stored head at version " +
             std::to_string(now.version) + ", command " + std::to_string(now.command_seq) + ")";
    if (h.version > 0) {
      auto ev = log->event(id, h.version);
      if (!ev || to_hex(ev->hash) != h.event_hash)
        return h.aggregate + ": event " + std::to_string(h.version) + " differs from the checkpoint (rewritten history)";
    }
    if (h.command_seq > 0) {
      auto cmd = log->command(id, h.command_seq);
      if (!cmd || to_hex(cmd->hash) != h.command_hash)
        return h.aggregate + ": command " + std::to_string(h.command_seq) +
               " differs from the checkpoint (rewritten history)";
    }
  }
  return std::nullopt;
}

std::pair<std::string, std::string> CheckpointService::audit_key() {
  if (auto stored = kv_.get(kAuditKey)) {
    auto j = nlohmann::json::parse(*stored);
    return {j.at("key_id").get<std::string>(), base64_decode(j.at("public_key").get<std::string>())};
  }
  std::string key_id = signer_.create_key(KeyAlgorithm::Ed25519);
  std::string public_der = signer_.public_key_der(key_id);
  WriteBatch batch;
  batch.put(kAuditKey, nlohmann::json{{"key_id", key_id}, {"public_key", base64_encode(public_der)}}.dump());
  kv_.write(batch, Durability::Sync);
  return {key_id, public_der};
}

Checkpoint CheckpointService::create(const std::vector<const AggregateLog*>& logs) {
  std::lock_guard lock(mutex_);
  Checkpoint cp;
  std::tie(cp.key_id, cp.public_key_der) = audit_key();
  cp.created_ms = clock_.now_ms();
  for (const auto* log : logs)
    for (const auto& id : log->ids()) {
      AggregateHead h = log->head(id);
      cp.heads.push_back({log->type() + "/" + id, h.version, to_hex(h.event_hash), h.command_seq,
                          to_hex(h.command_hash)});
    }
  cp.signature = signer_.sign_bytes(cp.key_id, cp.signed_bytes());
  char key[40];
  std::snprintf(key, sizeof key, "ckpt/%020lld", static_cast<long long>(cp.created_ms));
  WriteBatch batch;
  batch.put(key, cp.to_json());
  kv_.write(batch, Durability::Sync);
  return cp;
}

std::optional<Checkpoint> CheckpointService::latest() const {
  auto all = stored_checkpoints(kv_);
  if (all.empty()) return std::nullopt;
  return all.back();
}

std::vector<Checkpoint> stored_checkpoints(const KeyValueStore& kv) {
  std::vector<Checkpoint> out;
  kv.scan("ckpt/", [&](std::string_view, std::string_view value) {
    out.push_back(Checkpoint::from_json(std::string(value)));
    return true;
  });
  return out;
}

std::optional<std::string> stored_audit_public_key(const KeyValueStore& kv) {
  auto stored = kv.get(kAuditKey);
  if (!stored) return std::nullopt;
  auto j = nlohmann::json::parse(*stored, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return base64_decode(j.value("public_key", ""));
}

}  // namespace cairn
