#include "api/router.h"

#include <chrono>

#include "api/access_policy.h"
#include "api/client_certificate_identity.h"
#include "api/error_answer.h"
#include "api/json_codec.h"
#include "api/json_text.h"
#include "api/token_authenticator.h"
#include "eventstore/aggregate_log.h"
#include "eventstore/error.h"
#include "scheduler/metrics.h"

namespace cairn::api {

void send_json(HttpResponse& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(pretty_json(body) + "\n", "application/json");
}

void send_error(HttpResponse& res, int status, const std::string& code, const std::string& message) {
  send_json(res, status, error_json(code, message));
}

std::string path_name(const HttpRequest& req, size_t index) {
  std::string name = req.matches[index];
  validate_aggregate_id(name);
  return name;
}

std::string format_param(const HttpRequest& req, std::initializer_list<const char*> choices) {
  if (!req.has_param("format")) return *choices.begin();
  std::string f = req.get_param_value("format");
  for (const char* c : choices)
    if (f == c) return f;
  std::string list;
  for (const char* c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  throw Error(ErrorKind::InvalidInput, "invalid_format", "format must be one of " + list);
}

void Router::get(const std::string& pattern, Access access, Handler handler) {
  add("GET", pattern, access, std::move(handler));
}

void Router::post(const std::string& pattern, Access access, Handler handler) {
  add("POST", pattern, access, std::move(handler));
}

std::string literal_prefix(const std::string& pattern) {
  if (pattern.find('|') != std::string::npos) return {};  // alternatives: no common prefix known
  size_t special = pattern.find_first_of("\\^$.?*+()[]{}");
  if (special == std::string::npos) return pattern;
  // A quantifier applies to the character before it, which is then optional.
  if (special > 0 && std::string_view("?*{").find(pattern[special]) != std::string_view::npos) --special;
  return pattern.substr(0, special);
}

void Router::add(const char* method, const std::string& pattern, Access access, Handler handler) {
  routes_.push_back(Route{method, literal_prefix(pattern), std::regex(pattern),
                          wrap(pattern, access, std::move(handler))});
}

void Router::dispatch(HttpRequest& req, HttpResponse& res) const {
  const std::string& method = req.method == "HEAD" ? std::string("GET") : req.method;
  std::string allowed;
  try {
    std::smatch m;
    for (const auto& route : routes_) {
      if (!req.path.starts_with(route.literal_prefix) || !std::regex_match(req.path, m, route.pattern)) continue;
      if (route.method != method) {
        if (allowed.find(route.method) == std::string::npos)
          allowed += (allowed.empty() ? "" : ", ") + route.method + (route.method == "GET" ? ", HEAD" : "");
        continue;
      }
      req.matches.assign(m.begin(), m.end());
      route.handler(req, res);
      return;
    }
  } catch (const std::exception& e) {
    ErrorAnswer answer = error_answer(e, req.method, req.path, services_.metrics);
    send_json(res, answer.status, answer.body);
    return;
  }
  if (allowed.empty()) return send_error(res, 404, "not_found", "no such endpoint");
  res.set_header("Allow", allowed);
  send_error(res, 405, "method_not_allowed", "this endpoint does not take " + req.method);
}

namespace {

bool role_allowed(Access access, Role role) {
  switch (access) {
    case Access::Public: return true;
    case Access::Read: return role != Role::Child;
    case Access::Certify: return role == Role::Admin || role == Role::Child;
    case Access::History: return role == Role::Admin || role == Role::Auditor || role == Role::Operator;
    case Access::Operate: return role == Role::Admin || role == Role::Operator;
    case Access::Issue:
    case Access::Renew: return role == Role::Admin || role == Role::Operator || role == Role::Service;
    case Access::Admin: return role == Role::Admin;
  }
  return false;
}

}  // namespace

Router::Wrapped Router::wrap(const std::string& pattern, Access access, Handler handler) const {
  const bool ca_scoped = pattern.starts_with("/api/v1/cas/([^/]+)");
  return [this, access, ca_scoped, handler = std::move(handler)](const HttpRequest& req, HttpResponse& res) {
    try {
      Identity who{"anonymous", Role::Auditor, {}, {}, {}, 0, {}, {}, {}};
      if (access != Access::Public) {
        std::string header = req.get_header_value("Authorization");
        constexpr std::string_view kBearer = "Bearer ";
        auto by_certificate = header.empty() ? identify_client_certificate(*services_.manager, req.ssl)
                                             : std::nullopt;
        if (by_certificate) {
          who = std::move(*by_certificate);
          if (access != Access::Read && access != Access::Renew)
            throw Error(ErrorKind::Forbidden, "certificate_identity_scope",
                        "a client certificate may only read and renew itself");
        } else {
          if (!std::string_view(header).starts_with(kBearer)) {
            res.set_header("WWW-Authenticate", "Bearer");
            throw Error(ErrorKind::Unauthorized, "unauthorized", "a bearer token is required");
          }
          auto found = services_.auth->identify(std::string_view(header).substr(kBearer.size()));
          if (!found) {
            res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            throw Error(ErrorKind::Unauthorized, "invalid_token", "the bearer token is not valid");
          }
          who = std::move(*found);
        }
        if (!role_allowed(access, who.role))
          throw Error(ErrorKind::Forbidden, "forbidden",
                      "the " + role_name(who.role) + " role may not do this");
        if (ca_scoped) require_ca(who, path_name(req, 1));
      }
      handler(req, res, who);
    } catch (const std::exception& e) {
      ErrorAnswer answer = error_answer(e, req.method, req.path, services_.metrics);
      send_json(res, answer.status, answer.body);
    }
  };
}

}  // namespace cairn::api
