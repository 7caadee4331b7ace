// /api/v1/cas: create, list, show, CA certificate and chain.
#include "api/access_policy.h"
#include "api/json_codec.h"
#include "api/router.h"
#include "core/ca_manager.h"
#include "core/encoding.h"

namespace cairn::api {

void register_ca_routes(Router& r) {
  CaManager& m = *r.services().manager;

  r.get("/api/v1/cas", Access::Read, [&m](const auto&, auto& res, const Identity& who) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& ca : m.list_cas())
      if (may_use_ca(who, ca.handle)) list.push_back(to_json(ca));
    send_json(res, 200, {{"cas", list}});
  });

  r.post("/api/v1/cas", Access::Admin, [&m](const auto& req, auto& res, const Identity& who) {
    auto body = parse_json_body(req.body);
    auto request = create_ca_request(body);
    auto remote = remote_parent(body);
    send_json(res, 201, to_json(remote ? m.create_ca(who.actor, request, *remote) : m.create_ca(who.actor, request)));
  });

  r.get(R"(/api/v1/cas/([^/]+))", Access::Read, [&m](const auto& req, auto& res, const auto&) {
    send_json(res, 200, to_json(m.get_ca(path_name(req, 1))));
  });

  r.post(R"(/api/v1/cas/([^/]+)/keyroll/init)", Access::Operate,
         [&m](const auto& req, auto& res, const Identity& who) {
           send_json(res, 200, to_json(m.start_key_roll(who.actor, path_name(req, 1))));
         });
  r.post(R"(/api/v1/cas/([^/]+)/keyroll/activate)", Access::Operate,
         [&m](const auto& req, auto& res, const Identity& who) {
           send_json(res, 200, to_json(m.activate_key_roll(who.actor, path_name(req, 1))));
         });

  r.post(R"(/api/v1/cas/([^/]+)/certify)", Access::Admin,
         [&m](const auto& req, auto& res, const Identity& who) {
           send_json(res, 200, to_json(m.certify_pending(who.actor, path_name(req, 1))));
         });

  r.get(R"(/api/v1/cas/([^/]+)/certificate)", Access::Read,
        [&m](const auto& req, auto& res, const auto&) {
          std::string format = format_param(req, {"pem", "der"});
          auto ca = m.get_ca(path_name(req, 1));
          if (ca.certificate_der.empty())
            throw Error(ErrorKind::Conflict, "ca_not_active", "the CA has no certificate yet");
          if (format == "der")
            res.set_content(ca.certificate_der, "application/pkix-cert");
          else
            res.set_content(certificate_pem(ca.certificate_der), "application/x-pem-file");
        });

  r.get(R"(/api/v1/cas/([^/]+)/chain)", Access::Read,
        [&m](const auto& req, auto& res, const auto&) {
          res.set_content(m.ca_chain_pem(path_name(req, 1)), "application/x-pem-file");
        });
}

}  // namespace cairn::api
