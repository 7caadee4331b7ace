// The real HTTP server on a loopback port with a RocksDB data directory,
// driven by an HTTP client.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/api/api_fixture.h"
#include "core/ca_manager.h"
#include "core/encrypted_key_store.h"
#include "core/encoding.h"
#include "core/serial_number.h"
#include "tests/core/pki_fixtures.h"
#include "tests/test_util.h"

namespace cairn {
namespace {

using nlohmann::json;
using testing::HttpApiTest;

TEST_F(HttpApiTest, HealthIsPublicEverythingElseNeedsTheToken) {
  auto h = client_->Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto none = client_->Get("/api/v1/cas");
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(code(none), "unauthorized");
  auto wrong = client_->Get("/api/v1/cas", httplib::Headers{{"Authorization", "Bearer nope"}});
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(code(wrong), "invalid_token");
  for (const char* path : {"/api/v1/cas", "/api/v1/cas/issuing/certificates", "/api/v1/cas/issuing/certificates/ab/revoke"}) {
    auto r = client_->Post(path, "{}", "application/json");
    EXPECT_EQ(r->status, 401) << path;
  }
  EXPECT_EQ(get("/api/v1/cas")->status, 200);
}

TEST_F(HttpApiTest, BootstrappedHierarchyIsListed) {
  auto j = json::parse(get("/api/v1/cas")->body);
  ASSERT_EQ(j["cas"].size(), 2u);
  auto issuing = json::parse(get("/api/v1/cas/issuing")->body);
  EXPECT_EQ(issuing["status"], "active");
  EXPECT_EQ(issuing["parent"], "root");
}

TEST_F(HttpApiTest, BadInputGetsStableFourHundredsAndStoresNothing) {
  uint64_t before = ca_version("issuing");
  auto bad_json = post("/api/v1/cas/issuing/certificates", "{not json");
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_EQ(code(bad_json), "invalid_json");
  auto not_object = post("/api/v1/cas/issuing/certificates", "[1,2]");
  EXPECT_EQ(code(not_object), "invalid_json");
  auto wrong_type = post("/api/v1/cas/issuing/certificates", R"({"csr": 5})");
  EXPECT_EQ(code(wrong_type), "invalid_field");
  auto bad_csr = post("/api/v1/cas/issuing/certificates", R"({"csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"})");
  EXPECT_EQ(bad_csr->status, 400);
  EXPECT_EQ(code(bad_csr), "invalid_csr");
  auto nothing = post("/api/v1/cas/issuing/certificates", "{}");
  EXPECT_EQ(code(nothing), "missing_field");
  auto bad_profile = post("/api/v1/cas/issuing/certificates",
                          json{{"csr", testing::make_csr_pem("a", "DNS:a.example")}, {"profile", "x"}}.dump());
  EXPECT_EQ(code(bad_profile), "unknown_profile");
  auto bad_san = post("/api/v1/cas/issuing/certificates",
                      json{{"csr", testing::make_csr_pem("a", "DNS:a.example")}, {"sans", {{"dns", {"-bad-"}}}}}.dump());
  EXPECT_EQ(code(bad_san), "invalid_san");
  auto huge = post("/api/v1/cas/issuing/certificates", std::string(2 << 20, 'x'));
  EXPECT_EQ(huge->status, 413);
  EXPECT_EQ(code(huge), "body_too_large");
  EXPECT_EQ(ca_version("issuing"), before);

  auto policy = post("/api/v1/cas/issuing/certificates",
                     json{{"csr", testing::make_csr_pem("a", "email:a@example.com")}}.dump());
  EXPECT_EQ(policy->status, 422);
  EXPECT_EQ(code(policy), "san_not_allowed");
  EXPECT_EQ(ca_version("issuing"), before);  // rejected commands add no events
}

TEST_F(HttpApiTest, UnknownNamesAndPathTricks) {
  EXPECT_EQ(get("/api/v1/cas/nosuch")->status, 404);
  EXPECT_EQ(code(get("/api/v1/cas/nosuch")), "ca_not_found");
  EXPECT_EQ(code(get("/api/v1/cas/UPPER")), "invalid_name");
  EXPECT_EQ(code(get("/api/v1/cas/%2e%2e")), "invalid_name");
  EXPECT_EQ(code(get("/api/v1/cas/..%2F..%2Fetc")), "not_found");  // decoded slashes match no route
  EXPECT_EQ(get("/api/v1/cas/../../etc/passwd")->status, 404);
  EXPECT_EQ(code(get("/api/v1/nothing-here")), "not_found");
  EXPECT_EQ(code(get("/api/v1/cas/issuing/certificates/abcdef")), "certificate_not_found");
  EXPECT_EQ(code(get("/api/v1/cas/issuing/crl?format=xml")), "invalid_format");
  EXPECT_EQ(code(client_->Get("/crl/nosuch.crl")), "ca_not_found");
}

TEST_F(HttpApiTest, IssueDownloadRevokeAndCrl) {
  auto issued = issue("svc.example");
  std::string serial = issued["certificate"]["serial"];
  EXPECT_EQ(issued["certificate"]["status"], "valid");
  EXPECT_NE(issued["chain_pem"].get<std::string>().find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_FALSE(issued.contains("private_key_pem"));

  auto der = get("/api/v1/cas/issuing/certificates/" + serial + "/download?format=der");
  EXPECT_EQ(der->get_header_value("Content-Type"), "application/pkix-cert");
  EXPECT_EQ(serial_of(parse_certificate(der->body).get()), serial);
  auto chain = get("/api/v1/cas/issuing/certificates/" + serial + "/download?format=chain");
  size_t count = 0;
  for (size_t p = 0; (p = chain->body.find("BEGIN CERTIFICATE", p)) != std::string::npos; ++p) ++count;
  EXPECT_EQ(count, 3u);  // leaf, issuing, root
  auto by_serial = json::parse(get("/api/v1/certificates/" + serial)->body);
  EXPECT_EQ(by_serial["ca"], "issuing");
  auto upper = serial;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(get("/api/v1/cas/issuing/certificates/" + upper)->status, 200);

  auto revoked = post("/api/v1/cas/issuing/certificates/" + serial + "/revoke", R"({"reason":"keyCompromise"})");
  EXPECT_EQ(revoked->status, 200) << revoked->body;
  auto again = post("/api/v1/cas/issuing/certificates/" + serial + "/revoke", R"({"reason":"keyCompromise"})");
  EXPECT_EQ(again->status, 409);
  EXPECT_EQ(code(again), "already_revoked");
  auto bad_reason = post("/api/v1/cas/issuing/certificates/" + serial + "/revoke", R"({"reason":"because"})");
  EXPECT_EQ(code(bad_reason), "invalid_reason");

  auto crl = client_->Get("/crl/issuing.crl");  // public, as relying parties fetch it
  ASSERT_EQ(crl->status, 200);
  EXPECT_EQ(crl->get_header_value("Content-Type"), "application/pkix-crl");
  auto parsed = parse_crl(crl->body);
  X509_REVOKED* entry = nullptr;
  auto asn1 = serial_to_asn1(serial);
  EXPECT_EQ(X509_CRL_get0_by_serial(parsed.get(), &entry, asn1.get()), 1);
  auto pem = client_->Get("/api/v1/cas/issuing/crl?format=pem");
  EXPECT_NE(pem->body.find("BEGIN X509 CRL"), std::string::npos);

  auto listed = json::parse(get("/api/v1/cas/issuing/certificates?status=revoked")->body);
  ASSERT_EQ(listed["certificates"].size(), 1u);
  EXPECT_EQ(listed["certificates"][0]["serial"], serial);
}

TEST_F(HttpApiTest, ServerGeneratedKeyIsReturnedOnce) {
  auto r = post("/api/v1/cas/issuing/certificates",
                json{{"key_type", "ec-p256"}, {"subject", "CN=gen.example"}, {"sans", {{"dns", {"gen.example"}}}}}.dump());
  ASSERT_EQ(r->status, 201) << r->body;
  auto j = json::parse(r->body);
  ASSERT_TRUE(j.contains("private_key_pem"));
  std::string serial = j["certificate"]["serial"];
  auto show = get("/api/v1/cas/issuing/certificates/" + serial);
  EXPECT_EQ(show->body.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(HttpApiTest, RenewRecordsTheChain) {
  std::string serial = issue("r.example")["certificate"]["serial"];
  auto r = post("/api/v1/cas/issuing/certificates/" + serial + "/renew",
                json{{"csr", testing::make_csr_pem("r.example", "DNS:r.example")}}.dump());
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(json::parse(r->body)["certificate"]["replaces"], serial);
  auto old = json::parse(get("/api/v1/cas/issuing/certificates/" + serial)->body);
  EXPECT_EQ(old["replaced_by"], json::parse(r->body)["certificate"]["serial"]);
}

TEST_F(HttpApiTest, CreateCaThroughTheApi) {
  auto r = post("/api/v1/cas", R"({"handle":"team-a","subject":"CN=Team A CA","parent":"root","key":"ec-p384"})");
  ASSERT_EQ(r->status, 201) << r->body;
  auto j = json::parse(r->body);
  EXPECT_EQ(j["status"], "active");
  EXPECT_EQ(j["algorithm"], "ec-p384");
  EXPECT_EQ(code(post("/api/v1/cas", R"({"handle":"team-a","subject":"CN=x"})")), "ca_exists");
  EXPECT_EQ(code(post("/api/v1/cas", R"({"handle":"team-b"})")), "missing_field");
  EXPECT_EQ(code(post("/api/v1/cas", R"({"handle":"team-b","subject":"CN=x","validity_days":-4})")), "invalid_field");
  EXPECT_EQ(code(post("/api/v1/cas", R"({"handle":"Bad/Name","subject":"CN=x"})")), "invalid_name");
}

TEST_F(HttpApiTest, ABurstOfNewConnectionsIsServed) {
  // 64 clients connect at the same moment (services starting together):
  // each is accepted and answered (the listen backlog is 1024, not 5).
  constexpr int kClients = 64;
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_connection_timeout(5, 0);
      c.set_read_timeout(5, 0);
      auto r = c.Get("/health");
      if (r && r->status == 200) ++answered;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(answered.load(), kClients);
}

TEST_F(HttpApiTest, BulkRevocationIsAllOrNothingWithOneCrl) {
  std::vector<std::string> serials;
  for (const char* name : {"b1.example", "b2.example", "b3.example"})
    serials.push_back(issue(name)["certificate"]["serial"]);
  uint64_t before = ca_version("issuing");
  auto first = post("/api/v1/cas/issuing/revocations",
                    json{{"serials", {serials[0], serials[1]}}, {"reason", "keyCompromise"}}.dump());
  ASSERT_EQ(first->status, 200) << first->body;
  EXPECT_EQ(json::parse(first->body)["revoked"], 2);
  EXPECT_EQ(ca_version("issuing"), before + 2);  // one command, two events
  auto crl = parse_crl(client_->Get("/crl/issuing.crl")->body);
  for (int i = 0; i < 2; ++i) {
    X509_REVOKED* entry = nullptr;
    auto asn1 = serial_to_asn1(serials[static_cast<size_t>(i)]);
    EXPECT_EQ(X509_CRL_get0_by_serial(crl.get(), &entry, asn1.get()), 1);
  }
  // One already revoked serial: nothing at all is revoked.
  auto mixed = post("/api/v1/cas/issuing/revocations", json{{"serials", {serials[2], serials[0]}}}.dump());
  EXPECT_EQ(code(mixed), "already_revoked");
  EXPECT_EQ(json::parse(get("/api/v1/cas/issuing/certificates/" + serials[2])->body)["status"], "valid");
  EXPECT_EQ(code(post("/api/v1/cas/issuing/revocations", R"({"serials": []})")), "invalid_serials");
  EXPECT_EQ(code(post("/api/v1/cas/issuing/revocations", R"({"serials": "ab"})")), "invalid_field");
  EXPECT_EQ(code(post("/api/v1/cas/issuing/revocations", json{{"serials", {serials[2], serials[2]}}}.dump())),
            "duplicate_serial");
  EXPECT_EQ(code(post("/api/v1/cas/issuing/revocations", R"({"serials": ["zz"]})")), "invalid_serial");
}

TEST_F(HttpApiTest, AuditorTokensReadButNeverChange) {
  std::string serial = issue("audited.example")["certificate"]["serial"];
  auto created = post("/api/v1/tokens", R"({"name":"eve-auditor","role":"auditor"})");
  ASSERT_EQ(created->status, 201) << created->body;
  auto token = json::parse(created->body);
  httplib::Headers auditor{{"Authorization", "Bearer " + token["token"].get<std::string>()}};
  const std::vector<std::string> readable = {
      "/api/v1/cas", "/api/v1/cas/issuing", "/api/v1/cas/issuing/certificates",
      "/api/v1/cas/issuing/certificates/" + serial, "/api/v1/cas/issuing/history/commands",
      "/api/v1/cas/issuing/history/commands/1", "/api/v1/profiles"};
  for (const auto& path : readable) {
    EXPECT_EQ(client_->Get(path, auditor)->status, 200) << path;
  }
  uint64_t before = ca_version("issuing");
  const std::string csr = json{{"csr", testing::make_csr_pem("x", "DNS:x.example")}}.dump();
  const std::vector<std::string> mutating = {
      "/api/v1/cas", "/api/v1/cas/issuing/certify", "/api/v1/cas/issuing/certificates",
      "/api/v1/cas/issuing/certificates/" + serial + "/revoke", "/api/v1/cas/issuing/revocations",
      "/api/v1/cas/issuing/certificates/" + serial + "/renew", "/api/v1/tokens",
      "/api/v1/tokens/" + token["id"].get<std::string>() + "/revoke"};
  for (const auto& path : mutating) {
    auto r = client_->Post(path, auditor, csr, "application/json");
    EXPECT_EQ(r->status, 403) << path;
    EXPECT_EQ(code(r), "forbidden") << path;
  }
  EXPECT_EQ(client_->Get("/api/v1/tokens", auditor)->status, 403);
  EXPECT_EQ(ca_version("issuing"), before);
  EXPECT_EQ(json::parse(get("/api/v1/cas/issuing/certificates/" + serial)->body)["status"], "valid");

  // A revoked token stops working.
  auto revoked = post("/api/v1/tokens/" + token["id"].get<std::string>() + "/revoke", "{}");
  EXPECT_EQ(revoked->status, 200);
  EXPECT_EQ(client_->Get("/api/v1/cas", auditor)->status, 401);
  auto list = json::parse(get("/api/v1/tokens")->body);
  ASSERT_EQ(list["tokens"].size(), 1u);
  EXPECT_EQ(list["tokens"][0]["revoked"], true);
  EXPECT_FALSE(list["tokens"][0].contains("token"));  // the secret is never shown again
  EXPECT_EQ(code(post("/api/v1/tokens", R"({"name":"x","role":"root"})")), "invalid_role");
  EXPECT_EQ(code(post("/api/v1/tokens", R"({"name":"x","role":7})")), "invalid_field");
  EXPECT_EQ(post("/api/v1/tokens", R"({"name":"dup","role":"auditor"})")->status, 201);
  EXPECT_EQ(code(post("/api/v1/tokens", R"({"name":"dup","role":"admin"})")), "token_exists");
}

TEST_F(HttpApiTest, HistoryShowsWhoDidWhatIncludingRefusals) {
  std::string serial = issue("h.example")["certificate"]["serial"];
  post("/api/v1/cas/issuing/certificates/" + serial + "/revoke", R"({"reason":"superseded"})");
  post("/api/v1/cas/issuing/certificates/" + serial + "/revoke", R"({"reason":"superseded"})");  // refused
  auto list = json::parse(get("/api/v1/cas/issuing/history/commands")->body);
  auto commands = list["commands"];
  ASSERT_GE(commands.size(), 4u);
  EXPECT_EQ(list["total"], commands.size());
  auto last = commands[commands.size() - 1];
  EXPECT_EQ(last["outcome"], "rejected");
  EXPECT_EQ(last["error_code"], "already_revoked");
  EXPECT_EQ(last["actor"], "admin");
  EXPECT_TRUE(last["event_versions"].empty());
  auto revoke = commands[commands.size() - 2];
  EXPECT_EQ(revoke["outcome"], "ok");
  auto shown = json::parse(get("/api/v1/cas/issuing/history/commands/" + revoke["seq"].dump())->body);
  EXPECT_EQ(shown["params"]["type"], "RevokeCertificate");
  EXPECT_EQ(shown["params"]["serial"], serial);
  ASSERT_EQ(shown["events"].size(), 1u);
  EXPECT_EQ(shown["events"][0]["event"]["type"], "CertificateRevoked");
  EXPECT_EQ(shown["events"][0]["event"]["reason"], "superseded");

  auto page = json::parse(get("/api/v1/cas/issuing/history/commands?offset=1&rows=2")->body);
  ASSERT_EQ(page["commands"].size(), 2u);
  EXPECT_EQ(page["commands"][0]["seq"], commands[1]["seq"]);
  auto none = json::parse(get("/api/v1/cas/issuing/history/commands?until=2000-01-01T00:00:00Z")->body);
  EXPECT_EQ(none["total"], 0);
  auto all = json::parse(get("/api/v1/cas/issuing/history/commands?since=2000-01-01T00:00:00Z")->body);
  EXPECT_EQ(all["total"], list["total"]);
  EXPECT_EQ(code(get("/api/v1/cas/issuing/history/commands?rows=abc")), "invalid_parameter");
  EXPECT_EQ(code(get("/api/v1/cas/issuing/history/commands?since=yesterday")), "invalid_time");
  EXPECT_EQ(code(get("/api/v1/cas/issuing/history/commands/999")), "command_not_found");
}

TEST_F(HttpApiTest, DataDirectoryWithoutThePassphraseRevealsNoKey) {
  issue("k.example");
  std::string blob;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path())) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    blob += ss.str();
  }
  auto keys = EncryptedKeyStore::open(dir_.path() + "/keys", "correct horse battery staple");
  for (const char* ca : {"root", "issuing"}) {
    std::string key_id = json::parse(get(std::string("/api/v1/cas/") + ca)->body)["key_id"];
    auto der = keys->get(key_id);
    ASSERT_TRUE(der.has_value());
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
    EvpPkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der->size())));
    std::string scalar = testing::private_scalar(key.get());
    ASSERT_EQ(scalar.size(), 32u);
    EXPECT_EQ(blob.find(scalar), std::string::npos) << ca << "'s private key is readable in the data directory";
  }
}

TEST_F(HttpApiTest, WrongPassphraseRefusesToStart) {
  client_.reset();
  server_.reset();
  api::ServeOptions o;
  o.data_dir = dir_.path();
  o.port = 0;
  o.passphrase = "not the passphrase at all";
  api::ServerApp app(o);
  EXPECT_EQ(testing::error_code_of([&] { app.start(); }), "wrong_passphrase");
  o.passphrase.clear();
  api::ServerApp none(o);
  EXPECT_EQ(testing::error_code_of([&] { none.start(); }), "passphrase_required");
  start();  // the right one still works
  EXPECT_EQ(get("/api/v1/cas")->status, 200);
}

TEST_F(HttpApiTest, EverythingComesBackAfterARestart) {
  std::string kept = issue("keep.example")["certificate"]["serial"];
  std::string gone = issue("gone.example")["certificate"]["serial"];
  post("/api/v1/cas/issuing/certificates/" + gone + "/revoke", R"({"reason":"superseded"})");
  auto crl_before = client_->Get("/crl/issuing.crl")->body;
  auto cas_before = json::parse(get("/api/v1/cas")->body);
  std::string token_before = token_;
  restart();
  EXPECT_EQ(token_, token_before);
  EXPECT_TRUE(server_->app().new_admin_token().empty());
  EXPECT_EQ(json::parse(get("/api/v1/cas")->body), cas_before);
  EXPECT_EQ(json::parse(get("/api/v1/cas/issuing/certificates/" + kept)->body)["status"], "valid");
  EXPECT_EQ(json::parse(get("/api/v1/cas/issuing/certificates/" + gone)->body)["status"], "revoked");
  EXPECT_EQ(client_->Get("/crl/issuing.crl")->body, crl_before);
  issue("after.example");  // and it keeps working
}

}  // namespace
}  // namespace cairn
