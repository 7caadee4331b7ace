// Reading cairn's TOML server config: typed values and profile definitions.
// Any mistake is a CliError "invalid_config" (exit 2) naming the key.
// Thread-safety: pure functions.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "core/profile.h"

namespace cairn::cli {

// A config value of the right type, the fallback when absent, an error when
// present with another type (a typo must not silently become a default).
template <class T>
T typed(toml::node_view<toml::node> node, const char* key, T fallback) {
  if (!node) return fallback;
  if constexpr (std::is_same_v<T, int>) {
    auto v = node.value_exact<int64_t>();
    if (!v || *v < INT32_MIN || *v > INT32_MAX)
      throw CliError("invalid_config", std::string("config key '") + key + "' must be an integer", 2);
    return static_cast<int>(*v);
  } else {
    auto v = node.value_exact<T>();
    if (!v) throw CliError("invalid_config", std::string("config key '") + key + "' has the wrong type", 2);
    return *v;
  }
}

// t[key] as strings ("where" names the table in errors); absent: empty.
std::vector<std::string> string_array(const toml::table& t, const std::string& key, const std::string& where);

// [[profile]] tables: each derives from a built-in profile ("base") and
// narrows it (see docs/cli.md, "Profiles").
std::vector<Profile> load_profiles(toml::table& config);

}  // namespace cairn::cli
