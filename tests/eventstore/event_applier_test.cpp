// EventApplier: every event applied once, in order, on one thread, for short
// (applied by the caller) and long (applied by a second thread) runs; an
// apply that throws stops the scan and reaches the caller; leaving early
// does not hang.
#include "eventstore/event_applier.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cairn {
namespace {

// Records what it was given and on which thread; throws on "boom".
struct Recorder {
  std::vector<std::string> seen;
  std::set<std::thread::id> threads;
  void apply_encoded(std::string_view payload) {
    threads.insert(std::this_thread::get_id());
    if (payload == "boom") throw std::runtime_error("cannot apply boom");
    seen.emplace_back(payload);
  }
};

// The same, taking batches (as CertAuth does); also records batch sizes.
struct BatchRecorder : Recorder {
  std::vector<size_t> batch_sizes;
  void apply_encoded_batch(const std::vector<std::string_view>& payloads) {
    batch_sizes.push_back(payloads.size());
    for (std::string_view p : payloads) apply_encoded(p);
  }
};

std::vector<std::string> payloads(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back("event-" + std::to_string(i));
  return out;
}

template <class R>
void feed_all(R& state, const std::vector<std::string>& events, uint64_t hint) {
  EventApplier<R> apply(state, hint);
  for (const auto& e : events) {
    std::string copy = e;  // the view dies after the call, as a scan's does
    apply(copy);
    copy.assign(copy.size(), 'x');
  }
  apply.finish();
}

TEST(EventApplier, ShortRunIsAppliedInOrderByTheCaller) {
  Recorder state;
  auto events = payloads(1000);
  feed_all(state, events, events.size());
  EXPECT_EQ(state.seen, events);
  EXPECT_EQ(state.threads, std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST(EventApplier, LongRunIsAppliedInOrderByOneOtherThread) {
  Recorder state;
  auto events = payloads(EventApplier<Recorder>::kThreadedFrom * 5 + 7);
  feed_all(state, events, events.size());
  EXPECT_EQ(state.seen, events);
  ASSERT_EQ(state.threads.size(), 1u);
  EXPECT_NE(*state.threads.begin(), std::this_thread::get_id());
}

TEST(EventApplier, BatchesAreConsecutiveAndAtMostSixtyFour) {
  for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{64}, uint64_t{65}, uint64_t{3000},
                     EventApplier<BatchRecorder>::kThreadedFrom * 2 + 1}) {
    BatchRecorder state;
    auto events = payloads(n);
    feed_all(state, events, n);
    EXPECT_EQ(state.seen, events) << n;
    size_t total = 0;
    for (size_t b : state.batch_sizes) {
      EXPECT_GE(b, 1u);
      EXPECT_LE(b, 64u);
      total += b;
    }
    EXPECT_EQ(total, n);
  }
}

TEST(EventApplier, EventsLargerThanAChunkPassWhole) {
  Recorder state;
  std::vector<std::string> events;
  for (int i = 0; i < 40; ++i) events.push_back(std::string(300'000 + static_cast<size_t>(i), char('a' + i % 26)));
  feed_all(state, events, EventApplier<Recorder>::kThreadedFrom);
  EXPECT_EQ(state.seen, events);
}

TEST(EventApplier, AFailedApplyStopsTheScanAndReachesTheCaller) {
  for (uint64_t hint : {uint64_t{10}, EventApplier<Recorder>::kThreadedFrom}) {
    Recorder state;
    auto events = payloads(200'000);
    events[5000] = "boom";
    size_t fed = 0;
    bool thrown = false;
    try {
      EventApplier<Recorder> apply(state, hint);
      for (const auto& e : events) {
        apply(e);
        ++fed;
      }
      apply.finish();
    } catch (const std::runtime_error& e) {
      thrown = true;
      EXPECT_STREQ(e.what(), "cannot apply boom");
    }
    EXPECT_TRUE(thrown) << hint;
    EXPECT_LT(fed, events.size()) << "the scan went on after the failure, hint " << hint;
    ASSERT_EQ(state.seen.size(), 5000u) << hint;  // nothing after the failed event
    EXPECT_EQ(state.seen.back(), "event-4999");
  }
}

TEST(EventApplier, LeavingBeforeFinishStopsTheThread) {
  Recorder state;
  auto events = payloads(100'000);
  try {
    EventApplier<Recorder> apply(state, events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      if (i == 50'000) throw std::logic_error("scan failed");  // as corrupt_history does
      apply(events[i]);
    }
    apply.finish();
    FAIL() << "not reached";
  } catch (const std::logic_error&) {
  }
  // The thread is gone (joined by the destructor); what it applied is a
  // prefix of what was fed.
  ASSERT_LE(state.seen.size(), 50'000u);
  for (size_t i = 0; i < state.seen.size(); ++i) ASSERT_EQ(state.seen[i], events[i]);
}

}  // namespace
}  // namespace cairn
