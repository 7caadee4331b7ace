#include "cli/repository_config.h"

#include <algorithm>
#include <fstream>

#include "cli/toml_config.h"
#include "eventstore/error.h"
#include "eventstore/memory_kv_store.h"

namespace cairn::cli {

std::vector<RepositoryConfig> load_repositories(toml::table& config, std::string& served) {
  std::vector<RepositoryConfig> out;
  toml::node* node = config.get("repository");
  if (!node) return out;
  toml::array* arr = node->as_array();
  const char* shape = "'repository' must be an array of tables ([[repository]])";
  if (!arr) throw CliError("invalid_config", shape, 2);
  static const std::vector<std::string> keys = {"name", "type", "path", "url", "token_file", "publish_issued", "cas",
                                                "serve"};
  for (size_t i = 0; i < arr->size(); ++i) {
    toml::table* t = arr->get(i)->as_table();
    if (!t) throw CliError("invalid_config", shape, 2);
    const std::string where = "repository[" + std::to_string(i) + "]";
    for (const auto& [k, v] : *t)
      if (std::find(keys.begin(), keys.end(), std::string(k.str())) == keys.end())
        throw CliError("invalid_config", where + ": unknown key '" + std::string(k.str()) + "'", 2);
    RepositoryConfig r;
    r.name = typed((*t)["name"], "repository.name", std::string());
    r.type = typed((*t)["type"], "repository.type", r.type);
    r.path = typed((*t)["path"], "repository.path", std::string());
    r.url = typed((*t)["url"], "repository.url", std::string());
    std::string token_file = typed((*t)["token_file"], "repository.token_file", std::string());
    if (!token_file.empty()) {
      std::ifstream in(token_file);
      if (!in || !std::getline(in, r.token) || r.token.empty())
        throw CliError("invalid_config", where + ": cannot read a token from " + token_file, 2);
    }
    r.publish_issued = typed((*t)["publish_issued"], "repository.publish_issued", false);
    r.cas = string_array(*t, "cas", where);
    if (typed((*t)["serve"], "repository.serve", false)) {
      if (!served.empty()) throw CliError("invalid_config", "only one repository may have serve = true", 2);
      if (r.type != "directory") throw CliError("invalid_config", where + ": only a directory can be served", 2);
      served = r.name;
    }
    try {
      MemoryKvStore scratch;
      make_repository(r, &scratch);  // the same checks the server makes
    } catch (const Error& e) {
      throw CliError("invalid_config", where + ": " + e.what(), 2);
    }
    for (const auto& other : out)
      if (other.name == r.name) throw CliError("invalid_config", where + ": name '" + r.name + "' is used twice", 2);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace cairn::cli
