// /api/v1/services: the service registry (register, list, show, update,
// link certificates). Admins and operators change it; auditors read it.
#include "api/access_policy.h"
#include "api/json_codec.h"
#include "api/router.h"
#include "core/x509_time.h"
#include "scheduler/background_tasks.h"

namespace cairn::api {
namespace {

nlohmann::json to_json(const ServiceRecord& r) {
  nlohmann::json certs = nlohmann::json::array();
  for (const auto& c : r.certificates) certs.push_back({{"ca", c.ca}, {"serial", c.serial}});
  return {{"id", r.id},
          {"name", r.name},
          {"type", r.type},
          {"endpoints", r.endpoints},
          {"webhook_url", r.webhook_url},
          {"auto_renew", r.auto_renew},
          {"allowed_names", r.allowed_names},
          {"certificates", certs},
          {"created_by", r.created_by},
          {"created_at", iso8601(r.created_ms)},
          {"updated_by", r.updated_by},
          {"updated_at", iso8601(r.updated_ms)}};
}

std::optional<std::string> opt_string(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw Error(ErrorKind::InvalidInput, "invalid_field", std::string("'") + key + "' must be a string");
  return it->get<std::string>();
}

std::optional<std::vector<std::string>> opt_strings(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  std::vector<std::string> out;
  bool ok = it->is_array();
  if (ok)
    for (const auto& v : *it) {
      ok = ok && v.is_string();
      if (ok) out.push_back(v.get<std::string>());
    }
  if (!ok) throw Error(ErrorKind::InvalidInput, "invalid_field", std::string("'") + key + "' must be an array of strings");
  return out;
}

ServiceUpdate update_from(const nlohmann::json& j) {
  ServiceUpdate u;
  u.name = opt_string(j, "name");
  u.type = opt_string(j, "type");
  u.webhook_url = opt_string(j, "webhook_url");
  u.endpoints = opt_strings(j, "endpoints");
  u.allowed_names = opt_strings(j, "allowed_names");
  if (auto it = j.find("auto_renew"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) throw Error(ErrorKind::InvalidInput, "invalid_field", "'auto_renew' must be true or false");
    u.auto_renew = it->get<bool>();
  }
  return u;
}

// Operators see and change only services whose linked certificates all
// come from their CAs (one they could not see would leak, one they could
// not manage must not be redirected or auto-renewed by them).
bool may_manage(const Identity& who, const ServiceRecord& s) {
  for (const auto& c : s.certificates)
    if (!may_use_ca(who, c.ca)) return false;
  return true;
}

ServiceRecord managed(const Identity& who, const ServiceRecord& s) {
  if (!may_manage(who, s))
    throw Error(ErrorKind::Forbidden, "ca_not_allowed", "service '" + s.id + "' holds certificates of other CAs");
  return s;
}

}  // namespace

void register_service_routes(Router& r) {
  BackgroundTasks& tasks = *r.services().tasks;
  const std::string one = R"(/api/v1/services/([^/]+))";

  r.post("/api/v1/services", Access::Operate, [&tasks](const auto& req, auto& res, const Identity& who) {
    auto body = parse_json_body(req.body);
    ServiceRecord rec;
    auto id = opt_string(body, "id");
    if (!id) throw Error(ErrorKind::InvalidInput, "missing_field", "'id' is required");
    rec.id = *id;
    auto u = update_from(body);
    rec.name = u.name.value_or("");
    rec.type = u.type.value_or("");
    rec.webhook_url = u.webhook_url.value_or("");
    rec.endpoints = u.endpoints.value_or(std::vector<std::string>{});
    rec.allowed_names = u.allowed_names.value_or(std::vector<std::string>{});
    rec.auto_renew = u.auto_renew.value_or(false);
    auto [saved, secret] = tasks.services().add(who.actor, rec);
    auto j = to_json(saved);
    j["webhook_secret"] = secret;  // shown once
    send_json(res, 201, j);
  });

  r.get("/api/v1/services", Access::History, [&tasks](const auto&, auto& res, const Identity& who) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : tasks.services().list())
      if (may_manage(who, s)) list.push_back(to_json(s));
    send_json(res, 200, {{"services", list}});
  });

  r.get(one, Access::History, [&tasks](const auto& req, auto& res, const Identity& who) {
    send_json(res, 200, to_json(managed(who, tasks.services().get(req.matches[1]))));
  });

  r.post(one, Access::Operate, [&tasks](const auto& req, auto& res, const Identity& who) {
    managed(who, tasks.services().get(req.matches[1]));
    auto updated = tasks.services().update(who.actor, req.matches[1], update_from(parse_json_body(req.body)));
    tasks.request_service_check();
    send_json(res, 200, to_json(updated));
  });

  r.post(one + "/certificates", Access::Operate, [&tasks](const auto& req, auto& res, const Identity& who) {
    auto body = parse_json_body(req.body);
    auto ca = opt_string(body, "ca");
    auto serial = opt_string(body, "serial");
    if (!ca || !serial) throw Error(ErrorKind::InvalidInput, "missing_field", "'ca' and 'serial' are required");
    validate_aggregate_id(*ca);
    require_ca(who, *ca);
    managed(who, tasks.services().get(req.matches[1]));
    auto linked = tasks.services().link(who.actor, req.matches[1], *ca, *serial);
    tasks.request_service_check();
    send_json(res, 200, to_json(linked));
  });
}

}  // namespace cairn::api
