// Router — private to api/: registers handlers on the httplib server and
// wraps each in authentication and error mapping. Only api/*.cpp include it
// (it pulls in httplib.h).
// Thread-safety: routes are registered before the server runs.
#pragma once

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

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
  using Handler = std::function<void(const httplib::Request&, httplib::Response&,
                                     const Identity& who)>;

  Router(httplib::Server& server, const ApiServices& services) : server_(server), services_(services) {}

  void get(const std::string& pattern, Access access, Handler handler);
  void post(const std::string& pattern, Access access, Handler handler);
  const ApiServices& services() const { return services_; }

 private:
  httplib::Server::Handler wrap(const std::string& pattern, Access access, Handler handler) const;

  httplib::Server& server_;
  const ApiServices& services_;
};

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
void send_error(httplib::Response& res, int status, const std::string& code, const std::string& message);
// The path capture `index`, checked as a CA or certificate name.
std::string path_name(const httplib::Request& req, size_t index);
// ?format=... limited to the given choices; the first is the default.
std::string format_param(const httplib::Request& req, std::initializer_list<const char*> choices);

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
