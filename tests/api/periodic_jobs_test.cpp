// PeriodicJobs: jobs run at their interval, a throwing job keeps its
// schedule, and nothing runs after stop(). Waits are bounded polls.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "api/periodic_jobs.h"

namespace cairn::api {
namespace {

using namespace std::chrono_literals;

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

TEST(PeriodicJobs, RunEachJobRepeatedlyEvenWhenOneThrowsAndStopForGood) {
  std::atomic<int> counted{0}, failing{0};
  PeriodicJobs jobs;
  jobs.add("count", 10ms, [&] { ++counted; });
  jobs.add("fail", 10ms, [&] {
    ++failing;
    throw std::runtime_error("expected failure");
  });
  jobs.start();
  EXPECT_TRUE(wait_for([&] { return counted >= 3 && failing >= 3; }));
  jobs.stop();
  int after_stop = counted;
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(counted, after_stop);
  jobs.stop();  // idempotent
}

TEST(PeriodicJobs, FirstRunIsOneIntervalAfterStart) {
  std::atomic<int> runs{0};
  PeriodicJobs jobs;
  jobs.add("slow", 1h, [&] { ++runs; });
  jobs.start();
  std::this_thread::sleep_for(30ms);
  jobs.stop();  // does not wait for the hour
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace cairn::api
