#include "api/token_store.h"

#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "core/name_pattern.h"
#include "eventstore/aggregate_log.h"
#include "eventstore/error.h"
#include "eventstore/records.h"

namespace cairn::api {
namespace {

constexpr const char* kPrefix = "tok/";

std::string encode(const TokenInfo& t) {
  return nlohmann::json{{"v", 2},
                        {"id", t.id},
                        {"name", t.name},
                        {"role", role_name(t.role)},
                        {"created_by", t.created_by},
                        {"created_ms", t.created_ms},
                        {"revoked", t.revoked},
                        {"cas", t.cas},
                        {"names", t.names},
                        {"profiles", t.profiles},
                        {"rate_per_hour", t.rate_per_hour},
                        {"child", t.child}}
      .dump();
}

std::vector<std::string> strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

void check_scope(Role role, const TokenScope& scope) {
  auto fail = [](const std::string& why) { throw Error(ErrorKind::InvalidInput, "invalid_scope", why); };
  if (role == Role::Child) {
    if (scope.child.empty() || scope.cas.size() != 1 || !scope.names.empty() || !scope.profiles.empty())
      fail("a child token names one parent CA and one child; make it with POST /api/v1/cas/{parent}/children");
    validate_aggregate_id(scope.child);
    validate_aggregate_id(scope.cas[0]);
    return;
  }
  if (!scope.child.empty()) fail("only child tokens name a child");
  bool scoped = role == Role::Operator || role == Role::Service;
  if (!scoped && (!scope.cas.empty() || !scope.names.empty() || !scope.profiles.empty()))
    fail("the " + role_name(role) + " role takes no CAs, names or profiles");
  if (scoped && scope.cas.empty()) fail(role_name(role) + " tokens need at least one CA");
  if (role == Role::Operator && (!scope.names.empty() || !scope.profiles.empty()))
    fail("an operator token takes CAs, not names or profiles");
  if (role == Role::Service && scope.names.empty())
    fail("a service token needs at least one name pattern");
  if (scope.cas.size() > 100 || scope.names.size() > 100 || scope.profiles.size() > 100)
    fail("at most 100 CAs, names and profiles");
  if (scope.rate_per_hour < 0 || scope.rate_per_hour > 10'000'000)
    fail("rate_per_hour must be between 0 and 10000000");
  for (const auto& ca : scope.cas) validate_aggregate_id(ca);
  for (const auto& n : scope.names) NamePattern::parse(n);
  for (const auto& p : scope.profiles) validate_aggregate_id(p);
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
  t.cas = strings(j, "cas");
  t.names = strings(j, "names");
  t.profiles = strings(j, "profiles");
  t.rate_per_hour = j.value("rate_per_hour", 0);
  t.child = j.value("child", "");
  return t;
}

}  // namespace

std::string role_name(Role role) {
  switch (role) {
    case Role::Admin: return "admin";
    case Role::Operator: return "operator";
    case Role::Auditor: return "auditor";
    case Role::Service: return "service";
    case Role::Child: return "child";
  }
  return "auditor";
}

Role parse_role(const std::string& name) {
  for (Role r : {Role::Admin, Role::Operator, Role::Auditor, Role::Service, Role::Child})
    if (name == role_name(r)) return r;
  throw Error(ErrorKind::InvalidInput, "invalid_role", "role must be admin, operator, auditor, service or child");
}

std::pair<TokenInfo, std::string> TokenStore::create(const std::string& name, Role role,
                                                     const std::string& created_by,
                                                     const TokenScope& scope) {
  validate_aggregate_id(name);
  check_scope(role, scope);
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
  info.cas = scope.cas;
  info.names = scope.names;
  info.profiles = scope.profiles;
  info.rate_per_hour = scope.rate_per_hour;
  info.child = scope.child;
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
