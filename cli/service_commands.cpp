// `cairn service register|update|list|show|link`: the service registry.
#include "cli/commands.h"
#include "cli/response_helpers.h"

namespace cairn::cli {

using nlohmann::json;

void Commands::print_service(const json& s) {
  std::string certs;
  for (const auto& c : s["certificates"]) certs += (certs.empty() ? "" : ", ") + str(c, "ca") + "/" + str(c, "serial");
  print_fields(out_, {{"id", str(s, "id")},
                      {"name", str(s, "name")},
                      {"type", str(s, "type")},
                      {"endpoints", join(s["endpoints"])},
                      {"webhook", str(s, "webhook_url")},
                      {"auto renew", s.value("auto_renew", false) ? "yes" : "no"},
                      {"allowed names", join(s["allowed_names"])},
                      {"certificates", certs},
                      {"updated by", str(s, "updated_by")},
                      {"updated at", str(s, "updated_at")}});
}

void Commands::service_register(const ServiceSpec& spec) {
  json body = {{"id", spec.id},          {"name", spec.name},           {"type", spec.type},
               {"endpoints", spec.endpoints}, {"webhook_url", spec.webhook_url}, {"allowed_names", spec.allowed_names},
               {"auto_renew", spec.auto_renew}};
  auto j = parse(client_.post_json("/api/v1/services", body.dump()).body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_service(j);
  out_ << "\nWebhook secret (shown only now; notices carry X-Cairn-Signature: sha256=HMAC-SHA256 of the body):\n  "
       << str(j, "webhook_secret") << '\n';
}

void Commands::service_update(const ServiceSpec& spec) {
  json body = json::object();
  if (spec.has_name) body["name"] = spec.name;
  if (spec.has_type) body["type"] = spec.type;
  if (spec.has_webhook) body["webhook_url"] = spec.webhook_url;
  if (spec.has_auto_renew) body["auto_renew"] = spec.auto_renew;
  if (!spec.endpoints.empty()) body["endpoints"] = spec.endpoints;
  if (!spec.allowed_names.empty()) body["allowed_names"] = spec.allowed_names;
  auto j = parse(client_.post_json("/api/v1/services/" + seg(spec.id), body.dump()).body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_service(j);
}

void Commands::service_list() {
  auto j = parse(client_.get("/api/v1/services").body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : j["services"])
    rows.push_back({str(s, "id"), str(s, "name"), str(s, "type"), str(s, "webhook_url"),
                    std::to_string(s["certificates"].size())});
  print_table(out_, {"ID", "NAME", "TYPE", "WEBHOOK", "CERTIFICATES"}, rows);
}

void Commands::service_show(const std::string& id) {
  auto j = parse(client_.get("/api/v1/services/" + seg(id)).body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_service(j);
}

void Commands::service_link(const std::string& id, const std::string& ca, const std::string& serial) {
  auto j = parse(client_.post_json("/api/v1/services/" + seg(id) + "/certificates",
                                   json{{"ca", ca}, {"serial", serial}}.dump())
                     .body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_service(j);
}

}  // namespace cairn::cli
