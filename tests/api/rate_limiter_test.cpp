// RateLimiter: a per-identity hourly allowance that refills continuously.
#include "api/rate_limiter.h"

#include <gtest/gtest.h>

namespace cairn::api {
namespace {

TEST(RateLimiter, SpendsTheHourlyAllowanceThenAsksToWait) {
  ManualClock clock(1'000'000);
  RateLimiter limiter(clock);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.take("svc", 3)) << i;
  auto wait = limiter.take("svc", 3);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 1200);  // one unit every 20 minutes
  EXPECT_FALSE(limiter.take("other", 3)) << "identities do not share an allowance";
  clock.advance_ms(1'199'000);
  EXPECT_EQ(limiter.take("svc", 3).value_or(0), 1);
  clock.advance_ms(1'000);
  EXPECT_FALSE(limiter.take("svc", 3));
  EXPECT_TRUE(limiter.take("svc", 3));
}

TEST(RateLimiter, RefillIsCappedAtOneHourAndZeroMeansUnlimited) {
  ManualClock clock(0);
  RateLimiter limiter(clock);
  EXPECT_FALSE(limiter.take("svc", 2));
  clock.advance_ms(10 * 3'600'000);
  EXPECT_FALSE(limiter.take("svc", 2));
  EXPECT_FALSE(limiter.take("svc", 2));
  EXPECT_TRUE(limiter.take("svc", 2));
  for (int i = 0; i < 10'000; ++i) ASSERT_FALSE(limiter.take("admin", 0));
}

}  // namespace
}  // namespace cairn::api
