#include "eventstore/history_verifier.h"

#include <map>
#include <vector>

namespace cairn {

std::string HistoryProblem::describe() const {
  std::string where = aggregate;
  if (version) where += " event " + std::to_string(version);
  if (seq) where += " command " + std::to_string(seq);
  return where + ": " + what;
}

std::optional<HistoryProblem> verify_history(const AggregateLog& log, const std::string& id,
                                             HistoryStats* stats) {
  const std::string name = log.type() + "/" + id;
  std::optional<HistoryProblem> problem;
  auto fail = [&](uint64_t version, uint64_t seq, std::string what) {
    if (!problem) problem = HistoryProblem{name, version, seq, std::move(what)};
    return false;
  };

  AggregateHead head;
  try {
    head = log.head(id);
  } catch (const std::exception& e) {
    return HistoryProblem{name, 0, 0, std::string("unreadable head: ") + e.what()};
  }

  // Events: contiguous, chained, each remembered with its command.
  std::map<uint64_t, std::vector<uint64_t>> events_of_command;
  std::string prev(kHashSize, '\0');
  uint64_t expected = 1;
  try {
    log.for_each_event(id, 1, [&](const EventRecord& r) {
      if (r.version != expected)
        return fail(expected, 0, "event " + std::to_string(expected) + " is missing or out of order (found " +
                                     std::to_string(r.version) + ")");
      if (r.hash != chain_hash(prev, r)) return fail(r.version, 0, "hash chain broken: the event was changed");
      events_of_command[r.command_seq].push_back(r.version);
      prev = r.hash;
      ++expected;
      return true;
    });
  } catch (const std::exception& e) {
    fail(expected, 0, std::string("unreadable event: ") + e.what());
  }
  if (problem) return problem;
  uint64_t events = expected - 1;
  if (events != head.version)
    return HistoryProblem{name, events + 1, 0,
                          "the head names version " + std::to_string(head.version) + " but " +
                              std::to_string(events) + " events are stored"};
  if (head.event_hash != prev)
    return HistoryProblem{name, events, 0, "the head's event hash does not match the last event"};

  // Commands: contiguous, chained, and matching the events exactly.
  std::string cprev(kHashSize, '\0');
  uint64_t expected_seq = 1;
  try {
    log.for_each_command(id, 1, [&](const CommandRecord& r) {
      if (r.seq != expected_seq)
        return fail(0, expected_seq, "command " + std::to_string(expected_seq) + " is missing or out of order");
      if (r.hash != chain_hash(cprev, r))
        return fail(0, r.seq, "hash chain broken: the command record was changed");
      auto it = events_of_command.find(r.seq);
      std::vector<uint64_t> produced = it == events_of_command.end() ? std::vector<uint64_t>{} : it->second;
      if (produced != r.event_versions)
        return fail(0, r.seq, "the command's event list does not match the events that name it");
      if (!r.ok && !r.event_versions.empty()) return fail(0, r.seq, "a rejected command has events");
      if (it != events_of_command.end()) events_of_command.erase(it);
      cprev = r.hash;
      ++expected_seq;
      return true;
    });
  } catch (const std::exception& e) {
    fail(0, expected_seq, std::string("unreadable command: ") + e.what());
  }
  if (problem) return problem;
  uint64_t commands = expected_seq - 1;
  if (!events_of_command.empty())
    return HistoryProblem{name, events_of_command.begin()->second.front(), events_of_command.begin()->first,
                          "an event names a command that does not exist"};
  if (commands != head.command_seq)
    return HistoryProblem{name, 0, commands + 1,
                          "the head names command " + std::to_string(head.command_seq) + " but " +
                              std::to_string(commands) + " commands are stored"};
  if (head.command_hash != cprev)
    return HistoryProblem{name, 0, commands, "the head's command hash does not match the last command"};
  if (stats) {
    stats->events += events;
    stats->commands += commands;
  }
  return std::nullopt;
}

}  // namespace cairn
