// /api/v1/cas/{ca}/requests: certificate requests waiting for approval.
// Requesters poll their request; operators list, approve and reject.
#include "api/access_policy.h"
#include "api/json_codec.h"
#include "api/router.h"
#include "core/ca_manager.h"
#include "core/encoding.h"

namespace cairn::api {
namespace {

bool may_see_request(const Identity& who, const RequestView& r) {
  if (who.bound_to_certificate()) return r.ca == who.certificate_ca && r.replaces == who.certificate_serial;
  return who.role != Role::Service || r.requested_by == who.actor;
}

std::string reject_reason(const std::string& body) {
  if (body.empty()) return "";
  auto j = parse_json_body(body);
  auto it = j.find("reason");
  if (it == j.end() || it->is_null()) return "";
  if (!it->is_string()) throw Error(ErrorKind::InvalidInput, "invalid_field", "'reason' must be a string");
  return it->get<std::string>();
}

}  // namespace

void register_request_routes(Router& r) {
  CaManager& m = *r.services().manager;
  const std::string base = R"(/api/v1/cas/([^/]+)/requests)";
  const std::string one = base + R"(/([0-9a-f]{16}))";

  r.get(base, Access::Read, [&m](const auto& req, auto& res, const Identity& who) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& request : m.list_requests(path_name(req, 1), req.get_param_value("status")))
      if (may_see_request(who, request)) list.push_back(to_json(request));
    send_json(res, 200, {{"requests", list}});
  });

  // The requester polls here; once approved the answer carries the certificate.
  r.get(one, Access::Read, [&m](const auto& req, auto& res, const Identity& who) {
    std::string ca = path_name(req, 1);
    auto request = m.get_request(ca, req.matches[2]);
    if (!may_see_request(who, request))
      throw Error(ErrorKind::Forbidden, "not_owner", "request " + request.id + " is not this token's");
    nlohmann::json j = {{"request", to_json(request)}};
    if (request.status == "approved") {
      auto cert = m.get_certificate(ca, request.serial);
      j["certificate"] = to_json(cert);
      j["chain_pem"] = certificate_pem(cert.der) + m.ca_chain_pem(ca);
    }
    send_json(res, 200, j);
  });

  r.post(one + "/approve", Access::Operate, [&m](const auto& req, auto& res, const Identity& who) {
    auto result = m.approve(who.actor, path_name(req, 1), req.matches[2]);
    send_json(res, 201, to_json(result));
  });

  r.post(one + "/reject", Access::Operate, [&m](const auto& req, auto& res, const Identity& who) {
    std::string ca = path_name(req, 1);
    std::string reason = reject_reason(req.body);
    send_json(res, 200, {{"request", to_json(m.reject(who.actor, ca, req.matches[2], reason))}});
  });
}

}  // namespace cairn::api
