// TaskQueue — the durable queue of background work (see scheduler.h).
//
// A task is one piece of idempotent work on a CA: publish it to one
// repository ("sync-repo"), re-sign its CRL ahead of time ("crl-refresh").
// Its id is kind/ca/target, so the same work is never queued twice. Every
// task is stored under `task/<id>` (JSON) with its due time and failed
// attempts, so scheduled work and retries survive a restart; a crash between
// a change and its request is covered by the server-started sync.
//
// Running a task and asking for it again can overlap: each task carries an
// in-memory request counter, and a task that was asked for again while it
// ran is run again instead of being removed.
// Thread-safety: all methods may be called concurrently.
// Ownership: borrows the KeyValueStore and Clock.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "eventstore/clock.h"
#include "eventstore/kv_store.h"

namespace cairn {

struct Task {
  std::string kind;
  std::string ca;
  std::string target;       // a repository name; "" for work on the CA itself
  int64_t due_ms = 0;
  int attempts = 0;         // failed attempts since the last success
  std::string last_error;
  int64_t created_ms = 0;

  std::string id() const { return kind + "/" + ca + "/" + target; }
};

// A task handed out to run, with the request count it was claimed at.
struct ClaimedTask {
  Task task;
  uint64_t requests = 0;
};

class TaskQueue {
 public:
  TaskQueue(KeyValueStore& kv, const Clock& clock);  // loads the stored tasks

  // Asks for the work to run as soon as possible. A task waiting for a
  // retry keeps its due time (a repository that is down is not hammered).
  void request(const std::string& kind, const std::string& ca, const std::string& target);
  // Sets the task's due time exactly (periodic work), creating it if needed.
  void schedule_at(const std::string& kind, const std::string& ca, const std::string& target, int64_t due_ms);

  // Marks the due tasks that are not running as running and returns them.
  std::vector<ClaimedTask> claim_due(int64_t now_ms);
  // After a claimed task ran: done (removed, unless asked for again
  // meanwhile), due again at `next_due_ms` (periodic work), or failed with a
  // retry at `retry_at_ms`.
  void succeeded(const ClaimedTask& c);
  void succeeded_until(const ClaimedTask& c, int64_t next_due_ms);
  void failed(const ClaimedTask& c, const std::string& error, int64_t retry_at_ms);

  std::vector<Task> list() const;
  std::optional<Task> find(const std::string& id) const;
  std::optional<int64_t> next_due() const;  // of tasks not running
  size_t running() const;

 private:
  struct Entry {
    Task task;
    uint64_t requests = 0;
  };
  void persist(const Task& t);
  void release(const ClaimedTask& c);

  KeyValueStore& kv_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> tasks_;
  std::set<std::string> running_;
};

}  // namespace cairn
