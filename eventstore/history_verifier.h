// verify_history() — checks one aggregate's stored history for tampering,
// independent of what the aggregate means:
//  - events are versions 1..n with no gap, each hash_n equals
//    SHA-256(hash_{n-1} || canonical(event n)), and the head names event n;
//  - commands are sequence numbers 1..m, chained the same way, and the head
//    names command m;
//  - every command lists exactly the events that name it as their command,
//    and every event belongs to a command that lists it.
// Returns the first problem found (with the version or sequence it concerns)
// or nothing. Thread-safety: reads only; safe on a live store.
#pragma once

#include <optional>
#include <string>

#include "eventstore/aggregate_log.h"

namespace cairn {

struct HistoryProblem {
  std::string aggregate;  // "<type>/<id>"
  uint64_t version = 0;   // the event concerned, if any
  uint64_t seq = 0;       // the command concerned, if any
  std::string what;
  std::string describe() const;
};

struct HistoryStats {
  uint64_t events = 0;
  uint64_t commands = 0;
};

std::optional<HistoryProblem> verify_history(const AggregateLog& log, const std::string& id,
                                             HistoryStats* stats = nullptr);

}  // namespace cairn
