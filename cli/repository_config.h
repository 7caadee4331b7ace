// Reading [[repository]] tables of cairn's TOML server config:
//   [[repository]]
//   name = "web"                 # 1-64 of a-z 0-9 . _ -
//   type = "directory"           # or "http"
//   path = "/srv/pki"            # directory: must exist
//   url = "https://pub.example/pki"   # http: objects are PUT below it
//   token_file = "/etc/cairn/pub.token"   # http: bearer token (first line)
//   publish_issued = false       # also publish valid issued certificates
//   cas = ["issuing"]            # default: every CA
//   serve = false                # serve this directory at /repo/ (at most one)
// Any mistake is a CliError "invalid_config" (exit 2) naming the key.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "scheduler/repository.h"

namespace cairn::cli {

// Fills `served` with the name of the repository marked `serve`, if any.
std::vector<RepositoryConfig> load_repositories(toml::table& config, std::string& served);

}  // namespace cairn::cli
