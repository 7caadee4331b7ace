#include "api/token_authenticator.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "eventstore/error.h"
#include "eventstore/records.h"

namespace cairn::api {

TokenAuthenticator::TokenAuthenticator(std::string_view admin_token, const TokenStore* store)
    : admin_digest_(sha256(admin_token)), store_(store) {}

std::optional<Identity> TokenAuthenticator::identify(std::string_view token) const {
  if (token.empty() || token.size() > 512) return std::nullopt;
  std::string digest = sha256(token);
  if (CRYPTO_memcmp(digest.data(), admin_digest_.data(), digest.size()) == 0)
    return Identity{"admin", Role::Admin, {}, {}, {}, 0, {}, {}, {}};
  if (!store_) return std::nullopt;
  auto info = store_->find_by_secret(token);
  if (!info || info->revoked) return std::nullopt;
  Identity who{"token:" + info->name, info->role, info->cas, {}, info->profiles, info->rate_per_hour, {}, {},
               info->child};
  for (const auto& n : info->names) who.names.push_back(NamePattern::parse(n));
  return who;
}

std::pair<std::string, bool> load_or_create_admin_token(const std::string& data_dir) {
  std::string path = data_dir + "/admin.token";
  std::ifstream in(path);
  if (in) {
    std::string token;
    std::getline(in, token);
    if (token.size() < 32)
      throw Error(ErrorKind::Internal, "invalid_token_file", path + " does not hold a valid token");
    return {token, false};
  }
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw Error(ErrorKind::Internal, "rng_failed", "random generator failed");
  std::string token = "cairn_" + to_hex(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw Error(ErrorKind::Unavailable, "token_file_error",
                "cannot create " + path + ": " + std::strerror(errno));
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw Error(ErrorKind::Unavailable, "token_file_error", "cannot write " + path);
  return {token, true};
}

}  // namespace cairn::api
