// /api/v1/tokens: create (the secret is shown once), list, revoke. Admin only.
#include "api/json_codec.h"
#include "api/router.h"
#include "api/token_store.h"
#include "core/x509_time.h"

namespace cairn::api {
namespace {

nlohmann::json token_json(const TokenInfo& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"role", role_name(t.role)},
          {"created_by", t.created_by},
          {"created_at", iso8601(t.created_ms)},
          {"revoked", t.revoked},
          {"cas", t.cas},
          {"names", t.names},
          {"profiles", t.profiles},
          {"rate_per_hour", t.rate_per_hour}};
}

std::vector<std::string> string_list(const nlohmann::json& body, const char* key) {
  std::vector<std::string> out;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array())
    throw Error(ErrorKind::InvalidInput, "invalid_field", std::string("'") + key + "' must be an array of strings");
  for (const auto& v : *it) {
    if (!v.is_string())
      throw Error(ErrorKind::InvalidInput, "invalid_field", std::string("'") + key + "' must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

void register_token_routes(Router& r) {
  TokenStore& tokens = *r.services().tokens;

  r.post("/api/v1/tokens", Access::Admin, [&tokens](const auto& req, auto& res, const Identity& who) {
    auto body = parse_json_body(req.body);
    auto name = body.find("name");
    auto role = body.find("role");
    if (name == body.end() || role == body.end())
      throw Error(ErrorKind::InvalidInput, "missing_field", "'name' and 'role' are required");
    if (!name->is_string() || !role->is_string())
      throw Error(ErrorKind::InvalidInput, "invalid_field", "'name' and 'role' must be strings");
    TokenScope scope;
    scope.cas = string_list(body, "cas");
    scope.names = string_list(body, "names");
    scope.profiles = string_list(body, "profiles");
    if (auto rate = body.find("rate_per_hour"); rate != body.end() && !rate->is_null()) {
      if (!rate->is_number_integer())
        throw Error(ErrorKind::InvalidInput, "invalid_field", "'rate_per_hour' must be an integer");
      scope.rate_per_hour = rate->template get<int>();
    }
    auto [info, secret] = tokens.create(name->template get<std::string>(),
                                        parse_role(role->template get<std::string>()), who.actor, scope);
    auto j = token_json(info);
    j["token"] = secret;
    send_json(res, 201, j);
  });

  r.get("/api/v1/tokens", Access::Admin, [&tokens](const auto&, auto& res, const auto&) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : tokens.list()) list.push_back(token_json(t));
    send_json(res, 200, {{"tokens", list}});
  });

  r.post(R"(/api/v1/tokens/([0-9a-f]{16})/revoke)", Access::Admin,
         [&tokens](const auto& req, auto& res, const auto&) {
           send_json(res, 200, token_json(tokens.revoke(req.matches[1])));
         });
}

}  // namespace cairn::api
