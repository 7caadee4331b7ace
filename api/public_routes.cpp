// Unauthenticated endpoints: /health, CRLs and CA certificates at the URLs
// that issued certificates name (CRL distribution point, AIA caIssuers).
#include "api/router.h"

#include "core/ca_manager.h"
#include "core/encoding.h"
#include "core/profile.h"
#include "objects/ca_objects_store.h"

namespace cairn::api {
namespace {

// Generation 0 (the CA's first key) answers the URLs of earlier versions;
// once it is retired they serve the current key's objects.
int generation_or_current(CaManager& m, const std::string& ca, int generation) {
  // A read of two fields (404 for unknown CAs), not a full view: this is
  // on every CRL and CA certificate fetch.
  return m.store().read(ca, [&](const CertAuth& state, uint64_t) {
    return generation == 0 && !state.retiring_keys().count(0) ? state.key_generation() : generation;
  });
}

void send_crl(CaManager& m, CaObjectsStore& objects, const std::string& ca, int generation, const std::string& format,
              httplib::Response& res) {
  generation = generation_or_current(m, ca, generation);
  // Never serve a stale CRL, even if the scheduler is behind.
  objects.reissue_if_due(m.store(), ca);
  auto crl = m.store().read(ca, [&](const CertAuth& state, uint64_t) {
    return objects.crl_of_generation(state, ca, generation);
  });
  if (!crl) throw Error(ErrorKind::NotFound, "crl_not_found", "CA '" + ca + "' has no such CRL");
  res.set_header("Cache-Control", "max-age=60");
  if (format == "pem")
    res.set_content(crl_pem(crl->der), "application/x-pem-file");
  else
    res.set_content(crl->der, "application/pkix-crl");
}

void send_ca_certificate(CaManager& m, const std::string& ca, int generation, httplib::Response& res) {
  std::string der = m.certificate_of_generation(ca, generation_or_current(m, ca, generation));
  if (der.empty()) throw Error(ErrorKind::Conflict, "ca_not_active", "the CA has no certificate yet");
  res.set_content(der, "application/pkix-cert");
}

int generation_of(const httplib::Request& req, size_t index) {
  std::string text = req.matches[index];
  if (text.empty() || text.size() > 6) throw Error(ErrorKind::NotFound, "key_not_found", "no such key generation");
  return std::stoi(text);
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
    std::string ca = path_name(req, 1);
    int current = m.store().read(ca, [](const CertAuth& state, uint64_t) { return state.key_generation(); });
    send_crl(m, objects, ca, current, format_param(req, {"der", "pem"}), res);
  });
  r.get(R"(/crl/([^/]+)\.crl)", Access::Public, [&m, &objects](const auto& req, auto& res, const auto&) {
    send_crl(m, objects, path_name(req, 1), 0, "der", res);
  });
  r.get(R"(/crl/([^/]+)\.pem)", Access::Public, [&m, &objects](const auto& req, auto& res, const auto&) {
    send_crl(m, objects, path_name(req, 1), 0, "pem", res);
  });
  r.get(R"(/crl/([^/]+)/([0-9]{1,6})\.crl)", Access::Public, [&m, &objects](const auto& req, auto& res, const auto&) {
    send_crl(m, objects, path_name(req, 1), generation_of(req, 2), "der", res);
  });
  r.get(R"(/ca/([^/]+)\.cer)", Access::Public, [&m](const auto& req, auto& res, const auto&) {
    send_ca_certificate(m, path_name(req, 1), 0, res);
  });
  r.get(R"(/ca/([^/]+)/([0-9]{1,6})\.cer)", Access::Public, [&m](const auto& req, auto& res, const auto&) {
    send_ca_certificate(m, path_name(req, 1), generation_of(req, 2), res);
  });
}

}  // namespace cairn::api
