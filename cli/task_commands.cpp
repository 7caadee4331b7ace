// `cairn task list` and `cairn ca status`: the background work of the
// server (publishing to repositories, CRL refreshes) and how it went.
#include "cli/commands.h"
#include "cli/response_helpers.h"

namespace cairn::cli {

using nlohmann::json;

void Commands::task_list(const std::string& ca) {
  std::string path = "/api/v1/tasks";
  if (!ca.empty()) path += "?ca=" + seg(ca);
  auto j = parse(client_.get(path).body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : j["tasks"])
    rows.push_back({str(t, "kind"), str(t, "ca"), str(t, "target"), str(t, "due"), str(t, "attempts"),
                    str(t, "last_error")});
  print_table(out_, {"KIND", "CA", "TARGET", "DUE", "ATTEMPTS", "LAST ERROR"}, rows);
}

void Commands::ca_status(const std::string& ca) {
  auto j = parse(client_.get("/api/v1/cas/" + seg(ca) + "/status").body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_fields(out_, {{"ca", str(j, "ca")},
                      {"status", str(j, "status")},
                      {"not after", str(j, "not_after")},
                      {"repositories", join(j["repositories"])}});
  out_ << '\n';
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : j["targets"])
    rows.push_back({str(s, "target"), str(s, "last_attempt"), str(s, "last_success"), str(s, "failures"),
                    str(s, "next_attempt"), str(s, "last_error")});
  print_table(out_, {"TARGET", "LAST ATTEMPT", "LAST SUCCESS", "FAILURES", "NEXT ATTEMPT", "LAST ERROR"}, rows);
}

}  // namespace cairn::cli
