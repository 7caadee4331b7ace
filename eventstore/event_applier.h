// EventApplier<A> — feeds the encoded events of a scan to an aggregate state.
//
// Loading and replaying read events in order and apply each to one state.
// The applier batches them for A::apply_encoded_batch when A has it (it
// looks ahead and prefetches), and otherwise applies them one by one
// (A::apply_encoded, or apply(decode_event())). For a long run of events it
// applies on a second thread while the caller keeps reading the store, so
// reading (iteration, decompression, copying) and applying overlap; a run of
// a million events takes about as long as the slower of the two.
//
// Contract: call operator() with each payload in order (the view need only
// last for the call: it is copied), then finish(), which returns once every
// event is applied, rethrowing the first exception an apply threw. After an
// apply has thrown, operator() rethrows it too, so the scan stops. Events
// are applied in the order given, all on one thread (the caller's, or the
// applier's own); the state is not touched after finish() returns or the
// destructor runs, which stops the thread without applying the rest (the
// state is then incomplete: the caller is unwinding and discards it).
// Thread-safety: one caller thread. Ownership: borrows the state, which must
// outlive the applier.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cairn {

template <class A>
class EventApplier {
 public:
  // Runs of at least this many events are applied on a second thread.
  static constexpr uint64_t kThreadedFrom = 16384;

  // expected_events: about how many events the scan will deliver.
  EventApplier(A& state, uint64_t expected_events) : state_(state) {
    if (expected_events >= kThreadedFrom) worker_ = std::thread([this] { consume(); });
  }

  ~EventApplier() {
    if (!worker_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    worker_.join();
  }

  EventApplier(const EventApplier&) = delete;
  EventApplier& operator=(const EventApplier&) = delete;

  void operator()(std::string_view payload) {
    Chunk& chunk = chunks_[produced_ % kChunks];
    chunk.bytes.append(payload);
    chunk.ends.push_back(chunk.bytes.size());
    if (chunk.ends.size() == kChunkEvents || chunk.bytes.size() >= kChunkBytes) publish();
  }

  void finish() {
    if (!worker_.joinable()) {
      apply_chunk(chunks_[0]);
      chunks_[0].clear();
      return;
    }
    if (!chunks_[produced_ % kChunks].ends.empty()) publish(/*wait_for_room=*/false);
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    worker_.join();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static constexpr size_t kChunkEvents = 256;
  static constexpr size_t kChunkBytes = 1 << 20;  // one large event still fits
  static constexpr size_t kChunks = 8;
  static constexpr size_t kLookAhead = 64;  // events per apply_encoded_batch

  struct Chunk {
    std::string bytes;
    std::vector<size_t> ends;
    void clear() {
      bytes.clear();
      ends.clear();
    }
  };

  static constexpr bool kBatches = requires(A& a, const std::vector<std::string_view>& b) {
    a.apply_encoded_batch(b);
  };

  // Hands the chunk being filled to the applying thread (serially: applies
  // it), then makes sure the next one is free.
  void publish(bool wait_for_room = true) {
    if (!worker_.joinable()) {
      apply_chunk(chunks_[0]);
      chunks_[0].clear();
      return;
    }
    std::unique_lock lock(mutex_);
    if (error_) std::rethrow_exception(error_);
    ++produced_;
    changed_.notify_all();
    if (!wait_for_room) return;
    changed_.wait(lock, [&] { return produced_ - consumed_ < kChunks || error_; });
    if (error_) std::rethrow_exception(error_);
    lock.unlock();
    chunks_[produced_ % kChunks].clear();
  }

  void consume() {
    try {
      for (;;) {
        size_t next;
        {
          std::unique_lock lock(mutex_);
          changed_.wait(lock, [&] { return consumed_ < produced_ || done_ || stop_; });
          if (stop_ || consumed_ == produced_) return;
          next = consumed_;
        }
        apply_chunk(chunks_[next % kChunks]);
        {
          std::lock_guard lock(mutex_);
          ++consumed_;
        }
        changed_.notify_all();
      }
    } catch (...) {
      {
        std::lock_guard lock(mutex_);
        error_ = std::current_exception();
      }
      changed_.notify_all();
    }
  }

  void apply_chunk(const Chunk& chunk) {
    size_t begin = 0;
    if constexpr (kBatches) {
      views_.clear();
      for (size_t end : chunk.ends) {
        views_.emplace_back(chunk.bytes.data() + begin, end - begin);
        begin = end;
        if (views_.size() == kLookAhead) {
          state_.apply_encoded_batch(views_);
          views_.clear();
        }
      }
      if (!views_.empty()) state_.apply_encoded_batch(views_);
    } else {
      for (size_t end : chunk.ends) {
        std::string_view payload(chunk.bytes.data() + begin, end - begin);
        begin = end;
        if constexpr (requires(A& a, std::string_view p) { a.apply_encoded(p); })
          state_.apply_encoded(payload);
        else
          state_.apply(A::decode_event(payload));
      }
    }
  }

  A& state_;
  std::array<Chunk, kChunks> chunks_;
  std::vector<std::string_view> views_;  // used by the applying thread only

  std::mutex mutex_;
  std::condition_variable changed_;
  size_t produced_ = 0;  // chunks handed over (the caller fills chunks_[produced_ % kChunks])
  size_t consumed_ = 0;  // chunks applied
  bool done_ = false;    // finish(): no more chunks
  bool stop_ = false;    // destructor: apply nothing more
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace cairn
