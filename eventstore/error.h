// cairn::Error — the one error type of the project.
//
// Every failure a user can see carries a stable, machine-readable `code`
// (snake_case, never changed once published), a `kind` that api/ maps to an
// HTTP status and cli/ to an exit code, and a human message. Messages must
// never contain secrets (keys, tokens, passphrases).
// Thread-safety: immutable value type.
#pragma once

#include <stdexcept>
#include <string>

namespace cairn {

enum class ErrorKind {
  InvalidInput,   // malformed request: 400
  Unauthorized,   // missing/bad credentials: 401
  Forbidden,      // authenticated but not allowed: 403
  NotFound,       // unknown CA, certificate, route: 404
  Conflict,       // state forbids it (already revoked, version mismatch): 409
  TooLarge,       // body or field over a limit: 413
  PolicyViolation,// the profile forbids it: 422
  RateLimited,    // too many requests for this identity: 429
  Unavailable,    // storage or dependency failed, retry later: 503
  Internal,       // a bug: 500
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string code, const std::string& message)
      : std::runtime_error(message), kind_(kind), code_(std::move(code)) {}

  ErrorKind kind() const noexcept { return kind_; }
  const std::string& code() const noexcept { return code_; }

 private:
  ErrorKind kind_;
  std::string code_;
};

inline int http_status_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidInput: return 400;
    case ErrorKind::Unauthorized: return 401;
    case ErrorKind::Forbidden: return 403;
    case ErrorKind::NotFound: return 404;
    case ErrorKind::Conflict: return 409;
    case ErrorKind::TooLarge: return 413;
    case ErrorKind::PolicyViolation: return 422;
    case ErrorKind::RateLimited: return 429;
    case ErrorKind::Unavailable: return 503;
    case ErrorKind::Internal: return 500;
  }
  return 500;
}

}  // namespace cairn
