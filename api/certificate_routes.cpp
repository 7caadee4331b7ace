// /api/v1/cas/{ca}/certificates: issue, list, show, download, revoke, renew;
// /api/v1/certificates/{serial}: find a certificate by serial in any CA.
#include "api/access_policy.h"
#include "api/client_certificate_identity.h"
#include "api/json_codec.h"
#include "api/rate_limiter.h"
#include "api/router.h"

#include <spdlog/spdlog.h>

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

// Spends one unit of the caller's issuance allowance or answers 429.
void take_allowance(const ApiServices& services, const Identity& who, HttpResponse& res) {
  if (!services.limiter) return;
  int limit = who.rate_per_hour > 0 ? who.rate_per_hour
              : who.role == Role::Service ? services.service_rate_per_hour : 0;
  if (auto wait = services.limiter->take(who.actor, limit)) {
    res.set_header("Retry-After", std::to_string(*wait));
    throw Error(ErrorKind::RateLimited, "rate_limited",
                "this token may request " + std::to_string(limit) +
                    " certificates per hour; retry in " + std::to_string(*wait) + " s");
  }
}

}  // namespace

void register_certificate_routes(Router& r) {
  CaManager& m = *r.services().manager;
  const ApiServices& services = r.services();
  const std::string base = R"(/api/v1/cas/([^/]+)/certificates)";
  const std::string one = base + R"(/([0-9A-Fa-f:]{1,64}))";

  r.post(base, Access::Issue, [&m, &services](const auto& req, auto& res, const Identity& who) {
    std::string ca = path_name(req, 1);
    auto request = issue_request(parse_json_body(req.body));
    take_allowance(services, who, res);
    auto result = m.issue(who.actor, ca, request, issue_check(who));
    send_json(res, result.pending ? 202 : 201, to_json(result));
  });

  r.get(base, Access::Read, [&m](const auto& req, auto& res, const Identity& who) {
    CertificateFilter filter;
    filter.status = req.get_param_value("status");
    filter.profile = req.get_param_value("profile");
    if (!filter.status.empty() && filter.status != "valid" && filter.status != "revoked" &&
        filter.status != "expired")
      throw Error(ErrorKind::InvalidInput, "invalid_status", "status must be valid, revoked or expired");
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : m.list_certificates(path_name(req, 1), filter)) {
      if (!may_see_certificate(who, c)) continue;
      auto j = to_json(c);
      j.erase("certificate_pem");
      j.erase("sans");  // names are read from the DER; `show` has them
      list.push_back(std::move(j));
    }
    send_json(res, 200, {{"certificates", list}});
  });

  r.get(one, Access::Read, [&m](const auto& req, auto& res, const Identity& who) {
    auto cert = m.get_certificate(path_name(req, 1), req.matches[2]);
    require_owner(who, cert);
    send_json(res, 200, to_json(cert));
  });

  r.get(one + "/download", Access::Read, [&m](const auto& req, auto& res, const Identity& who) {
    std::string format = format_param(req, {"pem", "der", "chain"});
    std::string ca = path_name(req, 1);
    auto cert = m.get_certificate(ca, req.matches[2]);
    require_owner(who, cert);
    if (format == "der")
      res.set_content(cert.der, "application/pkix-cert");
    else if (format == "pem")
      res.set_content(certificate_pem(cert.der), "application/x-pem-file");
    else
      res.set_content(certificate_pem(cert.der) + m.ca_chain_pem(ca), "application/x-pem-file");
  });

  // The private key of a certificate issued with keep_key, for its owner.
  r.get(one + "/key", Access::Issue, [&m](const auto& req, auto& res, const Identity& who) {
    std::string ca = path_name(req, 1);
    auto cert = m.get_certificate(ca, req.matches[2]);
    require_ca(who, ca);
    // A private key goes to the token that owns the certificate, or an admin.
    if (who.role != Role::Admin && cert.requested_by != who.actor)
      throw Error(ErrorKind::Forbidden, "not_owner", "only the owner of certificate " + cert.serial + " may fetch its key");
    auto pem = m.managed_key_pem(ca, cert.serial);
    if (!pem)
      throw Error(ErrorKind::NotFound, "key_not_managed", "the server does not keep the key of this certificate");
    spdlog::info("the kept key of certificate {} of '{}' was fetched by {}", cert.serial, ca, who.actor);
    res.set_header("Cache-Control", "no-store");
    res.set_content(*pem, "application/x-pem-file");
  });

  r.post(one + "/revoke", Access::Issue, [&m](const auto& req, auto& res, const Identity& who) {
    std::string ca = path_name(req, 1);
    std::string reason = json_reason(req.body);
    require_owner(who, m.get_certificate(ca, req.matches[2]));
    send_json(res, 200, to_json(m.revoke(who.actor, ca, req.matches[2], reason)));
  });

  // Bulk revocation (after a key compromise): all listed serials in one
  // command and one CRL, or none of them. Operators only.
  r.post(R"(/api/v1/cas/([^/]+)/revocations)", Access::Operate, [&m](const auto& req, auto& res, const Identity& who) {
    std::string ca = path_name(req, 1);
    require_ca(who, ca);
    auto j = parse_json_body(req.body);
    auto serials = j.find("serials");
    if (serials == j.end() || !serials->is_array())
      throw Error(ErrorKind::InvalidInput, "invalid_field", "'serials' must be an array of serial numbers");
    std::vector<std::string> list;
    for (const auto& s : *serials) {
      if (!s.is_string()) throw Error(ErrorKind::InvalidInput, "invalid_field", "'serials' must hold strings");
      list.push_back(s.template get<std::string>());
    }
    size_t revoked = m.revoke_many(who.actor, ca, list, json_reason(req.body));
    send_json(res, 200, nlohmann::json{{"revoked", revoked}});
  });

  r.post(one + "/renew", Access::Renew, [&m, &services](const auto& req, auto& res, const Identity& who) {
    std::string ca = path_name(req, 1);
    auto request = issue_request(parse_json_body(req.body.empty() ? "{}" : req.body));
    auto old = m.get_certificate(ca, req.matches[2]);
    require_owner(who, old);
    take_allowance(services, who, res);
    auto result = who.bound_to_certificate()
                      ? m.renew_for_owner(who.actor, ca, old.serial, request, certificate_renewal_check(old))
                      : m.renew(who.actor, ca, old.serial, request, issue_check(who));
    send_json(res, result.pending ? 202 : 201, to_json(result));
  });

  r.get(R"(/api/v1/certificates/([0-9A-Fa-f:]{1,64}))", Access::Read,
        [&m](const auto& req, auto& res, const Identity& who) {
          std::string serial = normalize_serial(req.matches[1]);
          for (const auto& ca : m.list_cas()) {
            if (!may_use_ca(who, ca.handle)) continue;
            try {
              auto cert = m.get_certificate(ca.handle, serial);
              if (!may_see_certificate(who, cert)) continue;
              send_json(res, 200, to_json(cert));
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
