// Where the CLI finds its server and token, in order of precedence:
//   --server / --token / --token-file flags,
//   CAIRN_SERVER / CAIRN_TOKEN / CAIRN_TOKEN_FILE environment variables,
//   the config file (--config, CAIRN_CONFIG, or ~/.config/cairn/cli.toml):
//     server = "http://127.0.0.1:8080"
//     token_file = "/var/lib/cairn/admin.token"   (or token = "...")
//   defaults: http://127.0.0.1:8080 and ./cairn-data/admin.token if readable.
// Thread-safety: pure functions over the environment and files.
#pragma once

#include <string>

namespace cairn::cli {

struct ClientSettings {
  std::string server;
  std::string token;
  std::string token_file;
  std::string config_file;
};

struct ResolvedClient {
  std::string server;
  std::string token;
};

ResolvedClient resolve_client(const ClientSettings& flags);

}  // namespace cairn::cli
