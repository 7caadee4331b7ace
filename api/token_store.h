// TokenStore — API tokens beyond the bootstrap admin token, with roles.
//
// A token is shown once when created; only its SHA-256 digest is stored
// (key "tok/<hex digest>"), with its id (the first 16 hex digits of the
// digest), name, role, creator, creation time and revocation flag.
// Roles (see docs/api.md, "Access control"):
//   admin    everything;
//   operator reads, issues, renews, revokes and reads history in its CAs;
//   auditor  reads everything, including history; changes nothing;
//   service  issues in its CAs only names matching its patterns with its
//            profiles, and renews/revokes/reads only certificates it issued;
//   child    a CA on another cairn server: only asks its parent CA (its one
//            CA) to certify it (its child handle); reads nothing.
// Operators and services carry their scope (CAs, name patterns, profiles);
// any token may carry its own issuance rate limit (certificates per hour).
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

enum class Role { Admin, Operator, Auditor, Service, Child };
std::string role_name(Role role);
Role parse_role(const std::string& name);  // InvalidInput "invalid_role"

struct TokenInfo {
  std::string id;
  std::string name;
  Role role = Role::Auditor;
  std::string created_by;
  int64_t created_ms = 0;
  bool revoked = false;
  std::vector<std::string> cas;       // operator, service: the CAs it may use
  std::vector<std::string> names;     // service: NamePattern texts
  std::vector<std::string> profiles;  // service: allowed profiles; empty: any
  int rate_per_hour = 0;              // 0: the server's default for the role
  std::string child;                  // child: the CA handle it certifies
};

// What a new token may do; checked by TokenStore::create.
struct TokenScope {
  std::vector<std::string> cas;
  std::vector<std::string> names;
  std::vector<std::string> profiles;
  int rate_per_hour = 0;
  std::string child;  // child tokens only
};

class TokenStore {
 public:
  TokenStore(KeyValueStore& kv, const Clock& clock) : kv_(kv), clock_(clock) {}

  // Returns the new token's info and its secret (never stored).
  // Throws InvalidInput "invalid_scope" when the scope does not fit the role
  // (operators and services need CAs, services need name patterns, admins
  // and auditors take no scope), "invalid_name_pattern" for a bad pattern.
  std::pair<TokenInfo, std::string> create(const std::string& name, Role role,
                                           const std::string& created_by,
                                           const TokenScope& scope = {});
  std::vector<TokenInfo> list() const;
  TokenInfo revoke(const std::string& id);
  std::optional<TokenInfo> find_by_secret(std::string_view token) const;

 private:
  KeyValueStore& kv_;
  const Clock& clock_;
  std::mutex mutex_;  // serialises create/revoke (name uniqueness)
};

}  // namespace cairn::api
