// literal_prefix: the text the router checks before a route's regular
// expression must be a prefix of every path the pattern matches.
#include <gtest/gtest.h>

#include <regex>

#include "api/router.h"

namespace cairn::api {
namespace {

TEST(RouterPattern, TheLiteralPrefixStopsBeforeAnythingOptional) {
  EXPECT_EQ(literal_prefix("/health"), "/health");
  EXPECT_EQ(literal_prefix(R"(/api/v1/cas/([^/]+)/crl)"), "/api/v1/cas/");
  EXPECT_EQ(literal_prefix(R"(/crl/([^/]+)\.crl)"), "/crl/");
  EXPECT_EQ(literal_prefix("/api/v1/cas/?"), "/api/v1/cas");  // the slash is optional
  EXPECT_EQ(literal_prefix("/ab*"), "/a");
  EXPECT_EQ(literal_prefix("/ab{0,1}"), "/a");
  EXPECT_EQ(literal_prefix("/ab+"), "/ab");  // at least one b
  EXPECT_EQ(literal_prefix("/a|/b"), "");    // alternatives share no known prefix
}

TEST(RouterPattern, EveryMatchStartsWithThePrefix) {
  struct Case {
    const char* pattern;
    const char* path;
  };
  for (const auto& c : {Case{"/api/v1/cas/?", "/api/v1/cas"}, Case{"/ab*", "/a"}, Case{"/ab{0,1}", "/a"},
                        Case{"/a|/b", "/b"}, Case{R"(/crl/([^/]+)\.crl)", "/crl/x.crl"}}) {
    ASSERT_TRUE(std::regex_match(c.path, std::regex(c.pattern))) << c.pattern;
    EXPECT_TRUE(std::string(c.path).starts_with(literal_prefix(c.pattern))) << c.pattern;
  }
}

}  // namespace
}  // namespace cairn::api
