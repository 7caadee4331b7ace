#include "cli/client_config.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <toml++/toml.h>

#include "cli/api_client.h"

namespace cairn::cli {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CliError("token_file_unreadable", "cannot read the token file " + path, 2);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  return token;
}

}  // namespace

ResolvedClient resolve_client(const ClientSettings& flags) {
  std::string server = flags.server.empty() ? env("CAIRN_SERVER") : flags.server;
  // A token given on the command line (either way) beats the environment.
  std::string token = flags.token;
  std::string token_file = flags.token_file;
  if (token.empty() && token_file.empty()) {
    token = env("CAIRN_TOKEN");
    if (token.empty()) token_file = env("CAIRN_TOKEN_FILE");
  }

  std::string config = flags.config_file.empty() ? env("CAIRN_CONFIG") : flags.config_file;
  bool explicit_config = !config.empty();
  if (config.empty() && !env("HOME").empty()) config = env("HOME") + "/.config/cairn/cli.toml";
  if (!config.empty() && (explicit_config || std::filesystem::exists(config))) {
    try {
      auto table = toml::parse_file(config);
      if (server.empty()) server = table["server"].value_or(std::string());
      if (token.empty() && token_file.empty()) {
        token = table["token"].value_or(std::string());
        token_file = table["token_file"].value_or(std::string());
      }
    } catch (const toml::parse_error& e) {
      throw CliError("invalid_config", "cannot read " + config + ": " + std::string(e.description()), 2);
    }
  }
  if (server.empty()) server = "http://127.0.0.1:8080";
  while (server.ends_with("/")) server.pop_back();
  if (token.empty() && !token_file.empty()) token = read_token_file(token_file);
  if (token.empty() && ::access("cairn-data/admin.token", R_OK) == 0)
    token = read_token_file("cairn-data/admin.token");
  return {server, token};
}

}  // namespace cairn::cli
