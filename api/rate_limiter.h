// RateLimiter — certificates per hour per identity, as a token bucket that
// holds up to one hour's allowance and refills continuously. take() either
// spends one unit or says how many seconds until one is available.
// State is in memory: a restart gives every identity a full bucket.
// Thread-safety: all methods may be called concurrently.
// Ownership: borrows the Clock.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "eventstore/clock.h"

namespace cairn::api {

class RateLimiter {
 public:
  explicit RateLimiter(const Clock& clock) : clock_(clock) {}

  // per_hour <= 0 means unlimited. Returns nullopt when allowed, else the
  // whole seconds (at least 1) to wait before the next attempt can succeed.
  std::optional<int64_t> take(const std::string& identity, int per_hour);

 private:
  // Exact integer arithmetic: one certificate costs kHourMs credit and each
  // millisecond adds per_hour credit, so the bucket holds at most
  // per_hour * kHourMs (one hour's allowance).
  static constexpr int64_t kHourMs = 3'600'000;
  struct Bucket {
    int64_t credit = 0;
    int64_t updated_ms = 0;
    int per_hour = 0;
  };
  const Clock& clock_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace cairn::api
