// The JSON API listener (HttpServer) at the HTTP level, over raw loopback
// connections: idle connections, silent or kept alive, hold no worker (more
// of them than `threads` do not delay anyone); pipelined requests are
// answered in order; HEAD answers a GET's head without the body; refused
// requests get their status and a JSON error (and a parse failure closes
// the connection); "Connection: close" is honoured; query strings and
// percent-encoded paths are decoded; one connection serves many requests.
// Loopback only, bounded waits.
#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/api/api_fixture.h"
#include "tests/api/raw_http_client.h"

namespace cairn::testing {
namespace {

// The error code of a {"error":{"code","message"}} answer; a marker if the
// body is not one.
std::string error_code(const RawConnection::Answer& a) {
  auto j = json::parse(a.body, nullptr, false);
  if (j.is_discarded() || !j.contains("error") || !j["error"].is_object() || !j["error"]["code"].is_string() ||
      !j["error"]["message"].is_string() || j["error"]["message"].get<std::string>().empty())
    return "<no error body: " + a.body + ">";
  return j["error"]["code"].get<std::string>();
}

class ApiServerTest : public HttpApiTest {
 protected:
  static constexpr int kThreads = 2;
  static constexpr size_t kMaxBody = 1024;

  void SetUp() override {
    server_ = std::make_unique<RunningServer>(dir_.path(), [](api::ServeOptions& o) {
      o.threads = kThreads;
      o.max_body_bytes = kMaxBody;
    });
    std::ifstream in(dir_.path() + "/admin.token");
    std::getline(in, token_);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_connection_timeout(2, 0);
    client_->set_read_timeout(10, 0);
    port_ = server_->port();
  }

  // One request without a body; `authed`: with the admin token; `fields`:
  // more header lines, each ending in CRLF.
  std::string request(const std::string& method, const std::string& target, bool authed = false,
                      const std::string& fields = "") const {
    return method + " " + target + " HTTP/1.1\r\nHost: t\r\n" +
           (authed ? "Authorization: Bearer " + token_ + "\r\n" : "") + fields + "\r\n";
  }
  // The next answer on `c`; throws (failing the test) if none comes in time.
  static RawConnection::Answer next(RawConnection& c, bool head_only = false) {
    auto a = c.read_answer(head_only);
    if (!a) throw std::runtime_error("no answer");
    return *a;
  }
  // Sends `raw` on a new connection and reads one answer.
  RawConnection::Answer ask(const std::string& raw) {
    RawConnection c(port_);
    c.send(raw);
    return next(c);
  }

  int port_ = 0;
};

TEST_F(ApiServerTest, IdleConnectionsBeyondTheThreadsDoNotDelayOthers) {
  constexpr int kIdle = 6 * kThreads;
  std::vector<std::unique_ptr<RawConnection>> silent, kept_alive;
  for (int i = 0; i < kIdle / 2; ++i) silent.push_back(std::make_unique<RawConnection>(port_));
  for (int i = 0; i < kIdle / 2; ++i) {
    kept_alive.push_back(std::make_unique<RawConnection>(port_));
    kept_alive.back()->send(request("GET", "/health"));
  }
  for (auto& c : kept_alive) ASSERT_EQ(next(*c).status, 200);

  // A new client is answered at once, on a public and an authenticated route.
  auto started = std::chrono::steady_clock::now();
  httplib::Client fresh("127.0.0.1", port_);
  fresh.set_connection_timeout(3, 0);
  fresh.set_read_timeout(3, 0);
  auto health = fresh.Get("/health");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  auto cas = fresh.Get("/api/v1/cas", auth());
  ASSERT_TRUE(cas) << httplib::to_string(cas.error());
  EXPECT_EQ(cas->status, 200);
  EXPECT_EQ(json::parse(cas->body)["cas"].size(), 2u);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), 3.0);

  // The idle connections were kept, not dropped to make room.
  for (auto& c : kept_alive) {
    c->send(request("GET", "/health"));
    EXPECT_EQ(next(*c).status, 200);
  }
}

TEST_F(ApiServerTest, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection c(port_);
  c.send(request("GET", "/health") + request("GET", "/no/such/path") + request("GET", "/api/v1/cas", true) +
         request("GET", "/health"));
  auto health = next(c);
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json::parse(health.body)["status"], "ok");
  auto missing = next(c);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(error_code(missing), "not_found");
  auto cas = next(c);
  EXPECT_EQ(cas.status, 200);
  EXPECT_EQ(json::parse(cas.body)["cas"].size(), 2u);
  EXPECT_EQ(next(c).status, 200);
}

TEST_F(ApiServerTest, HeadAnswersTheHeadOfTheGetWithoutItsBody) {
  RawConnection c(port_);
  for (const auto& [target, authed] : std::vector<std::pair<std::string, bool>>{
           {"/health", false},
           {"/ca/issuing.cer", false},
           {"/api/v1/cas", true},
           {"/api/v1/cas/issuing/certificate?format=der", true}}) {
    SCOPED_TRACE(target);
    c.send(request("GET", target, authed) + request("HEAD", target, authed));
    auto whole = next(c);
    auto head = next(c, /*head_only=*/true);
    ASSERT_EQ(whole.status, 200);
    ASSERT_FALSE(whole.body.empty());
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("content-length"), std::to_string(whole.body.size()));
    EXPECT_EQ(head.header("content-type"), whole.header("content-type"));
  }
  // No body followed the last HEAD: the next answer starts where it should.
  c.send(request("GET", "/health"));
  auto health = next(c);
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json::parse(health.body)["status"], "ok");
}

TEST_F(ApiServerTest, RefusedRequestsGetTheirStatusAndAJsonError) {
  auto missing = ask(request("GET", "/no/such/path"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(error_code(missing), "not_found");

  // Requests that cannot be parsed or taken: answered, then closed.
  struct Case {
    std::string raw;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {request("POST", "/api/v1/cas", true, "Content-Type: application/json\r\nContent-Length: 5000\r\n"), 413,
       "body_too_large"},
      {request("GET", "/health", false, "X-Filler: " + std::string(8300, 'x') + "\r\n"), 431, "headers_too_large"},
      {"NONSENSE\r\n\r\n", 400, "bad_request"},
      {"GET /health HTTP/1.1 extra\r\nHost: t\r\n\r\n", 400, "bad_request"},
      {request("GET", "/api/v1/cas/%zz"), 400, "bad_request"},
      {request("POST", "/api/v1/cas", true, "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n", 411, "length_required"},
      {"GET /health HTTP/2.0\r\nHost: t\r\n\r\n", 505, "http_version_not_supported"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.raw.substr(0, 60));
    RawConnection conn(port_);
    conn.send(c.raw);
    auto a = next(conn);
    EXPECT_EQ(a.status, c.status);
    EXPECT_EQ(error_code(a), c.code);
    EXPECT_EQ(a.header("connection"), "close");
    EXPECT_TRUE(conn.closed_by_server());
  }
}

TEST_F(ApiServerTest, ARefusedBodyIsReadAndDroppedSoThe413Arrives) {
  // The client sends the whole body before reading (as most clients do):
  // the server answers 413 and drops the rest, instead of resetting the
  // connection under the answer.
  RawConnection c(port_);
  std::string body(200 << 10, 'x');
  c.send(request("POST", "/api/v1/cas", true,
                 "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n") +
         body);
  auto a = next(c);
  EXPECT_EQ(a.status, 413);
  EXPECT_EQ(error_code(a), "body_too_large");
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(ApiServerTest, OtherMethodsAre405WithAllowAndLongTargets414) {
  RawConnection c(port_);
  c.send(request("POST", "/health", false, "Content-Length: 0\r\n"));
  auto a = next(c);
  EXPECT_EQ(a.status, 405);
  EXPECT_EQ(error_code(a), "method_not_allowed");
  EXPECT_EQ(a.header("allow"), "get, head");  // RawConnection lowers the head's case
  c.send(request("GET", "/health"));  // the connection stays
  EXPECT_EQ(next(c).status, 200);

  auto long_target = ask(request("GET", "/api/v1/cas/" + std::string(9000, 'a')));
  EXPECT_EQ(long_target.status, 414);
  EXPECT_EQ(error_code(long_target), "uri_too_long");
  auto bad_query = ask(request("GET", "/api/v1/cas/issuing/crl?format=%zz"));
  EXPECT_EQ(bad_query.status, 400);
  EXPECT_EQ(error_code(bad_query), "bad_request");
}

TEST_F(ApiServerTest, ExpectContinueGetsA100BeforeTheBody) {
  RawConnection c(port_);
  std::string body = R"({"subject":"CN=continued"})";
  c.send(request("POST", "/ocsp/issuing", false,
                 "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"));
  auto interim = next(c, /*head_only=*/true);
  EXPECT_EQ(interim.status, 100);
  c.send(body);
  auto a = next(c);
  EXPECT_EQ(a.status, 200);  // an OCSP malformedRequest answer
  EXPECT_EQ(a.header("content-type"), "application/ocsp-response");
}

TEST_F(ApiServerTest, StoppingClosesIdleConnectionsAtOnce) {
  // Idle keep-alive connections (one before any request, two after one)
  // are closed when the server stops, instead of holding the stop until
  // the grace period for requests in progress (5 s) is over.
  RawConnection before(port_);
  std::vector<std::unique_ptr<RawConnection>> after;
  for (int i = 0; i < 2; ++i) {
    after.push_back(std::make_unique<RawConnection>(port_));
    after.back()->send(request("GET", "/health"));
    ASSERT_EQ(next(*after.back()).status, 200);
  }
  auto started = std::chrono::steady_clock::now();
  server_->app().stop();
  EXPECT_TRUE(before.closed_by_server());
  for (auto& c : after) EXPECT_TRUE(c->closed_by_server());
  client_.reset();
  server_.reset();  // joins the server's thread: run() has returned
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST_F(ApiServerTest, StoppingAnswersARequestWhoseBodyIsStillArriving) {
  RawConnection c(port_);
  c.send("POST /ocsp/issuing HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nxx");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the head is in
  server_->app().stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the loop has drained
  c.send("xxxx");
  auto a = next(c);
  EXPECT_EQ(a.status, 200);  // an OCSP malformedRequest answer
  EXPECT_EQ(a.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_server());
}

// The API listener with its options changed by Adjust::apply.
template <class Adjust>
class AdjustedApiServerTest : public HttpApiTest {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RunningServer>(dir_.path(), Adjust::apply);
    port_ = server_->port();
  }
  int port_ = 0;
};

struct ShortShutdownGrace {
  static void apply(api::ServeOptions& o) { o.shutdown_grace = std::chrono::milliseconds(300); }
};
using ApiServerGraceTest = AdjustedApiServerTest<ShortShutdownGrace>;

TEST_F(ApiServerGraceTest, ARequestNotAnsweredWithinTheGraceIsClosedAndTheStopEnds) {
  RawConnection c(port_);
  c.send("POST /ocsp/issuing HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nxx");  // the rest never comes
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the head is in
  auto started = std::chrono::steady_clock::now();
  server_->app().stop();
  EXPECT_TRUE(c.closed_by_server());
  server_.reset();  // joins the server's thread: run() has returned
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, std::chrono::milliseconds(250));  // the request had its grace
  EXPECT_LT(took, std::chrono::seconds(3));         // and no more (the default is 5 s)
}

struct ShortRequestTimeout {
  static void apply(api::ServeOptions& o) { o.request_timeout = std::chrono::milliseconds(400); }
};
using ApiServerTimeoutTest = AdjustedApiServerTest<ShortRequestTimeout>;

TEST_F(ApiServerTimeoutTest, SilentAndHalfSentRequestsAreClosedButAStreamingBodyIsNot) {
  RawConnection silent(port_);
  RawConnection half(port_);
  half.send("GET /health HTTP/1.1\r\nHost: t\r\n");  // the head never ends
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.closed_by_server());
  EXPECT_TRUE(half.closed_by_server());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));

  // A body whose pieces each arrive within the timeout is taken, though
  // the whole takes longer than the timeout.
  RawConnection streaming(port_);
  streaming.send("POST /ocsp/issuing HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\n");
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    streaming.send("xx");
  }
  auto a = streaming.read_answer();
  ASSERT_TRUE(a) << "the connection was closed while the body arrived";
  EXPECT_EQ(a->status, 200);
}

TEST_F(ApiServerTest, ConnectionCloseIsAnsweredThenClosed) {
  for (const auto& [target, authed] :
       std::vector<std::pair<std::string, bool>>{{"/health", false}, {"/api/v1/cas", true}}) {
    SCOPED_TRACE(target);
    RawConnection c(port_);
    c.send(request("GET", target, authed, "Connection: close\r\n"));
    auto a = next(c);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.header("connection"), "close");
    EXPECT_TRUE(c.closed_by_server());
  }
  // HTTP/1.0 closes after the answer unless asked to keep alive.
  RawConnection old(port_);
  old.send("GET /health HTTP/1.0\r\n\r\n");
  EXPECT_EQ(next(old).status, 200);
  EXPECT_TRUE(old.closed_by_server());
}

TEST_F(ApiServerTest, QueryStringsChooseTheFormat) {
  RawConnection c(port_);
  auto crl = [&](const std::string& query) {
    c.send(request("GET", "/api/v1/cas/issuing/crl" + query));
    return next(c);
  };
  auto der = crl("");
  ASSERT_EQ(der.status, 200);
  EXPECT_EQ(der.header("content-type"), "application/pkix-crl");
  ASSERT_FALSE(der.body.empty());
  EXPECT_EQ(der.body[0], '\x30');  // a DER SEQUENCE
  EXPECT_EQ(crl("?format=der").body, der.body);
  for (const char* pem : {"?format=pem", "?other=1&format=pem", "?format=p%65m"}) {
    auto a = crl(pem);
    EXPECT_EQ(a.status, 200) << pem;
    EXPECT_NE(a.body.find("-----BEGIN X509 CRL-----"), std::string::npos) << pem;
  }
  auto invalid = crl("?format=xml");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(error_code(invalid), "invalid_format");

  // And on an authenticated route.
  c.send(request("GET", "/api/v1/cas/issuing/certificate?format=der", true));
  auto cert = next(c);
  EXPECT_EQ(cert.status, 200);
  EXPECT_EQ(cert.header("content-type"), "application/pkix-cert");
}

TEST_F(ApiServerTest, PercentEncodedPathsAreDecodedBeforeRouting) {
  auto issuing = ask(request("GET", "/api/v1/cas/issu%69ng", true));
  ASSERT_EQ(issuing.status, 200) << issuing.body;
  EXPECT_EQ(json::parse(issuing.body)["handle"], "issuing");
  auto cert = ask(request("GET", "/ca/%69ssuing.cer"));
  EXPECT_EQ(cert.status, 200);
  EXPECT_EQ(cert.body, ask(request("GET", "/ca/issuing.cer")).body);
  // A decoded name is still checked as a name.
  EXPECT_EQ(error_code(ask(request("GET", "/api/v1/cas/%2e%2e", true))), "invalid_name");
}

TEST_F(ApiServerTest, OneConnectionServesManyRequests) {
  constexpr int kRequests = 200;
  RawConnection c(port_);
  for (int i = 0; i < kRequests; ++i) {
    bool cas = i % 2 == 1;
    c.send(cas ? request("GET", "/api/v1/cas", true) : request("GET", "/health"));
    auto a = c.read_answer();
    ASSERT_TRUE(a) << i;
    ASSERT_EQ(a->status, 200) << i << ": " << a->body;
    if (cas) {
      EXPECT_EQ(json::parse(a->body)["cas"].size(), 2u) << i;
    }
  }
}

}  // namespace
}  // namespace cairn::testing
