// Children on other cairn servers: the parent's admin registers a child
// (POST /api/v1/cas/{parent}/children, which makes its token) and the
// child's server asks for its certificate with that token
// (POST /api/v1/cas/{parent}/children/{child}/certify).
#include "api/json_codec.h"
#include "api/router.h"
#include "api/token_store.h"
#include "core/ca_manager.h"
#include "core/encoding.h"

namespace cairn::api {
namespace {

// The parent and child of a .../children/{child}/... route, checked against
// a child token, and the body's required string field `key`.
struct ChildRequest {
  std::string parent, child, value;
};
ChildRequest child_request(const HttpRequest& req, const Identity& who, const char* key) {
  ChildRequest c{path_name(req, 1), path_name(req, 2), ""};
  if (who.role == Role::Child && who.child != c.child)
    throw Error(ErrorKind::Forbidden, "not_owner", "this token speaks for '" + who.child + "', not '" + c.child + "'");
  auto body = parse_json_body(req.body);
  auto it = body.find(key);
  if (it == body.end() || !it->is_string())
    throw Error(ErrorKind::InvalidInput, "missing_field", std::string("'") + key + "' is required");
  c.value = it->get<std::string>();
  return c;
}

}  // namespace

void register_child_routes(Router& r) {
  CaManager& m = *r.services().manager;
  TokenStore& tokens = *r.services().tokens;
  const std::string base = R"(/api/v1/cas/([^/]+)/children)";

  r.post(base, Access::Admin, [&m, &tokens](const auto& req, auto& res, const Identity& who) {
    std::string parent = path_name(req, 1);
    auto body = parse_json_body(req.body);
    auto child = body.find("child");
    if (child == body.end() || !child->is_string())
      throw Error(ErrorKind::InvalidInput, "missing_field", "'child' (the child CA's handle) is required");
    std::string handle = child->template get<std::string>();
    validate_aggregate_id(handle);
    CaView view = m.get_ca(parent);  // 404 for an unknown parent
    if (view.status != "active")
      throw Error(ErrorKind::Conflict, "ca_not_active", "CA '" + parent + "' cannot certify children yet");
    TokenScope scope;
    scope.cas = {parent};
    scope.child = handle;
    auto [info, secret] = tokens.create("child-" + parent + "-" + handle, Role::Child, who.actor, scope);
    send_json(res, 201, {{"parent", parent}, {"child", handle}, {"token_id", info.id}, {"token", secret}});
  });

  r.post(base + R"(/([^/]+)/certify)", Access::Certify, [&m](const auto& req, auto& res, const Identity& who) {
    ChildRequest c = child_request(req, who, "csr");
    auto body = parse_json_body(req.body);
    int days = 1825;
    if (auto v = body.find("validity_days"); v != body.end() && !v->is_null()) {
      if (!v->is_number_integer() || v->template get<int64_t>() < 1 || v->template get<int64_t>() > 36500)
        throw Error(ErrorKind::InvalidInput, "invalid_field", "'validity_days' must be an integer 1-36500");
      days = v->template get<int>();
    }
    std::string der = to_der(parse_csr_object(c.value).get());
    auto issued = m.certify_remote_child(who.actor, c.parent, c.child, der, days);
    send_json(res, 200, {{"certificate_pem", certificate_pem(issued.certificate_der)}, {"chain_pem", issued.chain_pem}});
  });

  // After a key rollover the child's server asks for its retired key's
  // certificate to be revoked (superseded). Repeating it is harmless.
  r.post(base + R"(/([^/]+)/revoke)", Access::Certify, [&m](const auto& req, auto& res, const Identity& who) {
    ChildRequest c = child_request(req, who, "serial");
    auto cert = m.get_certificate(c.parent, c.value);
    if (cert.child_ca != c.child)
      throw Error(ErrorKind::Forbidden, "not_owner", "certificate " + cert.serial + " is not one of '" + c.child + "'");
    if (cert.status != "revoked") cert = m.revoke(who.actor, c.parent, cert.serial, "superseded");
    send_json(res, 200, {{"serial", cert.serial}, {"status", cert.status}});
  });
}

}  // namespace cairn::api
