#include "api/public_endpoints.h"

#include <nlohmann/json.hpp>

#include "api/error_answer.h"
#include "api/json_codec.h"
#include "api/json_text.h"
#include "core/ca_manager.h"
#include "core/encoding.h"
#include "eventstore/aggregate_log.h"
#include "eventstore/error.h"
#include "objects/ca_objects_store.h"
#include "objects/ocsp_responder.h"

namespace cairn::api {
namespace {

PublicAnswer json_answer(int status, const nlohmann::json& body) {
  return PublicAnswer{status, "application/json", pretty_json(body) + "\n", "", "", nullptr};
}

PublicAnswer no_such_endpoint() { return json_answer(404, error_json("not_found", "no such endpoint")); }

PublicAnswer method_not_allowed(const char* allow) {
  PublicAnswer a = json_answer(405, error_json("method_not_allowed", std::string("this URL takes ") + allow));
  a.allow = allow;
  return a;
}

// A CA name from the path, checked as every aggregate id is.
std::string ca_name(std::string_view text) {
  validate_aggregate_id(text);
  return std::string(text);
}

// "{digits}{suffix}" with 1-6 digits: the key generation, else -1.
int generation_with_suffix(std::string_view text, std::string_view suffix) {
  if (!text.ends_with(suffix)) return -1;
  text.remove_suffix(suffix.size());
  if (text.empty() || text.size() > 6) return -1;
  int g = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    g = g * 10 + (c - '0');
  }
  return g;
}

// Generation 0 (the CA's first key) answers the URLs of earlier versions;
// once it is retired they serve the current key's objects.
int generation_or_current(CaManager& m, const std::string& ca, int generation) {
  // A read of two fields (404 for unknown CAs), not a full view: this is
  // on every CRL and CA certificate fetch.
  return m.store().read(ca, [&](const CertAuth& state, uint64_t) {
    return generation == 0 && !state.retiring_keys().count(0) ? state.key_generation() : generation;
  });
}

}  // namespace

PublicEndpoints::PublicEndpoints(CaManager& manager, CaObjectsStore& objects, OcspResponder& ocsp, Metrics* metrics)
    : manager_(manager), objects_(objects), ocsp_(ocsp), metrics_(metrics) {}

PublicAnswer PublicEndpoints::answer(std::string_view method, std::string_view path, std::string_view body) const {
  try {
    return route(method, path, body);
  } catch (const std::exception& e) {
    ErrorAnswer error = error_answer(e, method, path, metrics_);
    return json_answer(error.status, error.body);
  }
}

PublicAnswer PublicEndpoints::route(std::string_view method, std::string_view path, std::string_view body) const {
  const bool get = method == "GET";
  if (path == "/health") return get ? json_answer(200, {{"status", "ok"}}) : method_not_allowed("GET");

  if (path.starts_with("/ocsp/")) {
    std::string_view rest = path.substr(6);
    size_t slash = rest.find('/');
    if (slash == 0) return no_such_endpoint();
    if (slash == std::string_view::npos) {
      if (method != "POST") return method_not_allowed("POST");
      return PublicAnswer{200, "application/ocsp-response", ocsp_.respond(ca_name(rest), body), "", "", nullptr};
    }
    std::string_view encoded = rest.substr(slash + 1);
    if (encoded.empty()) return no_such_endpoint();
    if (!get) return method_not_allowed("GET");
    std::string request;
    try {
      request = base64_decode(encoded);
    } catch (const Error&) {
      request.clear();  // answered as malformedRequest
    }
    // RFC 5019: GET answers may be cached by HTTP caches.
    return PublicAnswer{200, "application/ocsp-response", ocsp_.respond(ca_name(rest.substr(0, slash)), request),
                        "max-age=300", "", nullptr};
  }

  const bool crl = path.starts_with("/crl/");
  if (crl || path.starts_with("/ca/")) {
    std::string_view rest = path.substr(crl ? 5 : 4);
    const std::string_view suffix = crl ? ".crl" : ".cer";
    size_t slash = rest.find('/');
    std::string ca;
    int generation = 0;
    bool pem = false;
    if (slash == std::string_view::npos) {
      pem = crl && rest.ends_with(".pem");
      if (!pem && !rest.ends_with(suffix)) return no_such_endpoint();
      std::string_view name = rest.substr(0, rest.size() - 4);
      if (name.empty()) return no_such_endpoint();
      if (!get) return method_not_allowed("GET");
      ca = ca_name(name);
    } else {
      generation = generation_with_suffix(rest.substr(slash + 1), suffix);
      if (slash == 0 || generation < 0) return no_such_endpoint();
      if (!get) return method_not_allowed("GET");
      ca = ca_name(rest.substr(0, slash));
    }
    return crl ? this->crl(ca, generation, pem) : ca_certificate(ca, generation);
  }
  return no_such_endpoint();
}

PublicAnswer PublicEndpoints::crl(const std::string& ca, int generation, bool pem) const {
  generation = generation_or_current(manager_, ca, generation);
  // Never serve a stale CRL, even if the scheduler is behind.
  objects_.reissue_if_due(manager_.store(), ca);
  auto found = manager_.store().read(ca, [&](const CertAuth& state, uint64_t) {
    return objects_.crl_of_generation(state, ca, generation);
  });
  if (!found) throw Error(ErrorKind::NotFound, "crl_not_found", "CA '" + ca + "' has no such CRL");
  if (pem) return PublicAnswer{200, "application/x-pem-file", crl_pem(found->der), "max-age=60", "", nullptr};
  // The DER kept by CaObjectsStore, shared with the answer (aliasing: the
  // answer holds the whole CRL object alive).
  return PublicAnswer{200, "application/pkix-crl", "", "max-age=60", "",
                      std::shared_ptr<const std::string>(found, &found->der)};
}

PublicAnswer PublicEndpoints::ca_certificate(const std::string& ca, int generation) const {
  std::string der = manager_.certificate_of_generation(ca, generation_or_current(manager_, ca, generation));
  if (der.empty()) throw Error(ErrorKind::Conflict, "ca_not_active", "the CA has no certificate yet");
  return PublicAnswer{200, "application/pkix-cert", std::move(der), "", "", nullptr};
}

}  // namespace cairn::api
