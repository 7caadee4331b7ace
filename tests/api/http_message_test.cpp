// HttpRequest's field lookups, parse_query, and serve_static_file's
// refusal of paths that leave the served directory.
#include "api/http_message.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api/static_files.h"
#include "tests/test_util.h"

namespace cairn::api {
namespace {

TEST(HttpMessage, HeaderNamesCompareWithoutCaseAndTheFirstFieldWins) {
  HttpRequest req;
  req.headers = {{"authorization", "Bearer one"}, {"Authorization", "Bearer two"}};
  EXPECT_EQ(req.get_header_value("AUTHORIZATION"), "Bearer one");
  EXPECT_EQ(req.get_header_value("Host"), "");
}

TEST(HttpMessage, QueryFieldsAreDecodedAndAMalformedQueryRefused) {
  auto params = parse_query("format=p%65m&empty=&flag&a+b=c+d&&format=der");
  ASSERT_TRUE(params);
  HttpRequest req;
  req.params = *params;
  EXPECT_EQ(req.get_param_value("format"), "pem");
  EXPECT_TRUE(req.has_param("empty"));
  EXPECT_EQ(req.get_param_value("empty"), "");
  EXPECT_TRUE(req.has_param("flag"));
  EXPECT_EQ(req.get_param_value("a b"), "c d");
  EXPECT_FALSE(req.has_param("Format"));  // names keep their case
  EXPECT_FALSE(parse_query("format=%zz"));
  EXPECT_FALSE(parse_query("a=%4"));  // a cut-off escape
  EXPECT_TRUE(parse_query("")->empty());
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(root() + "/crl");
    std::ofstream(root() + "/crl/issuing.crl") << "crl bytes";
    std::ofstream(dir_.path() + "/secret.token") << "cairn_secret";
    std::filesystem::create_symlink(dir_.path() + "/secret.token", root() + "/crl/escape.crl");
  }
  std::string root() const { return dir_.path() + "/www"; }
  HttpResponse get(std::string_view relative, const std::string& method = "GET") {
    HttpRequest req;
    req.method = method;
    HttpResponse res;
    serve_static_file(root(), relative, req, res);
    return res;
  }
  static std::string code(const HttpResponse& res) { return nlohmann::json::parse(res.body)["error"]["code"]; }

  testing::TempDir dir_;
};

TEST_F(StaticFilesTest, AFileIsServedWithItsContentType) {
  HttpResponse res = get("crl/issuing.crl");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "crl bytes");
  EXPECT_EQ(res.content_type, "application/pkix-crl");
}

TEST_F(StaticFilesTest, PathTricksAreRefusedAndNothingOutsideIsRead) {
  for (std::string_view trick : {"../secret.token", "crl/../../secret.token", "./crl/issuing.crl", "crl//issuing.crl",
                                 "crl\\issuing.crl", ""}) {
    HttpResponse res = get(trick);
    EXPECT_EQ(res.status, 400) << trick;
    EXPECT_EQ(code(res), "invalid_path") << trick;
  }
  HttpResponse link = get("crl/escape.crl");
  EXPECT_EQ(link.status, 404);
  EXPECT_EQ(link.body.find("cairn_secret"), std::string::npos);
  EXPECT_EQ(get("crl").status, 404);  // a directory
  EXPECT_EQ(get("crl/nosuch.crl").status, 404);
}

TEST_F(StaticFilesTest, OnlyGetAndHeadAreTaken) {
  HttpResponse res = get("crl/issuing.crl", "POST");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(code(res), "method_not_allowed");
  EXPECT_EQ(get("crl/issuing.crl", "HEAD").status, 200);
}

}  // namespace
}  // namespace cairn::api
