// The public listener (PublicListener + PublicEndpoints) on a real server:
// real clients (openssl ocsp, openssl crl) accept what it serves at the URLs
// certificates name; it answers as the API listener does; keep-alive,
// pipelining, HEAD and 100-continue; bad requests get 4xx and a closed
// connection; idle connections are closed. Loopback only, bounded waits.
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "core/ca_manager.h"
#include "tests/api/api_fixture.h"
#include "tests/api/raw_http_client.h"

namespace cairn::testing {
namespace {

class PublicListenerTest : public HttpApiTest {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RunningServer>(dir_.path(), [](api::ServeOptions& o) {
      o.public_host = "127.0.0.1";
      o.public_port = 0;
      o.public_threads = 2;
      o.public_request_timeout = std::chrono::milliseconds(1500);
    });
    std::ifstream in(dir_.path() + "/admin.token");
    std::getline(in, token_);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(20, 0);
    port_ = server_->app().public_port();
    ASSERT_GT(port_, 0);
  }

  std::string write(const std::string& name, const std::string& data) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }
  // Runs a shell command, returns its exit status and output.
  std::pair<int, std::string> shell(const std::string& cmd) {
    std::string out = dir_.path() + "/shell.out";
    int rc = std::system((cmd + " >" + out + " 2>&1").c_str());
    std::ifstream in(out);
    return {rc, std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
  }
  RawConnection::Answer get_raw(const std::string& path) {
    RawConnection c(port_);
    c.send("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n");
    auto a = c.read_answer();
    if (!a) throw std::runtime_error("no answer to " + path);
    return *a;
  }

  int port_ = 0;
};

TEST_F(PublicListenerTest, OpensslAcceptsOcspAndCrlAtTheUrlsCertificatesName) {
  std::string serial = issue("pub.example")["certificate"]["serial"];
  std::string leaf = write("leaf.pem", get("/api/v1/cas/issuing/certificates/" + serial + "/download?format=pem")->body);
  std::string chain = get("/api/v1/cas/issuing/certificates/" + serial + "/download?format=chain")->body;
  std::string issuing_pem = chain.substr(chain.find("-----BEGIN", 1));
  issuing_pem = issuing_pem.substr(0, issuing_pem.find("-----END CERTIFICATE-----") + 25) + "\n";
  std::string issuer = write("issuer.pem", issuing_pem);
  std::string cafile = write("chain.pem", chain);

  // The certificate names the public listener.
  auto [ext_rc, ext] = shell("openssl x509 -in " + leaf + " -noout -ext crlDistributionPoints,authorityInfoAccess");
  ASSERT_EQ(ext_rc, 0) << ext;
  std::string base = "http://127.0.0.1:" + std::to_string(port_);
  EXPECT_NE(ext.find("URI:" + base + "/crl/issuing.crl"), std::string::npos) << ext;
  EXPECT_NE(ext.find("OCSP - URI:" + base + "/ocsp/issuing"), std::string::npos) << ext;
  EXPECT_NE(ext.find("CA Issuers - URI:" + base + "/ca/issuing.cer"), std::string::npos) << ext;

  std::string ask = "openssl ocsp -issuer " + issuer + " -cert " + leaf + " -url " + base + "/ocsp/issuing -CAfile " +
                    cafile + " -timeout 10";
  auto [rc1, good] = shell(ask);
  EXPECT_EQ(rc1, 0) << good;
  EXPECT_NE(good.find("Response verify OK"), std::string::npos) << good;
  EXPECT_NE(good.find(": good"), std::string::npos) << good;

  ASSERT_EQ(post("/api/v1/cas/issuing/certificates/" + serial + "/revoke", R"({"reason":"keyCompromise"})")->status,
            200);
  auto [rc2, revoked] = shell(ask);
  EXPECT_EQ(rc2, 0) << revoked;
  EXPECT_NE(revoked.find(": revoked"), std::string::npos) << revoked;

  auto crl = get_raw("/crl/issuing.crl");
  ASSERT_EQ(crl.status, 200);
  EXPECT_NE(crl.head.find("content-type: application/pkix-crl"), std::string::npos) << crl.head;
  std::string crl_file = write("issuing.crl", crl.body);
  auto [rc3, listed] = shell("openssl crl -inform der -in " + crl_file + " -noout -text");
  EXPECT_EQ(rc3, 0) << listed;
  std::string upper = serial;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_NE(listed.find(upper), std::string::npos) << listed;
  auto [rc4, verified] = shell("openssl crl -inform der -in " + crl_file + " -noout -CAfile " + cafile);
  EXPECT_EQ(rc4, 0) << verified;
  EXPECT_NE(verified.find("verify OK"), std::string::npos) << verified;
}

TEST_F(PublicListenerTest, AnswersAsTheApiListenerDoes) {
  for (const char* path : {"/crl/issuing.crl", "/crl/issuing.pem", "/crl/issuing/0.crl", "/ca/issuing.cer",
                           "/ca/root/0.cer", "/health", "/crl/nosuch.crl", "/ca/Bad.Name.cer", "/crl/root/9.crl",
                           "/nothing/here"}) {
    auto api = client_->Get(path);
    ASSERT_TRUE(api) << path;
    auto pub = get_raw(path);
    EXPECT_EQ(pub.status, api->status) << path;
    if (api->status == 200)
      EXPECT_EQ(pub.body, api->body) << path;
    else
      EXPECT_EQ(code(api), json::parse(pub.body)["error"]["code"]) << path;
  }
  EXPECT_EQ(json::parse(get_raw("/crl/nosuch.crl").body)["error"]["code"], "ca_not_found");
  EXPECT_EQ(json::parse(get_raw("/ca/Bad.Name.cer").body)["error"]["code"], "invalid_name");
  EXPECT_EQ(json::parse(get_raw("/crl/%2e%2e.crl").body)["error"]["code"], "invalid_name");
  auto traversal = get_raw("/crl/..%2f..%2fetc%2fpasswd.crl");
  EXPECT_EQ(traversal.status, 404);
  EXPECT_EQ(json::parse(traversal.body)["error"]["code"], "not_found");
  // A GET OCSP URL with broken base64 is an OCSP malformedRequest (HTTP 200).
  auto malformed = get_raw("/ocsp/issuing/not-base64!");
  EXPECT_EQ(malformed.status, 200);
  EXPECT_EQ(malformed.body, std::string("\x30\x03\x0a\x01\x01", 5));
}

TEST_F(PublicListenerTest, KeepsConnectionsOpenAndAnswersPipelinedRequestsInOrder) {
  RawConnection c(port_);
  c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
         "HEAD /ca/issuing.cer HTTP/1.1\r\nHost: t\r\n\r\n"
         "GET /ca/issuing.cer HTTP/1.1\r\nHost: t\r\n\r\n"
         "POST /ocsp/issuing HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
  auto health = c.read_answer();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");
  auto head = c.read_answer(/*head_only=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  auto cert = c.read_answer();
  ASSERT_TRUE(cert);
  EXPECT_EQ(cert->status, 200);
  EXPECT_NE(head->head.find("content-length: " + std::to_string(cert->body.size())), std::string::npos) << head->head;
  EXPECT_EQ(cert->body, client_->Get("/ca/issuing.cer")->body);
  auto ocsp = c.read_answer();
  ASSERT_TRUE(ocsp);
  EXPECT_EQ(ocsp->status, 200);
  EXPECT_NE(ocsp->head.find("content-type: application/ocsp-response"), std::string::npos);
  EXPECT_EQ(ocsp->body, std::string("\x30\x03\x0a\x01\x01", 5));  // malformedRequest
  // Still open.
  c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
  auto again = c.read_answer();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);

  // HTTP/1.0 closes after the answer unless asked to keep alive.
  RawConnection old(port_);
  old.send("GET /health HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(old.read_answer());
  EXPECT_TRUE(old.closed_by_server());
}

TEST_F(PublicListenerTest, SendsContinueBeforeTheBody) {
  RawConnection c(port_);
  c.send("POST /ocsp/issuing HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  auto cont = c.read_answer(/*head_only=*/true);
  ASSERT_TRUE(cont);
  EXPECT_EQ(cont->status, 100);
  c.send("xy");
  auto answer = c.read_answer();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
}

TEST_F(PublicListenerTest, RefusesBadRequestsAndClosesTheConnection) {
  struct Case {
    std::string request;
    int status;
    std::string code;
  };
  std::vector<Case> cases = {
      {"NONSENSE\r\n\r\n", 400, "bad_request"},
      {"GET /health HTTP/3.0\r\n\r\n", 505, "http_version_not_supported"},
      {"GET /health HTTP/1.1\r\nX: " + std::string(9000, 'x') + "\r\n\r\n", 431, "headers_too_large"},
      {"POST /ocsp/issuing HTTP/1.1\r\nContent-Length: 70000\r\n\r\n", 413, "body_too_large"},
      {"POST /ocsp/issuing HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411, "length_required"},
      {"GET /crl/%zz.crl HTTP/1.1\r\n\r\n", 400, "bad_request"},
  };
  for (const auto& c : cases) {
    RawConnection conn(port_);
    conn.send(c.request);
    auto a = conn.read_answer();
    ASSERT_TRUE(a) << c.request.substr(0, 40);
    EXPECT_EQ(a->status, c.status) << c.request.substr(0, 40);
    EXPECT_EQ(json::parse(a->body)["error"]["code"], c.code) << c.request.substr(0, 40);
    EXPECT_NE(a->head.find("connection: close"), std::string::npos);
    EXPECT_TRUE(conn.closed_by_server()) << c.request.substr(0, 40);
  }
  // Wrong methods and unknown URLs are answered, and the connection stays.
  RawConnection conn(port_);
  conn.send("GET /ocsp/issuing HTTP/1.1\r\n\r\nPUT /crl/issuing.crl HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
            "GET /nowhere HTTP/1.1\r\n\r\n");
  auto get_ocsp = conn.read_answer();
  ASSERT_TRUE(get_ocsp);
  EXPECT_EQ(get_ocsp->status, 405);
  EXPECT_NE(get_ocsp->head.find("allow: post"), std::string::npos) << get_ocsp->head;
  auto put = conn.read_answer();
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  auto nowhere = conn.read_answer();
  ASSERT_TRUE(nowhere);
  EXPECT_EQ(nowhere->status, 404);
  EXPECT_EQ(json::parse(nowhere->body)["error"]["code"], "not_found");
}

// A client that goes on sending its oversized body after the 413 was
// written can finish sending and then read the answer: the listener drops
// the rest for a while instead of resetting the connection (a reset makes
// the client's next send fail, and many clients then never read).
TEST_F(PublicListenerTest, AnOversizedBodyGetsItsAnswerNotAReset) {
  RawConnection c(port_);
  c.send("POST /ocsp/issuing HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n" + std::string(50000, 'x'));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the answer is written by now
  EXPECT_NO_THROW(c.send(std::string(150000, 'x')));
  auto a = c.read_answer();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 413);
  EXPECT_EQ(json::parse(a->body)["error"]["code"], "body_too_large");
  // Empty lines alone do not fill the buffer without end.
  std::string lines;
  for (int i = 0; i < 10000; ++i) lines += "\r\n";
  RawConnection empty(port_);
  empty.send(lines);
  auto refused = empty.read_answer();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 431);
}

TEST_F(PublicListenerTest, ManyPipelinedRequestsAreAllAnsweredInOrder) {
  RawConnection c(port_);
  std::string requests;
  for (int i = 0; i < 40; ++i)
    requests += i % 2 ? "GET /ca/root.cer HTTP/1.1\r\nHost: t\r\n\r\n" : "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";
  c.send(requests);
  std::string root = client_->Get("/ca/root.cer")->body;
  for (int i = 0; i < 40; ++i) {
    auto a = c.read_answer();
    ASSERT_TRUE(a) << i;
    ASSERT_EQ(a->status, 200) << i;
    if (i % 2)
      EXPECT_EQ(a->body, root) << i;
    else
      EXPECT_EQ(json::parse(a->body)["status"], "ok") << i;
  }
}

// A CRL larger than what the listener copies is written from where it is
// kept: the same bytes as the API listener's, also twice on one connection.
TEST_F(PublicListenerTest, ALargeCrlIsServedWhole) {
  CaManager& m = server_->app().manager();
  std::vector<std::string> serials;
  for (int i = 0; i < 1500; ++i) {
    IssueRequest r;
    r.key_type = "ec-p256";
    r.subject = "CN=crl" + std::to_string(i);
    r.sans = SubjectAltNames{};
    r.sans->dns = {"crl" + std::to_string(i) + ".example"};
    serials.push_back(m.issue("test", "issuing", r).certificate.serial);
  }
  m.revoke_many("test", "issuing", serials, "superseded");
  std::string expected = client_->Get("/crl/issuing.crl")->body;
  ASSERT_GT(expected.size(), 64u << 10);
  RawConnection c(port_);
  c.send("GET /crl/issuing.crl HTTP/1.1\r\nHost: t\r\n\r\nHEAD /crl/issuing.crl HTTP/1.1\r\nHost: t\r\n\r\n"
         "GET /crl/issuing.crl HTTP/1.1\r\nHost: t\r\n\r\n");
  auto first = c.read_answer();
  auto head = c.read_answer(/*head_only=*/true);
  auto second = c.read_answer();
  ASSERT_TRUE(first && head && second);
  EXPECT_EQ(first->body, expected);
  EXPECT_NE(head->head.find("content-length: " + std::to_string(expected.size())), std::string::npos);
  EXPECT_EQ(second->body, expected);
  std::string file = write("large.crl", first->body);
  auto [rc, text] = shell("openssl crl -inform der -in " + file + " -noout -crlnumber");
  EXPECT_EQ(rc, 0) << text;
}

TEST_F(PublicListenerTest, ClosesConnectionsThatDoNotFinishARequestInTime) {
  RawConnection idle(port_);
  RawConnection slow(port_);
  slow.send("GET /health HTTP/1.1\r\n");  // never finished
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.closed_by_server());
  EXPECT_TRUE(slow.closed_by_server());
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_GT(waited, 1.0);  // the timeout is 1.5 s
  EXPECT_LT(waited, 4.5);
  // The listener still serves.
  EXPECT_EQ(get_raw("/health").status, 200);
}

TEST_F(PublicListenerTest, ServesManyConnectionsAtOnce) {
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 24; ++t)
    clients.emplace_back([&] {
      try {
        RawConnection c(port_);
        for (int i = 0; i < 50; ++i) {
          c.send("GET /ca/root.cer HTTP/1.1\r\nHost: t\r\n\r\n");
          auto a = c.read_answer();
          if (a && a->status == 200 && !a->body.empty()) ++ok;
        }
      } catch (const std::exception&) {
      }
    });
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok, 24 * 50);
}

}  // namespace
}  // namespace cairn::testing
