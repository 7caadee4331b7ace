// Unauthenticated endpoints on the API listener: /health, OCSP, CRLs and CA
// certificates at the URLs that issued certificates name (CRL distribution
// point, AIA OCSP and caIssuers), answered by PublicEndpoints; and the
// profile list and current CRL under /api/v1/.
#include <memory>

#include "api/public_endpoints.h"
#include "api/router.h"
#include "core/ca_manager.h"
#include "core/profile.h"

namespace cairn::api {
namespace {

void send_answer(HttpResponse& res, PublicAnswer a) {
  res.status = a.status;
  if (!a.cache_control.empty()) res.set_header("Cache-Control", a.cache_control);
  if (!a.allow.empty()) res.set_header("Allow", a.allow);
  res.content_type = a.content_type;
  if (a.shared_body)
    res.shared_body = a.shared_body;
  else
    res.body = std::move(a.body);
}

}  // namespace

void register_public_routes(Router& r) {
  CaManager& m = *r.services().manager;
  auto endpoints = std::make_shared<PublicEndpoints>(m, *r.services().objects, *r.services().ocsp, r.services().metrics);

  // The URLs PublicEndpoints knows; it matches them again (and checks names).
  auto pass = [endpoints](const HttpRequest& req, HttpResponse& res, const Identity&) {
    send_answer(res, endpoints->answer(req.method == "HEAD" ? "GET" : req.method, req.path, req.body));
  };
  for (const char* pattern : {"/health", R"(/ocsp/([^/]+)/(.+))", R"(/crl/([^/]+)\.crl)", R"(/crl/([^/]+)\.pem)",
                              R"(/crl/([^/]+)/([0-9]{1,6})\.crl)", R"(/ca/([^/]+)\.cer)",
                              R"(/ca/([^/]+)/([0-9]{1,6})\.cer)"})
    r.get(pattern, Access::Public, pass);
  r.post(R"(/ocsp/([^/]+))", Access::Public, pass);

  r.get("/api/v1/profiles", Access::Read, [&m](const auto&, auto& res, const auto&) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : m.profiles().all()) {
      nlohmann::json names = nlohmann::json::array();
      for (const auto& n : p.allowed_names) names.push_back(n.text());
      list.push_back({{"name", p.name},
                      {"description", p.description},
                      {"extended_key_usage", p.extended_key_usage},
                      {"default_validity_days", p.default_validity_days},
                      {"max_validity_days", p.max_validity_days},
                      {"allowed_names", names},
                      {"key_types", p.key_types},
                      {"requires_approval", p.requires_approval},
                      {"max_certificates_per_requester", p.max_certificates_per_requester}});
    }
    send_json(res, 200, {{"profiles", list}});
  });

  r.get(R"(/api/v1/cas/([^/]+)/crl)", Access::Public, [&m, endpoints](const auto& req, auto& res, const auto&) {
    std::string ca = path_name(req, 1);
    int current = m.store().read(ca, [](const CertAuth& state, uint64_t) { return state.key_generation(); });
    send_answer(res, endpoints->crl(ca, current, format_param(req, {"der", "pem"}) == "pem"));
  });
}

}  // namespace cairn::api
