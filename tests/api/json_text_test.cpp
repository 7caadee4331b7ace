// pretty_json must write exactly what nlohmann's dump(2) writes, for every
// value, and fail where it fails (invalid UTF-8).
#include <gtest/gtest.h>

#include <random>

#include "api/json_text.h"

namespace cairn::api {
namespace {

using nlohmann::json;

TEST(PrettyJson, SameTextAsNlohmann) {
  std::string every_ascii;
  for (int c = 0; c < 0x80; ++c) every_ascii.push_back(static_cast<char>(c));
  const std::vector<json> values = {
      json::object(),
      json::array(),
      json(nullptr),
      json(true),
      json(false),
      json(0),
      json(-42),
      json(std::numeric_limits<int64_t>::min()),
      json(std::numeric_limits<uint64_t>::max()),
      json(0.1),
      json(-0.0),
      json(1e300),
      json(""),
      json(every_ascii),
      json("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
      json("caf\xc3\xa9 \xf0\x9f\x94\x91 \"quoted\"\n"),
      json{{"error", {{"code", "invalid_csr"}, {"message", "not a \"CSR\"\t"}}}},
      json{{"a", json::array()}, {"b", json::object()}, {"c", {1, "two", nullptr, {{"d", {true, false}}}}}},
      json{{"weird key \x01\\", 1}, {"caf\xc3\xa9", {{"x", json::array({json::array()})}}}},
  };
  for (const auto& v : values) EXPECT_EQ(pretty_json(v), v.dump(2)) << v.dump();
}

TEST(PrettyJson, SameTextAsNlohmannForRandomTrees) {
  std::mt19937 rng(20261129);
  std::function<json(int)> make = [&](int depth) -> json {
    int kind = static_cast<int>(rng() % (depth > 3 ? 4 : 6));
    switch (kind) {
      case 0: return json(static_cast<int64_t>(rng()) - (1 << 30));
      case 1: return json(rng() % 2 == 0);
      case 2: {
        std::string s;
        for (size_t n = rng() % 40; n > 0; --n) s.push_back(static_cast<char>(rng() % 0x80));
        return json(s);
      }
      case 3: return json(static_cast<double>(rng()) / 7.0);
      case 4: {
        json a = json::array();
        for (size_t n = rng() % 5; n > 0; --n) a.push_back(make(depth + 1));
        return a;
      }
      default: {
        json o = json::object();
        for (size_t n = rng() % 5; n > 0; --n) o["k" + std::to_string(rng() % 100) + "\n"] = make(depth + 1);
        return o;
      }
    }
  };
  for (int i = 0; i < 500; ++i) {
    json v = make(0);
    ASSERT_EQ(pretty_json(v), v.dump(2)) << v.dump();
  }
}

TEST(PrettyJson, InvalidUtf8FailsAsNlohmannFails) {
  json v{{"subject", std::string("CN=\xff\xfe")}};
  EXPECT_THROW(v.dump(2), json::type_error);
  EXPECT_THROW(pretty_json(v), json::type_error);
}

}  // namespace
}  // namespace cairn::api
