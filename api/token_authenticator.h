// TokenAuthenticator — checks bearer tokens. Only SHA-256 digests of tokens
// are held, and they are compared in constant time. In this release there is
// one admin token; roles come later.
// Thread-safety: immutable after construction.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cairn::api {

class TokenAuthenticator {
 public:
  explicit TokenAuthenticator(std::string_view admin_token);
  // The actor name for a valid token ("admin"), or nullopt.
  std::optional<std::string> actor_for(std::string_view token) const;

 private:
  std::string admin_digest_;
};

// Creates <data_dir>/admin.token (0600) with a fresh random token if it does
// not exist. Returns the token and whether it was just created.
std::pair<std::string, bool> load_or_create_admin_token(const std::string& data_dir);

}  // namespace cairn::api
