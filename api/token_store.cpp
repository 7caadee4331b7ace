#include "api/token_store.h"

#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "eventstore/aggregate_log.h"
#include "eventstore/error.h"
#include "eventstore/records.h"

namespace cairn::api {
namespace {

constexpr const char* kPrefix = "tok/";

std::string encode(const TokenInfo& t) {
  return nlohmann::json{{"v", 1},          {"id", t.id},
                        {"name", t.name},  {"role", role_name(t.role)},
                        {"created_by", t.created_by}, {"created_ms", t.created_ms},
                        {"revoked", t.revoked}}
      .dump();
}

TokenInfo decode(std::string_view bytes) {
  auto j = nlohmann::json::parse(bytes, nullptr, false);
  if (j.is_discarded()) throw Error(ErrorKind::Internal, "corrupt_record", "unreadable token record");
  TokenInfo t;
  t.id = j.value("id", "");
  t.name = j.value("name", "");
  t.role = parse_role(j.value("role", "auditor"));
  t.created_by = j.value("created_by", "");
  t.created_ms = j.value("created_ms", int64_t{0});
  t.revoked = j.value("revoked", false);
  return t;
}

}  // namespace

std::string role_name(Role role) { return role == Role::Admin ? "admin" : "auditor"; }

Role parse_role(const std::string& name) {
  if (name == "admin") return Role::Admin;
  if (name == "auditor") return Role::Auditor;
  throw Error(ErrorKind::InvalidInput, "invalid_role", "role must be admin or auditor");
}

std::pair<TokenInfo, std::string> TokenStore::create(const std::string& name, Role role,
                                                     const std::string& created_by) {
  validate_aggregate_id(name);
  std::lock_guard lock(mutex_);
  for (const auto& t : list())
    if (t.name == name && !t.revoked)
      throw Error(ErrorKind::Conflict, "token_exists", "an active token named '" + name + "' exists");
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw Error(ErrorKind::Internal, "rng_failed", "random generator failed");
  std::string secret = "cairn_" + to_hex(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
  std::string digest = to_hex(sha256(secret));
  TokenInfo info;
  info.id = digest.substr(0, 16);
  info.name = name;
  info.role = role;
  info.created_by = created_by;
  info.created_ms = clock_.now_ms();
  WriteBatch batch;
  batch.put(kPrefix + digest, encode(info));
  kv_.write(batch, Durability::Sync);
  return {info, secret};
}

std::vector<TokenInfo> TokenStore::list() const {
  std::vector<TokenInfo> out;
  kv_.scan(kPrefix, [&](std::string_view, std::string_view value) {
    out.push_back(decode(value));
    return true;
  });
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.created_ms < b.created_ms; });
  return out;
}

TokenInfo TokenStore::revoke(const std::string& id) {
  std::lock_guard lock(mutex_);
  std::optional<std::pair<std::string, TokenInfo>> found;
  kv_.scan(kPrefix, [&](std::string_view key, std::string_view value) {
    if (key.substr(std::string_view(kPrefix).size()).starts_with(id) && id.size() == 16) {
      found.emplace(std::string(key), decode(value));
      return false;
    }
    return true;
  });
  if (!found) throw Error(ErrorKind::NotFound, "token_not_found", "no token with id " + id);
  found->second.revoked = true;
  WriteBatch batch;
  batch.put(found->first, encode(found->second));
  kv_.write(batch, Durability::Sync);
  return found->second;
}

std::optional<TokenInfo> TokenStore::find_by_secret(std::string_view token) const {
  auto bytes = kv_.get(kPrefix + to_hex(sha256(token)));
  if (!bytes) return std::nullopt;
  return decode(*bytes);
}

}  // namespace cairn::api
