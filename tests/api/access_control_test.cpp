// Access control on the real server: operator and service tokens, their CA,
// name and profile scope, certificate ownership, and the issuance rate limit.
#include "tests/api/api_fixture.h"

namespace cairn {
namespace {

using nlohmann::json;
using testing::HttpApiTest;
using testing::make_csr_pem;

class AccessControlTest : public HttpApiTest {
 protected:
  // Creates a token and returns the headers that carry it.
  httplib::Headers token(const json& body) {
    auto r = post("/api/v1/tokens", body.dump());
    EXPECT_EQ(r->status, 201) << r->body;
    return {{"Authorization", "Bearer " + json::parse(r->body)["token"].get<std::string>()}};
  }
  httplib::Result post_as(const httplib::Headers& who, const std::string& path, const std::string& body) {
    return client_->Post(path, who, body, "application/json");
  }
  static std::string csr_body(const std::string& cn, const std::string& sans,
                              const std::string& profile = "server") {
    return json{{"csr", make_csr_pem(cn, sans)}, {"profile", profile}}.dump();
  }
  httplib::Headers web_service(int rate_per_hour = 0) {
    json body{{"name", "web"},
              {"role", "service"},
              {"cas", {"issuing"}},
              {"names", {"*.web.example", "10.1.0.0/16"}},
              {"profiles", {"server"}}};
    if (rate_per_hour) body["rate_per_hour"] = rate_per_hour;
    return token(body);
  }
  static constexpr const char* kIssue = "/api/v1/cas/issuing/certificates";
};

TEST_F(AccessControlTest, ServiceIssuesOnlyItsNamesWithItsProfiles) {
  auto web = web_service();
  auto ok = post_as(web, kIssue, csr_body("a.web.example", "DNS:a.web.example,IP:10.1.2.3"));
  ASSERT_EQ(ok->status, 201) << ok->body;
  EXPECT_EQ(json::parse(ok->body)["certificate"]["requested_by"], "token:web");
  auto deep = post_as(web, kIssue, csr_body("x.y.web.example", "DNS:x.y.web.example"));
  EXPECT_EQ(deep->status, 201) << deep->body;

  uint64_t before = ca_version("issuing");
  uint64_t root_before = ca_version("root");
  struct Case {
    std::string body, code;
  };
  const std::vector<Case> refused = {
      {csr_body("evil.example", "DNS:evil.example"), "name_not_allowed"},
      {csr_body("a.web.example", "DNS:a.web.example,DNS:evil.example"), "name_not_allowed"},
      {csr_body("web.example", "DNS:web.example"), "name_not_allowed"},  // the apex is not below it
      {csr_body("a.web.example", "DNS:a.web.example,IP:10.2.0.1"), "name_not_allowed"},
      {csr_body("evil.example", "DNS:a.web.example"), "name_not_allowed"},  // the CN counts too
      {csr_body("a.web.example", "DNS:a.web.example", "peer"), "profile_not_allowed"},
      {json{{"csr", make_csr_pem("a.web.example", "DNS:a.web.example")},
            {"sans", {{"dns", {"evil.example"}}}}}.dump(), "name_not_allowed"},
      {json{{"key_type", "ec-p256"}, {"subject", "CN=evil.example"},
            {"sans", {{"dns", {"evil.example"}}}}}.dump(), "name_not_allowed"},
  };
  for (const auto& c : refused) {
    auto r = post_as(web, kIssue, c.body);
    EXPECT_EQ(r->status, 403) << r->body;
    EXPECT_EQ(code(r), c.code) << r->body;
  }
  auto other_ca = post_as(web, "/api/v1/cas/root/certificates", csr_body("a.web.example", "DNS:a.web.example"));
  EXPECT_EQ(other_ca->status, 403);
  EXPECT_EQ(code(other_ca), "ca_not_allowed");
  EXPECT_EQ(ca_version("issuing"), before) << "a refused request stored nothing";
  EXPECT_EQ(ca_version("root"), root_before);

  auto generated = post_as(web, kIssue, json{{"key_type", "ec-p256"}, {"subject", "CN=g.web.example"},
                                             {"sans", {{"dns", {"g.web.example"}}}}}.dump());
  EXPECT_EQ(generated->status, 201) << generated->body;
}

TEST_F(AccessControlTest, ServiceSeesRenewsAndRevokesOnlyItsOwnCertificates) {
  auto web = web_service();
  std::string theirs = issue("admin.example")["certificate"]["serial"];
  auto mine_r = post_as(web, kIssue, csr_body("m.web.example", "DNS:m.web.example"));
  ASSERT_EQ(mine_r->status, 201) << mine_r->body;
  std::string mine = json::parse(mine_r->body)["certificate"]["serial"];

  auto listed = json::parse(client_->Get(kIssue, web)->body)["certificates"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["serial"], mine);
  const std::string theirs_path = std::string(kIssue) + "/" + theirs;
  std::vector<httplib::Result> refused;
  refused.push_back(client_->Get(theirs_path, web));
  refused.push_back(client_->Get(theirs_path + "/download", web));
  refused.push_back(post_as(web, theirs_path + "/revoke", R"({"reason":"superseded"})"));
  refused.push_back(post_as(web, theirs_path + "/renew", csr_body("m.web.example", "DNS:m.web.example")));
  for (const auto& r : refused) {
    EXPECT_EQ(r->status, 403) << r->body;
    EXPECT_EQ(code(r), "not_owner");
  }
  EXPECT_EQ(client_->Get("/api/v1/certificates/" + theirs, web)->status, 404);
  EXPECT_EQ(json::parse(get(theirs_path)->body)["status"], "valid");

  const std::string mine_path = std::string(kIssue) + "/" + mine;
  auto renewed = post_as(web, mine_path + "/renew", csr_body("m.web.example", "DNS:m.web.example"));
  ASSERT_EQ(renewed->status, 201) << renewed->body;
  EXPECT_EQ(json::parse(renewed->body)["certificate"]["replaces"], mine);
  auto renew_out = post_as(web, mine_path + "/renew", csr_body("evil.example", "DNS:evil.example"));
  EXPECT_EQ(code(renew_out), "name_not_allowed");
  EXPECT_EQ(post_as(web, mine_path + "/revoke", R"({"reason":"superseded"})")->status, 200);
  EXPECT_EQ(client_->Get("/api/v1/certificates/" + mine, web)->status, 200);

  auto cas = json::parse(client_->Get("/api/v1/cas", web)->body)["cas"];
  ASSERT_EQ(cas.size(), 1u);
  EXPECT_EQ(cas[0]["handle"], "issuing");
  EXPECT_EQ(code(client_->Get("/api/v1/cas/root", web)), "ca_not_allowed");
}

TEST_F(AccessControlTest, OperatorRunsItsCasAndNothingElse) {
  auto op = token({{"name", "ops"}, {"role", "operator"}, {"cas", {"issuing"}}});
  std::string admins = issue("admin.example")["certificate"]["serial"];
  auto issued = post_as(op, kIssue, csr_body("any.example", "DNS:any.example"));
  EXPECT_EQ(issued->status, 201) << issued->body;
  auto revoked = post_as(op, std::string(kIssue) + "/" + admins + "/revoke", R"({"reason":"keyCompromise"})");
  EXPECT_EQ(revoked->status, 200) << revoked->body;
  EXPECT_EQ(client_->Get("/api/v1/cas/issuing/history/commands", op)->status, 200);
  EXPECT_EQ(code(client_->Get("/api/v1/cas/root/history/commands", op)), "ca_not_allowed");
  EXPECT_EQ(code(post_as(op, "/api/v1/cas/root/certificates", csr_body("a.example", "DNS:a.example"))),
            "ca_not_allowed");
  EXPECT_EQ(code(post_as(op, "/api/v1/cas", R"({"handle":"x","subject":"CN=x","parent":"issuing"})")),
            "forbidden");
  EXPECT_EQ(code(client_->Get("/api/v1/tokens", op)), "forbidden");
}

TEST_F(AccessControlTest, OperatorsManageOnlyServicesOfTheirCasAndKeptKeysGoToTheirOwners) {
  auto op = token({{"name", "ops"}, {"role", "operator"}, {"cas", {"issuing"}}});
  auto web = web_service();
  // A certificate of the root CA, linked by the admin to a service.
  auto at_root = post("/api/v1/cas/root/certificates", csr_body("r.example", "DNS:r.example"));
  ASSERT_EQ(at_root->status, 201) << at_root->body;
  std::string root_serial = json::parse(at_root->body)["certificate"]["serial"];
  ASSERT_EQ(post("/api/v1/services", R"({"id":"rootsvc","webhook_url":"http://127.0.0.1:9/h"})")->status, 201);
  ASSERT_EQ(post("/api/v1/services/rootsvc/certificates", json{{"ca", "root"}, {"serial", root_serial}}.dump())->status, 200);
  EXPECT_EQ(code(post_as(op, "/api/v1/services/rootsvc", R"({"webhook_url":"http://127.0.0.1:10/steal"})")),
            "ca_not_allowed");
  EXPECT_EQ(code(client_->Get("/api/v1/services/rootsvc", op)), "ca_not_allowed");
  EXPECT_EQ(json::parse(client_->Get("/api/v1/services", op)->body)["services"].size(), 0u);
  EXPECT_EQ(json::parse(get("/api/v1/services")->body)["services"].size(), 1u);
  EXPECT_EQ(code(client_->Get("/api/v1/cas/issuing/status", web)), "forbidden") << "status is for operators";

  // A kept key: its owner (the service token) and an admin get it; an
  // operator of the same CA does not.
  auto kept = post_as(web, kIssue, json{{"key_type", "ec-p256"}, {"subject", "CN=k.web.example"},
                                        {"sans", {{"dns", {"k.web.example"}}}}, {"keep_key", true}}.dump());
  ASSERT_EQ(kept->status, 201) << kept->body;
  std::string serial = json::parse(kept->body)["certificate"]["serial"];
  std::string path = std::string(kIssue) + "/" + serial + "/key";
  auto by_owner = client_->Get(path, web);
  ASSERT_EQ(by_owner->status, 200) << by_owner->body;
  EXPECT_EQ(by_owner->body, json::parse(kept->body)["private_key_pem"].get<std::string>());
  EXPECT_EQ(get(path)->status, 200);
  EXPECT_EQ(code(client_->Get(path, op)), "not_owner");
}

TEST_F(AccessControlTest, EveryMutatingEndpointChecksTokenAndRole) {
  std::string serial = issue("m.example")["certificate"]["serial"];
  auto web = web_service();
  auto auditor = token({{"name", "eve"}, {"role", "auditor"}});
  auto op = token({{"name", "ops"}, {"role", "operator"}, {"cas", {"issuing"}}});
  const std::string cert = std::string(kIssue) + "/" + serial;
  const std::string body = csr_body("m.example", "DNS:m.example");
  struct Endpoint {
    std::string path;
    bool service, operator_;  // may they call it at all?
  };
  const std::vector<Endpoint> endpoints = {
      {"/api/v1/cas", false, false},
      {"/api/v1/cas/issuing/certify", false, false},
      {kIssue, true, true},
      {cert + "/revoke", true, true},
      {cert + "/renew", true, true},
      {"/api/v1/tokens", false, false},
      {"/api/v1/tokens/0123456789abcdef/revoke", false, false},
  };
  uint64_t before = ca_version("issuing");
  for (const auto& e : endpoints) {
    auto none = client_->Post(e.path, body, "application/json");
    EXPECT_EQ(none->status, 401) << e.path;
    EXPECT_EQ(code(none), "unauthorized") << e.path;
    auto bad = client_->Post(e.path, {{"Authorization", "Bearer cairn_not_a_token"}}, body, "application/json");
    EXPECT_EQ(code(bad), "invalid_token") << e.path;
    EXPECT_EQ(code(post_as(auditor, e.path, body)), "forbidden") << e.path;
    if (!e.service) {
      EXPECT_EQ(code(post_as(web, e.path, body)), "forbidden") << e.path;
    }
    if (!e.operator_) {
      EXPECT_EQ(code(post_as(op, e.path, body)), "forbidden") << e.path;
    }
  }
  // The service may call issue/revoke/renew, but not for names or
  // certificates outside its scope.
  EXPECT_EQ(code(post_as(web, kIssue, body)), "name_not_allowed");
  EXPECT_EQ(code(post_as(web, cert + "/revoke", "{}")), "not_owner");
  EXPECT_EQ(ca_version("issuing"), before);
}

TEST_F(AccessControlTest, RateLimitAnswers429WithRetryAfter) {
  auto web = web_service(2);
  for (int i = 0; i < 2; ++i) {
    std::string name = "r" + std::to_string(i) + ".web.example";
    EXPECT_EQ(post_as(web, kIssue, csr_body(name, "DNS:" + name))->status, 201);
  }
  uint64_t before = ca_version("issuing");
  auto limited = post_as(web, kIssue, csr_body("r9.web.example", "DNS:r9.web.example"));
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(code(limited), "rate_limited");
  ASSERT_TRUE(limited->has_header("Retry-After"));
  int retry_after = std::stoi(limited->get_header_value("Retry-After"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 1800);  // one certificate per 30 minutes
  EXPECT_EQ(ca_version("issuing"), before);
  // Other identities have their own allowance.
  issue("admin-not-limited.example");
}

TEST_F(AccessControlTest, TokenScopesAreChecked) {
  struct Case {
    json body;
    std::string code;
  };
  const std::vector<Case> cases = {
      {{{"name", "a"}, {"role", "operator"}}, "invalid_scope"},
      {{{"name", "a"}, {"role", "service"}, {"cas", {"issuing"}}}, "invalid_scope"},
      {{{"name", "a"}, {"role", "auditor"}, {"cas", {"issuing"}}}, "invalid_scope"},
      {{{"name", "a"}, {"role", "operator"}, {"cas", {"issuing"}}, {"names", {"x.example"}}}, "invalid_scope"},
      {{{"name", "a"}, {"role", "service"}, {"cas", {"issuing"}}, {"names", {"bad name"}}}, "invalid_name_pattern"},
      {{{"name", "a"}, {"role", "service"}, {"cas", {"issuing"}}, {"names", {"10.0.0.0/33"}}}, "invalid_name_pattern"},
      {{{"name", "a"}, {"role", "service"}, {"cas", {"../x"}}, {"names", {"x.example"}}}, "invalid_name"},
      {{{"name", "a"}, {"role", "service"}, {"cas", "issuing"}, {"names", {"x.example"}}}, "invalid_field"},
      {{{"name", "a"}, {"role", "service"}, {"cas", {"issuing"}}, {"names", {"x.example"}}, {"rate_per_hour", -1}},
       "invalid_scope"},
  };
  for (const auto& c : cases) {
    auto r = post("/api/v1/tokens", c.body.dump());
    EXPECT_EQ(r->status, 400) << c.body.dump();
    EXPECT_EQ(code(r), c.code) << c.body.dump() << " " << r->body;
  }
  EXPECT_EQ(json::parse(get("/api/v1/tokens")->body)["tokens"].size(), 0u);
}

}  // namespace
}  // namespace cairn
