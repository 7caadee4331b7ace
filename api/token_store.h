// TokenStore — API tokens beyond the bootstrap admin token, with roles.
//
// A token is shown once when created; only its SHA-256 digest is stored
// (key "tok/<hex digest>"), with its id (the first 16 hex digits of the
// digest), name, role, creator, creation time and revocation flag.
// Roles: "admin" (everything) and "auditor" (read-only, including history).
// Thread-safety: all methods may be called concurrently.
// Ownership: borrows the KeyValueStore and Clock.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/clock.h"
#include "eventstore/kv_store.h"

namespace cairn::api {

enum class Role { Admin, Auditor };
std::string role_name(Role role);
Role parse_role(const std::string& name);  // InvalidInput "invalid_role"

struct TokenInfo {
  std::string id;
  std::string name;
  Role role = Role::Auditor;
  std::string created_by;
  int64_t created_ms = 0;
  bool revoked = false;
};

class TokenStore {
 public:
  TokenStore(KeyValueStore& kv, const Clock& clock) : kv_(kv), clock_(clock) {}

  // Returns the new token's info and its secret (never stored).
  std::pair<TokenInfo, std::string> create(const std::string& name, Role role,
                                           const std::string& created_by);
  std::vector<TokenInfo> list() const;
  TokenInfo revoke(const std::string& id);
  std::optional<TokenInfo> find_by_secret(std::string_view token) const;

 private:
  KeyValueStore& kv_;
  const Clock& clock_;
  std::mutex mutex_;  // serialises create/revoke (name uniqueness)
};

}  // namespace cairn::api
