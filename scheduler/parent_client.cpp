#include "scheduler/parent_client.h"

#include "scheduler/outbound_http.h"

#include <nlohmann/json.hpp>

#include "core/encoding.h"

namespace cairn {

namespace {

// POSTs `body` to <parent>/children/<child>/<action>; returns the JSON answer
// of a 200, throws as the header says otherwise.
nlohmann::json post_to_parent(const ParentRequest& r, const std::string& action, const std::string& body) {
  OutboundHttp http(r.url, r.timeout_seconds, r.timeout_seconds);  // the URL may carry a path prefix (a proxy)
  std::string path = http.prefix + "/api/v1/cas/" + r.parent + "/children/" + r.child + "/" + action;
  httplib::Headers headers{{"Authorization", "Bearer " + r.token}};
  auto res = http.client.Post(path, headers, body, "application/json");
  if (!res)
    throw Error(ErrorKind::Unavailable, "parent_unavailable",
                "parent " + r.url + " did not answer: " + httplib::to_string(res.error()));
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200) {
    std::string code = "http_" + std::to_string(res->status);
    if (j.is_object() && j.contains("error") && j["error"].is_object())
      code = j["error"].value("code", code) + ": " + j["error"].value("message", "");
    throw Error(ErrorKind::Unavailable, res->status >= 500 ? "parent_unavailable" : "parent_refused",
                "parent " + r.url + " answered " + std::to_string(res->status) + " (" + code + ")");
  }
  if (!j.is_object()) throw Error(ErrorKind::Unavailable, "parent_unavailable", "parent " + r.url + " sent an unreadable answer");
  return j;
}

}  // namespace

ChildCertificate request_child_certificate(const ParentRequest& r) {
  auto j = post_to_parent(r, "certify", nlohmann::json{{"csr", csr_pem(r.csr_der)}}.dump());
  if (!j.contains("certificate_pem") || !j["certificate_pem"].is_string() || !j.contains("chain_pem") ||
      !j["chain_pem"].is_string())
    throw Error(ErrorKind::Unavailable, "parent_unavailable", "parent " + r.url + " sent an unreadable answer");
  ChildCertificate out;
  out.certificate_der = to_der(parse_certificate(j["certificate_pem"].get<std::string>()).get());
  out.chain_pem = j["chain_pem"].get<std::string>();
  return out;
}

void revoke_child_certificate(const ParentRequest& r, const std::string& serial) {
  post_to_parent(r, "revoke", nlohmann::json{{"serial", serial}}.dump());
}

}  // namespace cairn
