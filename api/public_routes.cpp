// Unauthenticated endpoints: /health, CRLs and CA certificates at the URLs
// that issued certificates name (CRL distribution point, AIA caIssuers).
#include "api/router.h"
#include "core/ca_manager.h"
#include "core/encoding.h"
#include "core/profile.h"
#include "objects/ca_objects_store.h"

namespace cairn::api {
namespace {

void send_crl(CaManager& m, CaObjectsStore& objects, const std::string& ca, const std::string& format,
              httplib::Response& res) {
  m.get_ca(ca);  // 404 for unknown CAs
  // Until the scheduler re-signs CRLs ahead of time, never serve a stale one.
  objects.reissue_if_due(m.store(), ca);
  auto crl = objects.crl(ca);
  if (!crl) throw Error(ErrorKind::NotFound, "crl_not_found", "CA '" + ca + "' has no CRL yet");
  res.set_header("Cache-Control", "max-age=60");
  if (format == "pem")
    res.set_content(crl_pem(crl->der), "application/x-pem-file");
  else
    res.set_content(crl->der, "application/pkix-crl");
}

}  // namespace

void register_public_routes(Router& r) {
  CaManager& m = *r.services().manager;
  CaObjectsStore& objects = *r.services().objects;

  r.get("/health", Access::Public, [](const auto&, auto& res, const auto&) {
    send_json(res, 200, {{"status", "ok"}});
  });

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

  r.get(R"(/api/v1/cas/([^/]+)/crl)", Access::Public, [&m, &objects](const auto& req, auto& res, const auto&) {
    send_crl(m, objects, path_name(req, 1), format_param(req, {"der", "pem"}), res);
  });
  r.get(R"(/crl/([^/]+)\.crl)", Access::Public, [&m, &objects](const auto& req, auto& res, const auto&) {
    send_crl(m, objects, path_name(req, 1), "der", res);
  });
  r.get(R"(/crl/([^/]+)\.pem)", Access::Public, [&m, &objects](const auto& req, auto& res, const auto&) {
    send_crl(m, objects, path_name(req, 1), "pem", res);
  });
  r.get(R"(/ca/([^/]+)\.cer)", Access::Public, [&m](const auto& req, auto& res, const auto&) {
    auto ca = m.get_ca(path_name(req, 1));
    if (ca.certificate_der.empty())
      throw Error(ErrorKind::Conflict, "ca_not_active", "the CA has no certificate yet");
    res.set_content(ca.certificate_der, "application/pkix-cert");
  });
}

}  // namespace cairn::api
