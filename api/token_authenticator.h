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

namespace cairn::api {

struct Identity {
  std::string actor;  // recorded as the command's actor
  Role role = Role::Auditor;
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
