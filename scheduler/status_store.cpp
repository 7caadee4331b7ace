#include "scheduler/status_store.h"

#include <nlohmann/json.hpp>

namespace cairn {
namespace {

std::string key(const std::string& ca, const std::string& target) { return "status/" + ca + "/" + target; }

TargetStatus decode(std::string_view bytes) {
  TargetStatus s;
  auto j = nlohmann::json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return s;
  s.ca = j.value("ca", "");
  s.target = j.value("target", "");
  s.last_attempt_ms = j.value("last_attempt_ms", int64_t{0});
  s.last_success_ms = j.value("last_success_ms", int64_t{0});
  s.last_error = j.value("last_error", "");
  s.failures = j.value("failures", 0);
  s.next_attempt_ms = j.value("next_attempt_ms", int64_t{0});
  return s;
}

}  // namespace

void StatusStore::record(const std::string& ca, const std::string& target, int64_t at_ms, const std::string& error,
                         int64_t next_attempt_ms) {
  TargetStatus s;
  if (auto old = kv_.get(key(ca, target))) s = decode(*old);
  s.ca = ca;
  s.target = target;
  s.last_attempt_ms = at_ms;
  s.last_error = error;
  s.next_attempt_ms = next_attempt_ms;
  if (error.empty()) {
    s.last_success_ms = at_ms;
    s.failures = 0;
  } else {
    ++s.failures;
  }
  WriteBatch b;
  b.put(key(ca, target), nlohmann::json{{"ca", s.ca},
                                        {"target", s.target},
                                        {"last_attempt_ms", s.last_attempt_ms},
                                        {"last_success_ms", s.last_success_ms},
                                        {"last_error", s.last_error},
                                        {"failures", s.failures},
                                        {"next_attempt_ms", s.next_attempt_ms}}
                             .dump());
  kv_.write(b, Durability::NoSync);  // informational: a lost update is rewritten by the next attempt
}

std::vector<TargetStatus> StatusStore::of_ca(const std::string& ca) const {
  std::vector<TargetStatus> out;
  kv_.scan("status/" + ca + "/", [&](std::string_view, std::string_view value) {
    out.push_back(decode(value));
    return true;
  });
  return out;
}

}  // namespace cairn
