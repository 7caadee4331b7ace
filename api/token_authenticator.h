// TokenAuthenticator — turns a bearer token into an Identity (actor + role).
// The bootstrap admin token is held only as a SHA-256 digest and compared in
// constant time; other tokens are looked up by digest in the TokenStore
// (a digest lookup reveals nothing about the secret), and revoked ones fail.
// Thread-safety: safe for concurrent use.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/token_store.h"
#include "core/name_pattern.h"

namespace cairn::api {

// Who is calling and what the token allows (see TokenStore for the roles).
struct Identity {
  std::string actor;  // recorded as the command's actor: "admin" or "token:<name>"
  Role role = Role::Auditor;
  std::vector<std::string> cas;       // operator, service
  std::vector<NamePattern> names;     // service
  std::vector<std::string> profiles;  // service; empty: any
  int rate_per_hour = 0;              // 0: the server default for the role
  // Set for a client certificate (mTLS): the identity may read and renew
  // only that certificate (serial in that CA), and nothing else.
  std::string certificate_ca;
  std::string certificate_serial;
  std::string child;  // child role: the CA handle it may have certified
  bool bound_to_certificate() const { return !certificate_serial.empty(); }
};

class TokenAuthenticator {
 public:
  TokenAuthenticator(std::string_view admin_token, const TokenStore* store);
  std::optional<Identity> identify(std::string_view token) const;

 private:
  std::string admin_digest_;
  const TokenStore* store_;
};

// Creates <data_dir>/admin.token (0600) with a fresh random token if it does
// not exist. Returns the token and whether it was just created.
std::pair<std::string, bool> load_or_create_admin_token(const std::string& data_dir);

}  // namespace cairn::api
