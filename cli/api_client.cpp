#include "cli/api_client.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace cairn::cli {

struct ApiClient::Impl {
  std::unique_ptr<httplib::Client> client;
  httplib::Headers headers;
};

ApiClient::ApiClient(const std::string& server_url, std::string token) : impl_(std::make_unique<Impl>()) {
  if (!server_url.starts_with("http://") && !server_url.starts_with("https://"))
    throw CliError("invalid_server_url", "the server URL must start with http:// or https://", 2);
  impl_->client = std::make_unique<httplib::Client>(server_url);
  impl_->client->set_connection_timeout(5, 0);
  impl_->client->set_tcp_nodelay(true);
  impl_->client->set_read_timeout(60, 0);
  impl_->client->set_write_timeout(30, 0);
  if (!token.empty()) impl_->headers.emplace("Authorization", "Bearer " + token);
}

ApiClient::~ApiClient() = default;

HttpResult ApiClient::check(const std::string& what, void* opaque) {
  auto& result = *static_cast<httplib::Result*>(opaque);
  if (!result)
    throw CliError("connection_failed",
                   "cannot reach the cairn server for " + what + ": " + httplib::to_string(result.error()), 3);
  HttpResult out{result->status, result->body, result->get_header_value("Content-Type")};
  if (out.status >= 400) {
    auto j = nlohmann::json::parse(out.body, nullptr, false);
    if (!j.is_discarded() && j.contains("error") && j["error"].is_object())
      throw CliError(j["error"].value("code", "http_error"), j["error"].value("message", ""));
    throw CliError("http_error", "the server answered HTTP " + std::to_string(out.status));
  }
  return out;
}

HttpResult ApiClient::get(const std::string& path) {
  auto result = impl_->client->Get(path, impl_->headers);
  return check("GET " + path, &result);
}

HttpResult ApiClient::post_json(const std::string& path, const std::string& json_body) {
  auto result = impl_->client->Post(path, impl_->headers, json_body, "application/json");
  return check("POST " + path, &result);
}

}  // namespace cairn::cli
