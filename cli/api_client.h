// ApiClient — the CLI's HTTP client for a cairn server.
//
// Sends requests with the bearer token, bounded timeouts, and turns error
// answers ({"error":{"code","message"}}) into CliError with the server's
// stable code; connection failures become code "connection_failed".
// Thread-safety: one instance per thread.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

namespace cairn::cli {

class CliError : public std::runtime_error {
 public:
  CliError(std::string code, const std::string& message, int exit_code = 1)
      : std::runtime_error(message), code_(std::move(code)), exit_code_(exit_code) {}
  const std::string& code() const { return code_; }
  int exit_code() const { return exit_code_; }

 private:
  std::string code_;
  int exit_code_;
};

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
};

class ApiClient {
 public:
  ApiClient(const std::string& server_url, std::string token);
  ~ApiClient();

  HttpResult get(const std::string& path);
  HttpResult post_json(const std::string& path, const std::string& json_body);

 private:
  HttpResult check(const std::string& what, void* result);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::cli
