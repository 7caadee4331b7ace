// A tiny aggregate for testing the event store without PKI: a counter that
// adds numbers, can reject (negative numbers) and can no-op (adding zero).
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "eventstore/aggregate_store.h"

namespace cairn::testing {

struct Add {
  int64_t amount = 0;
  int events = 1;  // how many Added events to emit
};
struct Added {
  int64_t amount = 0;
};

struct CounterContext {
  int process_calls = 0;
};

class Counter {
 public:
  static constexpr const char* kType = "counter";
  static constexpr const char* kNotFoundCode = "counter_not_found";
  using Command = Add;
  using Event = Added;
  using Context = CounterContext;

  void apply(const Added& e) {
    total += e.amount;
    history.push_back(e.amount);
  }

  std::vector<Added> process(const Add& c, const CommandMeta&, CounterContext& ctx) const {
    ++ctx.process_calls;
    if (c.amount < 0) throw Error(ErrorKind::PolicyViolation, "negative", "negative amounts are refused");
    if (c.amount == 0) return {};
    return std::vector<Added>(static_cast<size_t>(c.events), Added{c.amount});
  }

  static std::string encode_event(const Added& e) { return std::to_string(e.amount); }
  static Added decode_event(std::string_view b) { return Added{std::stoll(std::string(b))}; }
  static std::string command_summary(const Add& c) { return "add " + std::to_string(c.amount); }
  static std::string command_params_json(const Add& c) {
    return "{\"amount\":" + std::to_string(c.amount) + "}";
  }

  static std::string encode_snapshot(const Counter& c) {
    std::string out = std::to_string(c.total);
    for (auto h : c.history) out += "," + std::to_string(h);
    return out;
  }
  static Counter decode_snapshot(std::string_view b) {
    Counter c;
    std::string s(b);
    size_t pos = s.find(',');
    c.total = std::stoll(s.substr(0, pos));
    while (pos != std::string::npos) {
      size_t next = s.find(',', pos + 1);
      c.history.push_back(std::stoll(s.substr(pos + 1, next == std::string::npos ? next : next - pos - 1)));
      pos = next;
    }
    return c;
  }

  int64_t total = 0;
  std::vector<int64_t> history;
};

}  // namespace cairn::testing
