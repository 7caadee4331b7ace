#include "cli/toml_config.h"

#include <algorithm>

#include "eventstore/error.h"

namespace cairn::cli {
namespace {

Profile load_profile(toml::table& t, size_t index) {
  const std::string where = "profile[" + std::to_string(index) + "]";
  static const std::vector<std::string> keys = {"name", "base", "description", "default_validity_days",
                                                "max_validity_days", "allowed_names", "key_types",
                                                "requires_approval", "max_certificates_per_requester"};
  for (const auto& [k, v] : t)
    if (std::find(keys.begin(), keys.end(), std::string(k.str())) == keys.end())
      throw CliError("invalid_config", where + ": unknown key '" + std::string(k.str()) + "'", 2);
  toml::node_view<toml::node> n(t);
  std::string base = n["base"].value_exact<std::string>().value_or("");
  std::string name = n["name"].value_exact<std::string>().value_or("");
  if (name.empty() || base.empty())
    throw CliError("invalid_config", where + " needs a 'name' and a 'base' (server, client, peer or email)", 2);
  Profile p;
  bool found = false;
  for (const auto& b : builtin_profiles())
    if (b.name == base) {
      p = b;
      found = true;
    }
  if (!found) throw CliError("invalid_config", where + ": base must be server, client, peer or email", 2);
  p.name = name;
  p.description = typed(n["description"], (where + ".description").c_str(), "like '" + base + "'");
  p.max_validity_days = typed(n["max_validity_days"], (where + ".max_validity_days").c_str(), p.max_validity_days);
  p.default_validity_days = typed(n["default_validity_days"], (where + ".default_validity_days").c_str(),
                                  std::min(p.default_validity_days, p.max_validity_days));
  p.requires_approval = typed(n["requires_approval"], (where + ".requires_approval").c_str(), false);
  p.max_certificates_per_requester =
      typed(n["max_certificates_per_requester"], (where + ".max_certificates_per_requester").c_str(), 0);
  p.key_types = string_array(t, "key_types", where);
  try {
    for (const auto& pattern : string_array(t, "allowed_names", where))
      p.allowed_names.push_back(NamePattern::parse(pattern));
  } catch (const Error& e) {
    throw CliError("invalid_config", where + ": " + e.what(), 2);
  }
  return p;
}

}  // namespace

std::vector<std::string> string_array(const toml::table& t, const std::string& key, const std::string& where) {
  std::vector<std::string> out;
  const toml::node* node = t.get(key);
  if (!node) return out;
  const toml::array* arr = node->as_array();
  if (!arr) throw CliError("invalid_config", where + "." + key + " must be an array of strings", 2);
  for (const auto& v : *arr) {
    auto s = v.value_exact<std::string>();
    if (!s) throw CliError("invalid_config", where + "." + key + " must be an array of strings", 2);
    out.push_back(*s);
  }
  return out;
}

std::vector<Profile> load_profiles(toml::table& config) {
  std::vector<Profile> out;
  toml::node* node = config.get("profile");
  if (!node) return out;
  toml::array* arr = node->as_array();
  if (!arr) throw CliError("invalid_config", "'profile' must be an array of tables ([[profile]])", 2);
  for (size_t i = 0; i < arr->size(); ++i) {
    toml::table* t = arr->get(i)->as_table();
    if (!t) throw CliError("invalid_config", "'profile' must be an array of tables ([[profile]])", 2);
    out.push_back(load_profile(*t, i));
  }
  try {
    ProfileCatalog check(out);  // names, limits and key types, as the server will see them
  } catch (const Error& e) {
    throw CliError("invalid_config", e.what(), 2);
  }
  return out;
}

}  // namespace cairn::cli
