// `cairn request list|show|approve|reject`: certificate requests for
// profiles that need an operator's approval.
#include "cli/commands.h"
#include "cli/response_helpers.h"

namespace cairn::cli {

using nlohmann::json;

void Commands::print_request(const json& r) {
  std::vector<std::pair<std::string, std::string>> fields{
      {"ca", str(r, "ca")},
      {"request", str(r, "id")},
      {"status", str(r, "status")},
      {"requested by", str(r, "requested_by")},
      {"requested at", str(r, "requested_at")},
      {"subject", str(r, "subject")},
      {"names", sans_text(r.value("sans", json::object()))},
      {"profile", str(r, "profile")}};
  if (!str(r, "replaces").empty()) fields.emplace_back("replaces", str(r, "replaces"));
  if (str(r, "status") != "pending") {
    fields.emplace_back("decided by", str(r, "decided_by"));
    fields.emplace_back("decided at", str(r, "decided_at"));
  }
  if (!str(r, "serial").empty()) fields.emplace_back("serial", str(r, "serial"));
  if (!str(r, "reason").empty()) fields.emplace_back("reason", str(r, "reason"));
  print_fields(out_, fields);
}

void Commands::request_list(const std::string& ca, const std::string& status) {
  std::string path = "/api/v1/cas/" + seg(ca) + "/requests";
  if (!status.empty()) path += "?status=" + seg(status);
  auto j = parse(client_.get(path).body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : j["requests"])
    rows.push_back({str(r, "id"), str(r, "status"), str(r, "requested_by"), str(r, "requested_at"),
                    str(r, "profile"), str(r, "subject"), sans_text(r.value("sans", json::object()))});
  print_table(out_, {"ID", "STATUS", "REQUESTED BY", "REQUESTED AT", "PROFILE", "SUBJECT", "NAMES"}, rows);
}

void Commands::request_show(const std::string& ca, const std::string& id, const std::string& out_file) {
  auto j = parse(client_.get("/api/v1/cas/" + seg(ca) + "/requests/" + seg(id)).body);
  if (!out_file.empty() && j.contains("chain_pem"))
    write_file(out_file, j["chain_pem"].get<std::string>(), false);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_request(j["request"]);
  if (!out_file.empty() && !j.contains("chain_pem"))
    out_ << "No certificate yet: the request is " << str(j["request"], "status") << ".\n";
}

void Commands::request_approve(const std::string& ca, const std::string& id) {
  auto j = parse(client_.post_json("/api/v1/cas/" + seg(ca) + "/requests/" + seg(id) + "/approve", "{}").body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  const auto& cert = j.at("certificate");
  print_fields(out_, {{"request", id}, {"status", "approved"}, {"serial", str(cert, "serial")},
                      {"subject", str(cert, "subject")}, {"not after", str(cert, "not_after")}});
}

void Commands::request_reject(const std::string& ca, const std::string& id, const std::string& reason) {
  auto j = parse(client_.post_json("/api/v1/cas/" + seg(ca) + "/requests/" + seg(id) + "/reject",
                                   json{{"reason", reason}}.dump())
                     .body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_request(j["request"]);
}

}  // namespace cairn::cli
