// Output for humans (aligned tables, key/value blocks) and scripts (JSON).
// Thread-safety: writes to the given stream only.
#pragma once

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace cairn::cli {

enum class OutputFormat { Table, Json };

void print_table(std::ostream& out, const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows);
void print_fields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace cairn::cli
