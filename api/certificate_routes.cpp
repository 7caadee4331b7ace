// /api/v1/cas/{ca}/certificates: issue, list, show, download, revoke, renew;
// /api/v1/certificates/{serial}: find a certificate by serial in any CA.
#include "api/json_codec.h"
#include "api/router.h"
#include "core/ca_manager.h"
#include "core/encoding.h"
#include "core/serial_number.h"

namespace cairn::api {
namespace {

std::string json_reason(const std::string& body) {
  if (body.empty()) return "unspecified";
  auto j = parse_json_body(body);
  auto it = j.find("reason");
  if (it == j.end() || it->is_null()) return "unspecified";
  if (!it->is_string())
    throw Error(ErrorKind::InvalidInput, "invalid_field", "'reason' must be a string");
  return it->get<std::string>();
}

}  // namespace

void register_certificate_routes(Router& r) {
  CaManager& m = *r.services().manager;
  const std::string base = R"(/api/v1/cas/([^/]+)/certificates)";
  const std::string one = base + R"(/([0-9A-Fa-f:]{1,64}))";

  r.post(base, Access::Write, [&m](const auto& req, auto& res, const auto& actor) {
    std::string ca = path_name(req, 1);
    auto request = issue_request(parse_json_body(req.body));
    send_json(res, 201, to_json(m.issue(actor, ca, request)));
  });

  r.get(base, Access::Read, [&m](const auto& req, auto& res, const auto&) {
    CertificateFilter filter;
    filter.status = req.get_param_value("status");
    filter.profile = req.get_param_value("profile");
    if (!filter.status.empty() && filter.status != "valid" && filter.status != "revoked" &&
        filter.status != "expired")
      throw Error(ErrorKind::InvalidInput, "invalid_status", "status must be valid, revoked or expired");
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : m.list_certificates(path_name(req, 1), filter)) {
      auto j = to_json(c);
      j.erase("certificate_pem");
      j.erase("sans");  // names are read from the DER; `show` has them
      list.push_back(std::move(j));
    }
    send_json(res, 200, {{"certificates", list}});
  });

  r.get(one, Access::Read, [&m](const auto& req, auto& res, const auto&) {
    send_json(res, 200, to_json(m.get_certificate(path_name(req, 1), req.matches[2])));
  });

  r.get(one + "/download", Access::Read, [&m](const auto& req, auto& res, const auto&) {
    std::string format = format_param(req, {"pem", "der", "chain"});
    std::string ca = path_name(req, 1);
    auto cert = m.get_certificate(ca, req.matches[2]);
    if (format == "der")
      res.set_content(cert.der, "application/pkix-cert");
    else if (format == "pem")
      res.set_content(certificate_pem(cert.der), "application/x-pem-file");
    else
      res.set_content(certificate_pem(cert.der) + m.ca_chain_pem(ca), "application/x-pem-file");
  });

  r.post(one + "/revoke", Access::Write, [&m](const auto& req, auto& res, const auto& actor) {
    auto cert = m.revoke(actor, path_name(req, 1), req.matches[2], json_reason(req.body));
    send_json(res, 200, to_json(cert));
  });

  r.post(one + "/renew", Access::Write, [&m](const auto& req, auto& res, const auto& actor) {
    auto request = issue_request(parse_json_body(req.body.empty() ? "{}" : req.body));
    send_json(res, 201, to_json(m.renew(actor, path_name(req, 1), req.matches[2], request)));
  });

  r.get(R"(/api/v1/certificates/([0-9A-Fa-f:]{1,64}))", Access::Read,
        [&m](const auto& req, auto& res, const auto&) {
          std::string serial = normalize_serial(req.matches[1].str());
          for (const auto& ca : m.list_cas()) {
            try {
              send_json(res, 200, to_json(m.get_certificate(ca.handle, serial)));
              return;
            } catch (const Error& e) {
              if (e.code() != "certificate_not_found") throw;
            }
          }
          throw Error(ErrorKind::NotFound, "certificate_not_found",
                      "no CA issued certificate " + serial);
        });
}

}  // namespace cairn::api
