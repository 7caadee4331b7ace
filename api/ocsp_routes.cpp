// OCSP (RFC 6960 appendix A): POST /ocsp/{ca} with an application/ocsp-request
// body, or GET /ocsp/{ca}/{base64 of the DER request}. Public, as relying
// parties are anonymous. Every answer is HTTP 200 with an OCSPResponse; its
// own status says malformedRequest or unauthorized where that applies.
#include "api/router.h"
#include "core/encoding.h"
#include "objects/ocsp_responder.h"

namespace cairn::api {
namespace {

void send_ocsp(httplib::Response& res, const std::string& der) {
  res.status = 200;
  res.set_content(der, "application/ocsp-response");
}

}  // namespace

void register_ocsp_routes(Router& r) {
  OcspResponder& ocsp = *r.services().ocsp;

  r.post(R"(/ocsp/([^/]+))", Access::Public, [&ocsp](const auto& req, auto& res, const auto&) {
    send_ocsp(res, ocsp.respond(req.matches[1].str(), req.body));
  });

  r.get(R"(/ocsp/([^/]+)/(.+))", Access::Public, [&ocsp](const auto& req, auto& res, const auto&) {
    std::string request;
    try {
      request = base64_decode(req.matches[2].str());
    } catch (const Error&) {
      request.clear();  // answered as malformedRequest below
    }
    res.set_header("Cache-Control", "max-age=300");
    send_ocsp(res, ocsp.respond(req.matches[1].str(), request));
  });
}

}  // namespace cairn::api
