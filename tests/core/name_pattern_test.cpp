// NamePattern: the syntax of allowed-name rules and what they match.
#include "core/name_pattern.h"

#include <gtest/gtest.h>

#include "tests/core/pki_fixtures.h"

namespace cairn {
namespace {

TEST(NamePattern, DnsExactAndBelow) {
  auto exact = NamePattern::parse("API.example.com");
  EXPECT_TRUE(exact.matches_dns("api.example.com"));
  EXPECT_FALSE(exact.matches_dns("x.api.example.com"));
  auto below = NamePattern::parse("*.example.com");
  EXPECT_TRUE(below.matches_dns("a.example.com"));
  EXPECT_TRUE(below.matches_dns("a.b.example.com"));
  EXPECT_TRUE(below.matches_dns("*.example.com"));
  EXPECT_FALSE(below.matches_dns("example.com"));
  EXPECT_FALSE(below.matches_dns("badexample.com"));
  EXPECT_FALSE(below.matches_ip("10.0.0.1"));
}

TEST(NamePattern, IpRanges) {
  auto v4 = NamePattern::parse("10.1.0.0/16");
  EXPECT_TRUE(v4.matches_ip("10.1.255.3"));
  EXPECT_FALSE(v4.matches_ip("10.2.0.1"));
  EXPECT_FALSE(v4.matches_ip("::ffff:10.1.0.1"));
  auto odd = NamePattern::parse("192.168.4.0/22");
  EXPECT_TRUE(odd.matches_ip("192.168.7.200"));
  EXPECT_FALSE(odd.matches_ip("192.168.8.1"));
  auto v6 = NamePattern::parse("2001:db8::/32");
  EXPECT_TRUE(v6.matches_ip("2001:db8:1::5"));
  EXPECT_FALSE(v6.matches_ip("2001:db9::5"));
  auto host = NamePattern::parse("192.0.2.7");
  EXPECT_TRUE(host.matches_ip("192.0.2.7"));
  EXPECT_FALSE(host.matches_ip("192.0.2.8"));
  EXPECT_TRUE(NamePattern::parse("0.0.0.0/0").matches_ip("203.0.113.1"));
}

TEST(NamePattern, EmailAndUri) {
  auto domain = NamePattern::parse("@Example.com");
  EXPECT_TRUE(domain.matches_email("ops@example.com"));
  EXPECT_FALSE(domain.matches_email("ops@sub.example.com"));
  EXPECT_TRUE(NamePattern::parse("ops@example.com").matches_email("ops@example.com"));
  EXPECT_FALSE(NamePattern::parse("ops@example.com").matches_email("dev@example.com"));
  auto prefix = NamePattern::parse("spiffe://prod/ns/*");
  EXPECT_TRUE(prefix.matches_uri("spiffe://prod/ns/web"));
  EXPECT_FALSE(prefix.matches_uri("spiffe://prod/other"));
  EXPECT_FALSE(NamePattern::parse("spiffe://prod/a").matches_uri("spiffe://prod/ab"));
}

TEST(NamePattern, BadPatternsAreRefused) {
  for (const char* bad : {"", "bad name", "10.0.0.0/33", "::/129", "10.0.0.0/x", "ex*ample.com", "a..b",
                          "@", "spiffe://a*/b", "host/24", "-a.example"}) {
    EXPECT_EQ(testing::error_code_of([&] { NamePattern::parse(bad); }), "invalid_name_pattern") << bad;
  }
}

TEST(NamePattern, EveryNameAndTheCommonNameMustBeCovered) {
  std::vector<NamePattern> p = {NamePattern::parse("*.web.example"), NamePattern::parse("10.0.0.0/8")};
  SubjectAltNames sans;
  sans.dns = {"a.web.example"};
  sans.ip = {"10.9.9.9"};
  EXPECT_EQ(first_name_not_allowed(p, sans, "a.web.example"), "");
  EXPECT_EQ(first_name_not_allowed(p, sans, "b.web.example"), "");  // matches a pattern itself
  EXPECT_EQ(first_name_not_allowed(p, sans, "payments"), "payments");
  EXPECT_EQ(first_name_not_allowed(p, sans, ""), "");
  sans.email = {"x@web.example"};
  EXPECT_EQ(first_name_not_allowed(p, sans, ""), "x@web.example");
  sans.email.clear();
  sans.uri = {"spiffe://x"};
  EXPECT_EQ(first_name_not_allowed(p, sans, ""), "spiffe://x");
}

}  // namespace
}  // namespace cairn
