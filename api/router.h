// Router — private to api/: the API's routes, each a method and a path
// pattern (a regular expression matched against the whole decoded path)
// with its handler, wrapped in authentication and error mapping.
// dispatch() answers a request with the first route whose pattern matches:
// HEAD is answered as GET (HttpServer leaves the body out); a path no route
// matches is 404 "not_found"; a path that only other methods take is 405
// "method_not_allowed" with an Allow field.
// Thread-safety: routes are registered before the server runs; dispatch()
// may then be called from any number of threads.
// Ownership: borrows the ApiServices, which must outlive it.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "api/http_message.h"
#include "api/http_server.h"
#include "api/token_authenticator.h"

namespace cairn::api {

// Who may call a route (roles in TokenStore):
//   Public   anyone, no token;
//   Read     any valid token but a child's;
//   History  admin, auditor, operator;
//   Operate  admin, operator (revoke any certificate, certify a CA);
//   Issue    admin, operator, service (the handler applies access_policy.h);
//   Renew    as Issue, and an identity bound to a client certificate;
//   Certify  admin, and a child token for its own child CA (the handler checks);
//   Admin    admin only.
// A request without a bearer token over HTTPS is identified by its client
// certificate, if it presented one (client_certificate_identity.h); such an
// identity reaches only Public, Read and Renew routes.
// For routes under /api/v1/cas/{ca}/ the router also refuses operators and
// services whose token does not name that CA ("ca_not_allowed").
enum class Access { Public, Read, History, Operate, Issue, Renew, Certify, Admin };

class Router {
 public:
  using Handler = std::function<void(const HttpRequest&, HttpResponse&, const Identity& who)>;

  explicit Router(const ApiServices& services) : services_(services) {}

  void get(const std::string& pattern, Access access, Handler handler);
  void post(const std::string& pattern, Access access, Handler handler);
  const ApiServices& services() const { return services_; }

  // Fills req.matches and answers into res; never throws.
  void dispatch(HttpRequest& req, HttpResponse& res) const;

 private:
  // A handler with authentication and error mapping around it.
  using Wrapped = std::function<void(const HttpRequest&, HttpResponse&)>;
  struct Route {
    std::string method;
    std::string literal_prefix;  // the pattern's text before its first special character
    std::regex pattern;
    Wrapped handler;
  };
  void add(const char* method, const std::string& pattern, Access access, Handler handler);
  Wrapped wrap(const std::string& pattern, Access access, Handler handler) const;

  const ApiServices& services_;
  std::vector<Route> routes_;
};

void send_json(HttpResponse& res, int status, const nlohmann::json& body);
void send_error(HttpResponse& res, int status, const std::string& code, const std::string& message);
// The path capture `index`, checked as a CA or certificate name.
std::string path_name(const HttpRequest& req, size_t index);
// ?format=... limited to the given choices; the first is the default.
std::string format_param(const HttpRequest& req, std::initializer_list<const char*> choices);

// The text every path a pattern matches starts with (up to its first
// special character; empty for a pattern with alternatives).
std::string literal_prefix(const std::string& pattern);

void register_ca_routes(Router& router);
void register_certificate_routes(Router& router);
void register_request_routes(Router& router);
void register_public_routes(Router& router);
void register_history_routes(Router& router);
void register_token_routes(Router& router);
void register_audit_routes(Router& router);
void register_task_routes(Router& router);
void register_child_routes(Router& router);
void register_service_routes(Router& router);

}  // namespace cairn::api
