// parse_http1_request: complete, incomplete and refused requests.
#include "api/http1_request.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::api {
namespace {

using Status = Http1Parse::Status;

Http1Parse parse(const std::string& text, Http1Limits limits = {}) { return parse_http1_request(text, limits); }

TEST(Http1Request, PostWithBodyAndPipelinedFollower) {
  std::string first = "POST /ocsp/issuing HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  std::string buffer = first + "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  Http1Parse p = parse(buffer);
  ASSERT_EQ(p.status, Status::Complete);
  EXPECT_EQ(p.request.method, "POST");
  EXPECT_EQ(p.request.path, "/ocsp/issuing");
  EXPECT_EQ(p.request.body, "hello");
  EXPECT_TRUE(p.request.keep_alive);
  EXPECT_EQ(p.request.consumed, first.size());
  Http1Parse next = parse(buffer.substr(p.request.consumed));
  ASSERT_EQ(next.status, Status::Complete);
  EXPECT_EQ(next.request.path, "/health");
  EXPECT_EQ(next.request.body, "");
}

TEST(Http1Request, HeadersAreKeptOnlyWhenAskedAndTheQueryStaysUndecoded) {
  std::string text = "GET /api/v1/cas/a%62c/crl?format=p%65m&x=1+2 HTTP/1.1\r\nHost: x\r\nAuthorization:  Bearer t \r\n\r\n";
  Http1Parse plain = parse(text);
  ASSERT_EQ(plain.status, Status::Complete);
  EXPECT_EQ(plain.request.path, "/api/v1/cas/abc/crl");
  EXPECT_EQ(plain.request.query, "format=p%65m&x=1+2");
  EXPECT_TRUE(plain.request.headers.empty());
  Http1Limits keep;
  keep.keep_headers = true;
  Http1Parse kept = parse(text, keep);
  ASSERT_EQ(kept.status, Status::Complete);
  ASSERT_EQ(kept.request.headers.size(), 2u);
  EXPECT_EQ(kept.request.headers[0].first, "Host");
  EXPECT_EQ(kept.request.headers[1].first, "Authorization");
  EXPECT_EQ(kept.request.headers[1].second, "Bearer t");
}

TEST(Http1Request, PercentDecodingOfPathsAndQueryFields) {
  EXPECT_EQ(percent_decode("a%2Fb"), "a/b");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_FALSE(percent_decode("a%2"));
  EXPECT_FALSE(percent_decode("a%zz"));
  EXPECT_FALSE(percent_decode("a b"));
  EXPECT_FALSE(percent_decode("a%"));
}

TEST(Http1Request, EveryPrefixIsIncompleteUntilTheLastByte) {
  std::string full = "POST /ocsp/a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
  for (size_t n = 0; n < full.size(); ++n) {
    Http1Parse p = parse(full.substr(0, n));
    EXPECT_EQ(p.status, Status::Incomplete) << n;
    EXPECT_EQ(p.head_complete, n >= full.size() - 3) << n;
  }
  EXPECT_EQ(parse(full).status, Status::Complete);
}

TEST(Http1Request, PathIsPercentDecodedWithoutQueryAndAbsoluteFormIsAccepted) {
  Http1Parse p = parse("GET /ocsp/issuing/MEMw%2BQT%2f%3D?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(p.status, Status::Complete);
  EXPECT_EQ(p.request.path, "/ocsp/issuing/MEMw+QT/=");
  Http1Parse absolute = parse("GET http://ocsp.example:8081/crl/issuing.crl HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(absolute.status, Status::Complete);
  EXPECT_EQ(absolute.request.path, "/crl/issuing.crl");
  // A raw '+' stays a '+' (base64 in a GET OCSP URL).
  EXPECT_EQ(parse("GET /a+b HTTP/1.1\r\n\r\n").request.path, "/a+b");
}

TEST(Http1Request, KeepAliveFollowsVersionAndConnectionHeader) {
  EXPECT_TRUE(parse("GET / HTTP/1.1\r\n\r\n").request.keep_alive);
  EXPECT_FALSE(parse("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n").request.keep_alive);
  Http1Parse old = parse("GET / HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(old.request.http10);
  EXPECT_FALSE(old.request.keep_alive);
  EXPECT_TRUE(parse("GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n").request.keep_alive);
}

TEST(Http1Request, ExpectContinueIsReportedOnceTheHeadIsIn) {
  Http1Parse p = parse("POST /ocsp/a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n");
  EXPECT_EQ(p.status, Status::Incomplete);
  EXPECT_TRUE(p.head_complete);
  EXPECT_TRUE(p.request.expects_continue);
}

TEST(Http1Request, LeadingEmptyLinesAreIgnoredButCountTowardsTheLimit) {
  std::string request = "\r\n\r\nGET /health HTTP/1.1\r\n\r\n";
  Http1Parse p = parse(request);
  ASSERT_EQ(p.status, Status::Complete);
  EXPECT_EQ(p.request.path, "/health");
  EXPECT_EQ(p.request.consumed, request.size());
  // Empty lines alone cannot fill a connection's buffer without end.
  Http1Limits small{256, 16};
  std::string empty_lines;
  for (int i = 0; i < 200; ++i) empty_lines += "\r\n";
  Http1Parse flood = parse(empty_lines, small);
  ASSERT_EQ(flood.status, Status::Failed);
  EXPECT_EQ(flood.error_status, 431);
  EXPECT_EQ(parse(empty_lines + "GET / HTTP/1.1\r\n\r\n", small).error_status, 431);
}

struct Refused {
  std::string request;
  int status;
  std::string code;
};

TEST(Http1Request, MalformedAndOversizedRequestsAreRefusedWithStableCodes) {
  Http1Limits small{256, 16};
  std::vector<Refused> cases = {
      {"GET\r\n\r\n", 400, "bad_request"},
      {"GET /x\r\n\r\n", 400, "bad_request"},
      {"GET  /x HTTP/1.1\r\n\r\n", 400, "bad_request"},
      {"GET /x HTTP/1.1 extra\r\n\r\n", 400, "bad_request"},
      {"G(T /x HTTP/1.1\r\n\r\n", 400, "bad_request"},
      {"GET x HTTP/1.1\r\n\r\n", 400, "bad_request"},
      {"GET /x FTP/1.1\r\n\r\n", 400, "bad_request"},
      {"GET /x HTTP/2.0\r\n\r\n", 505, "http_version_not_supported"},
      {"GET /%zz HTTP/1.1\r\n\r\n", 400, "bad_request"},
      {"GET /%4 HTTP/1.1\r\n\r\n", 400, "bad_request"},
      {"GET /x HTTP/1.1\r\nNo colon\r\n\r\n", 400, "bad_request"},
      {"GET /x HTTP/1.1\r\nName : v\r\n\r\n", 400, "bad_request"},
      {"GET /x HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400, "bad_request"},
      {"GET /x HTTP/1.1\r\nA: b\x01\r\n\r\n", 400, "bad_request"},
      {"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "bad_request"},
      {"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, "bad_request"},
      {"POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, "bad_request"},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411, "length_required"},
      {"POST /x HTTP/1.1\r\nContent-Length: 17\r\n\r\n", 413, "body_too_large"},
      {"GET /x HTTP/1.1\r\nA: " + std::string(300, 'a') + "\r\n\r\n", 431, "headers_too_large"},
      {"GET /x HTTP/1.1\r\nA: " + std::string(300, 'a'), 431, "headers_too_large"},  // no end in sight
      {"GET /" + std::string(300, 'a') + " HTTP/1.1\r\n\r\n", 414, "uri_too_long"},
      {"GET /" + std::string(300, 'a'), 414, "uri_too_long"},  // the line has not ended yet
  };
  for (const auto& c : cases) {
    Http1Parse p = parse(c.request, small);
    ASSERT_EQ(p.status, Status::Failed) << c.request;
    EXPECT_EQ(p.error_status, c.status) << c.request;
    EXPECT_EQ(p.error_code, c.code) << c.request;
    EXPECT_FALSE(p.error_message.empty());
  }
  // Duplicate, equal Content-Length values are one length (RFC 9112 6.3).
  EXPECT_EQ(parse("POST /x HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nab", small).status,
            Status::Complete);
}

// Every byte string either parses, waits for more or is refused; nothing is
// read past the buffer (run under the sanitizers in CI's fuzz build too).
TEST(Http1Request, ArbitraryBytesNeverCrash) {
  std::string base = "POST /ocsp/a%20b HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody";
  for (size_t i = 0; i < base.size(); ++i)
    for (char c : {'\0', '\r', '\n', ':', ' ', '%', '\x7f', '\xff'}) {
      std::string mutated = base;
      mutated[i] = c;
      Http1Parse p = parse(mutated);
      if (p.status == Status::Complete) {
        EXPECT_LE(p.request.consumed, mutated.size());
      }
    }
}

}  // namespace
}  // namespace cairn::api
