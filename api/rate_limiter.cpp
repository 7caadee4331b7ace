#include "api/rate_limiter.h"

#include <algorithm>

namespace cairn::api {

std::optional<int64_t> RateLimiter::take(const std::string& identity, int per_hour) {
  if (per_hour <= 0) return std::nullopt;
  const int64_t full = int64_t{per_hour} * kHourMs;
  const int64_t now = clock_.now_ms();
  std::lock_guard lock(mutex_);
  auto [it, fresh] = buckets_.try_emplace(identity);
  Bucket& b = it->second;
  if (fresh || b.per_hour != per_hour) {  // new identity or its limit changed
    b.credit = fresh ? full : std::min(b.credit, full);
    b.per_hour = per_hour;
    b.updated_ms = now;
  }
  if (now > b.updated_ms) {
    b.credit = std::min(full, b.credit + (now - b.updated_ms) * per_hour);
    b.updated_ms = now;
  }
  if (b.credit >= kHourMs) {
    b.credit -= kHourMs;
    return std::nullopt;
  }
  int64_t wait_ms = (kHourMs - b.credit + per_hour - 1) / per_hour;
  return std::max<int64_t>(1, (wait_ms + 999) / 1000);
}

}  // namespace cairn::api
