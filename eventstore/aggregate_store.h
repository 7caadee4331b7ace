// AggregateStore<A> — command processing and state for one aggregate type.
//
// The aggregate type A provides:
//   static constexpr const char* kType;          // key namespace, e.g. "ca"
//   static constexpr const char* kNotFoundCode;  // error code for unknown ids
//   using Command, Event, Context;
//   void apply(const Event&);                     // pure state transition
//   std::vector<Event> process(const Command&, const CommandMeta&, Context&) const;
//       // returns events, none for a no-op, or throws cairn::Error to reject
//   static std::string encode_event(const Event&);
//   static Event decode_event(std::string_view);
//   void apply_encoded(std::string_view);  // optional: apply(decode_event()) without copies
//   void apply_encoded_batch(const std::vector<std::string_view>&);  // optional: the same
//       // for consecutive events, so it can look ahead (used when loading and replaying)
//   static std::string command_summary(const Command&);
//   static std::string command_params_json(const Command&);  // no secrets
//   static std::string encode_snapshot(const A&);   // deterministic bytes
//   static void encode_snapshot_to(const A&, std::string& out);  // optional: the same,
//       // appended (a large state is then written once, in place)
//   static A decode_snapshot(std::string_view);  // may throw Error
//                                                  // "snapshot_outdated": replayed instead
//   static void encode_snapshot_pieces(A&, std::string& out, SnapshotPieceSink&);  // optional,
//   static A decode_snapshot(std::string_view, const SnapshotPieceSource&);     // all three:
//   static void forget_snapshot_pieces(A&);  // a large state stored in pieces (snapshot_pieces.h)
//
// process(): lock the aggregate, load it, run A::process, apply the events,
// let pre-save listeners add to (or veto) the batch, then write ONE batch
// holding the command record, events, head and listener output. Only after
// that succeeds is the cached state kept; on any failure it is dropped and
// reloaded from storage on next use. The lock is released once the batch is
// written, and the caller waits, without the lock, until a group sync has
// made it durable (GroupCommit): the next command on the aggregate proceeds
// meanwhile and shares the sync. Nothing is returned, and no post-save
// listener runs, before the batch is durable. read() likewise waits until
// the state it read is durable, so no reader sees a change that a crash
// could still take back. Post-save listeners can never fail the command.
// Rejections by the aggregate's rules are recorded as failed commands (audit
// trail); no-ops store nothing. With a snapshot interval N, a command also
// takes a snapshot of the state it stored once max(N, version / 8) events
// have passed since the last one (so snapshotting a large state costs O(1)
// per event); loading starts from the latest snapshot and applies only the
// events after it. The snapshot is written once the command is durable, in
// its own batch and unlogged (Durability::Unlogged): it stays out of the
// write-ahead log, so no group sync carries a large CA's 100+ MB state, and
// a crash that loses it (or any snapshot RocksDB had not yet flushed) only
// means loading from the last one that reached disk, or from event 1.
// An aggregate that stores its snapshot in pieces writes the pieces that
// changed (unlogged) in the command's turn, where the state is at hand; the
// record that names them is written after the command is durable, and only
// if every piece it names is stored, erasing with it the pieces that no
// snapshot from then on names. A piece that is missing or not the one named,
// or a snapshot that does not decode, makes loading replay all events
// instead (logged as an error).
// Commands on one aggregate run in arrival order: those that arrive while
// one runs are run next, as a group, by one of their threads, each with its
// own batch and its own result or error (run_in_turn). So A::process, the
// `observe` callback and the pre-save listeners may run on another
// caller's thread; they must not rely on thread-local state nor call back
// into this store for the same aggregate (that deadlocks, as it did with a
// plain lock). peek() is read() without the wait for durability, for hints
// that a command checks again.
// Thread-safety: all methods may be called concurrently; commands on one
// aggregate are serialised, different aggregates proceed in parallel.
// Ownership: borrows the KeyValueStore and Clock, which must outlive it.
#pragma once

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <type_traits>
#include <unordered_map>

#include "eventstore/aggregate_log.h"
#include "eventstore/clock.h"
#include "eventstore/error.h"
#include "eventstore/event_applier.h"
#include "eventstore/group_commit.h"
#include "eventstore/snapshot_pieces.h"
#include "eventstore/wake_up.h"

namespace cairn {

struct CommandMeta {
  std::string actor;
  int64_t time_ms = 0;                      // 0: taken from the store's clock
  std::optional<uint64_t> expected_version; // optimistic concurrency check
};

template <class E>
struct CommandOutcome {
  uint64_t seq = 0;                 // 0 for a no-op
  std::vector<E> events;
  std::vector<uint64_t> versions;
};

// Errors of these kinds are decisions of the aggregate and go into history.
inline bool is_recorded_rejection(ErrorKind k) {
  return k == ErrorKind::Conflict || k == ErrorKind::PolicyViolation ||
         k == ErrorKind::NotFound || k == ErrorKind::InvalidInput ||
         k == ErrorKind::Forbidden;
}

template <class A>
class AggregateStore {
 public:
  using Command = typename A::Command;
  using Event = typename A::Event;
  using Context = typename A::Context;
  using Outcome = CommandOutcome<Event>;
  using PreSave = std::function<void(const std::string& id, const A& state,
                                     const std::vector<Event>& events, WriteBatch& batch)>;
  using PostSave = std::function<void(const std::string& id, const std::vector<Event>& events,
                                      const std::vector<uint64_t>& versions)>;

  AggregateStore(KeyValueStore& kv, const Clock& clock) : log_(kv, A::kType), clock_(clock), commit_(kv) {}

  // Listeners are registered at start-up, before any command is processed.
  void add_pre_save(PreSave fn) { pre_save_.push_back(std::move(fn)); }
  void add_post_save(PostSave fn) { post_save_.push_back(std::move(fn)); }

  // 0 (the default) disables snapshots. Set at start-up.
  void set_snapshot_interval(uint64_t n) { snapshot_interval_ = n; }

  const AggregateLog& log() const { return log_; }
  GroupCommit::Stats commit_stats() const { return commit_.stats(); }
  // Whether `id` has history. Aggregates are never deleted, so one known
  // to exist (loaded, or written by this store) is answered from memory.
  bool exists(const std::string& id) const {
    {
      std::lock_guard lock(slots_mutex_);
      auto it = slots_.find(id);
      if (it != slots_.end() && it->second->exists) return true;
    }
    return log_.exists(id);
  }
  std::vector<std::string> ids() const { return log_.ids(); }

  // `observe`, if given, sees the state this command produced, under the
  // aggregate's lock; what it takes is durable once process() returns.
  Outcome process(const std::string& id, const Command& command, CommandMeta meta,
                  Context& context, const std::function<void(const A&)>& observe = nullptr) {
    validate_aggregate_id(id);
    if (meta.time_ms == 0) meta.time_ms = clock_.now_ms();
    auto slot = slot_for(id);
    Outcome outcome;
    uint64_t ticket = 0;
    // The command's record depends on the command only: made before the
    // lock, so commands on this aggregate do not wait for it.
    CommandRecord record;
    record.actor = meta.actor;
    record.time_ms = meta.time_ms;
    record.summary = A::command_summary(command);
    record.params_json = A::command_params_json(command);
    bool stored = false;
    // The aggregate's last write when this command ran: a no-op's answer or
    // a rejection relies on it, so neither is given before it is durable.
    uint64_t relied_on = 0;
    WriteBatch snapshot_batch;  // written after the turn, unlogged (see above)
    uint64_t snapshot_of = 0;   // the version it is a snapshot of
    std::set<std::string> snapshot_pieces;  // keys of the pieces it names
    // Runs in turn, maybe on another command's thread; returns the ticket its
    // answer waits for.
    auto decide = [&]() -> uint64_t {
      commit_.check_healthy();
      ensure_loaded(*slot, id);
      relied_on = slot->ticket;
      if (meta.expected_version && *meta.expected_version != slot->head.version)
        throw Error(ErrorKind::Conflict, "version_conflict",
                    "expected version " + std::to_string(*meta.expected_version) +
                        " but the current version is " + std::to_string(slot->head.version));

      std::vector<Event> events;
      try {
        events = slot->state->process(command, meta, context);
      } catch (const Error& e) {
        if (is_recorded_rejection(e.kind()) && slot->head.version > 0)
          record_rejection(*slot, id, std::move(record), e);
        throw;
      }
      if (events.empty()) return relied_on;  // no-op: nothing is stored

      try {
        std::vector<std::string> payloads;
        payloads.reserve(events.size());
        for (const auto& ev : events) {
          payloads.push_back(A::encode_event(ev));
          slot->state->apply(ev);
        }
        WriteBatch batch;
        std::vector<EventRecord> records;
        AggregateHead next = log_.append(id, slot->head, std::move(record), payloads, batch,
                                         &records);
        for (auto& listener : pre_save_) listener(id, *slot->state, events, batch);
        ticket = commit_.write(batch);
        slot->head = next;
        slot->exists = true;
        slot->ticket = ticket;
        outcome.seq = next.command_seq;
        for (const auto& r : records) outcome.versions.push_back(r.version);
        outcome.events = std::move(events);
        stored = true;
      } catch (...) {
        slot->state.reset();  // the cached state may hold unsaved events
        throw;
      }
      const uint64_t version = slot->head.version;
      if (snapshot_interval_ &&
          version >= slot->snapshot_version + std::max<uint64_t>(snapshot_interval_, version / 8)) {
        // Of the stored state only; the command stands whatever happens here.
        try {
          snapshot_batch.put(log_.snapshot_key(id),
                             take_snapshot(*slot, id, version, snapshot_pieces));
          slot->snapshot_version = version;
          snapshot_of = version;
        } catch (const std::exception& e) {
          spdlog::warn("{}/{}: snapshot not taken: {}", A::kType, id, e.what());
        } catch (...) {
          spdlog::warn("{}/{}: snapshot not taken", A::kType, id);
        }
      }
      if (observe) observe(*slot->state);
      return ticket;
    };
    try {
      run_in_turn(*slot, decide);
    } catch (...) {
      commit_.wait_durable(relied_on);  // throws instead if that write was lost
      throw;
    }
    commit_.wait_durable(stored ? ticket : relied_on);
    if (!stored) return outcome;
    write_snapshot(*slot, id, snapshot_of, std::move(snapshot_batch), snapshot_pieces);
    for (auto& listener : post_save_) {
      try {
        listener(id, outcome.events, outcome.versions);
      } catch (const std::exception& e) {
        spdlog::warn("post-save listener failed for {}/{}: {}", A::kType, id, e.what());
      } catch (...) {
        spdlog::warn("post-save listener failed for {}/{}", A::kType, id);
      }
    }
    return outcome;
  }

  // Calls fn(const A&, uint64_t version) under the aggregate's lock.
  // Throws NotFound (A::kNotFoundCode) for an id without history.
  template <class F>
  auto read(const std::string& id, F&& fn) {
    validate_aggregate_id(id);
    std::shared_ptr<Slot> slot;
    {
      std::lock_guard lock(slots_mutex_);
      auto it = slots_.find(id);
      if (it != slots_.end()) slot = it->second;
    }
    if (!slot) {
      if (!log_.exists(id))
        throw Error(ErrorKind::NotFound, A::kNotFoundCode, "'" + id + "' does not exist");
      slot = slot_for(id);
    }
    std::unique_lock lock(slot->mutex);
    ensure_loaded(*slot, id);
    if (slot->head.version == 0)
      throw Error(ErrorKind::NotFound, A::kNotFoundCode, "'" + id + "' does not exist");
    uint64_t ticket = slot->ticket;
    using Result = decltype(fn(static_cast<const A&>(*slot->state), slot->head.version));
    if constexpr (std::is_void_v<Result>) {
      fn(static_cast<const A&>(*slot->state), slot->head.version);
      lock.unlock();
      commit_.wait_durable(ticket);
    } else {
      Result result = fn(static_cast<const A&>(*slot->state), slot->head.version);
      lock.unlock();
      commit_.wait_durable(ticket);
      return result;
    }
  }

  // Calls fn(const A&) under the aggregate's lock, like read() but without
  // waiting until the state is durable: what fn takes must serve as a hint
  // only (checked again by a command), never be shown to anyone. Returns
  // nullopt for an id without history.
  template <class F>
  auto peek(const std::string& id, F&& fn) -> std::optional<decltype(fn(std::declval<const A&>()))> {
    validate_aggregate_id(id);
    if (!exists(id)) return std::nullopt;
    auto slot = slot_for(id);
    std::lock_guard lock(slot->mutex);
    ensure_loaded(*slot, id);
    if (slot->head.version == 0) return std::nullopt;
    return fn(static_cast<const A&>(*slot->state));
  }

  // Rebuilds the state of `id` from its events up to `version` (0: all),
  // without touching the cache. Used by auditors and tests.
  A replay(const std::string& id, uint64_t up_to_version = 0) const {
    A state;
    uint64_t last = log_.head(id).version;
    if (up_to_version) last = std::min(last, up_to_version);
    EventApplier<A> apply(state, last);
    log_.for_each_event_view(id, 1, [&](const EventRecordView& r) {
      if (up_to_version && r.version > up_to_version) return false;
      apply(r.payload);
      return true;
    });
    apply.finish();
    return state;
  }

 private:
  // A command waiting for its turn on an aggregate (see run_in_turn). Each
  // sleeps on a wake-up of its own, so a group's threads wake without
  // contending for the queue's lock.
  struct Turn {
    enum Signal { kWaiting, kDone, kLead };  // kDone: run by its group's leader; kLead: lead the next group
    const std::function<uint64_t()>* run = nullptr;  // returns the GroupCommit ticket its answer waits for, or 0
    uint64_t ticket = 0;
    std::exception_ptr error;
    WakeUp<Signal> woken{kWaiting};
  };

  struct Slot {
    std::mutex mutex;         // the state: commands run under it, read() and peek() take it
    std::mutex queue_mutex;   // queue and leading
    std::deque<Turn*> queue;  // commands waiting, in arrival order
    bool leading = false;     // a thread is running a group of them
    std::unique_ptr<A> state;  // null: not loaded
    AggregateHead head;
    uint64_t ticket = 0;            // GroupCommit ticket of the last write
    uint64_t snapshot_version = 0;  // version of the latest snapshot taken
    std::mutex snapshot_mutex;      // snapshot writes, one at a time
    uint64_t snapshot_written = 0;  // version of the newest snapshot written (snapshot_mutex)
    // A record was not written for want of its pieces: the next snapshot
    // writes all of its pieces again (see take_snapshot).
    std::atomic<bool> snapshot_pieces_lost{false};
    std::atomic<bool> exists{false};  // has history (read without the mutex)
  };

  // Runs `run` under the aggregate's lock, in arrival order with the other
  // commands on it. The commands that queue while one thread runs them are
  // run next, as one group, by the first of their threads, while the others
  // sleep until theirs is done: no command is passed over (with a plain
  // mutex some waited 300-400 ms at concurrency 32 while others barged in),
  // and the lock is not handed from thread to thread per command. Each
  // command's exception is rethrown in its own thread. The leader also waits
  // until the group's writes are durable before it wakes their threads,
  // which would otherwise wake only to sleep again in wait_durable(): each
  // sleeps once. The next group runs meanwhile.
  void run_in_turn(Slot& slot, const std::function<uint64_t()>& run) {
    Turn me;
    me.run = &run;
    std::deque<Turn*> group;  // made first: nothing may throw once `me` is queued
    std::unique_lock queue_lock(slot.queue_mutex);
    slot.queue.push_back(&me);
    if (slot.leading) {
      queue_lock.unlock();
      if (me.woken.sleep() == Turn::kDone) {
        if (me.error) std::rethrow_exception(me.error);
        return;
      }
      queue_lock.lock();  // kLead: still first in the queue
    }
    slot.leading = true;
    group.swap(slot.queue);
    queue_lock.unlock();
    {
      std::lock_guard state_lock(slot.mutex);
      for (Turn* turn : group) {
        try {
          turn->ticket = (*turn->run)();
        } catch (...) {
          turn->error = std::current_exception();
        }
      }
    }
    queue_lock.lock();
    Turn* next = slot.queue.empty() ? nullptr : slot.queue.front();
    slot.leading = next != nullptr;  // if so, leading passes to `next`
    queue_lock.unlock();
    if (next) next->woken.wake(Turn::kLead);
    // A turn may be gone as soon as it is woken: sort them out first (in
    // place: nothing here may throw, or their threads would sleep on).
    uint64_t last_ticket = 0;
    for (Turn* turn : group) last_ticket = std::max(last_ticket, turn->ticket);
    auto waiting = std::partition(group.begin(), group.end(), [&](Turn* turn) { return turn->ticket == 0; });
    for (auto it = group.begin(); it != waiting; ++it)
      if (*it != &me) (*it)->woken.wake(Turn::kDone);  // nothing to wait for
    if (last_ticket) {
      try {
        commit_.wait_durable(last_ticket);
      } catch (...) {
        // A failed sync: each command's own wait_durable() reports it.
      }
    }
    for (auto it = waiting; it != group.end(); ++it)
      if (*it != &me) (*it)->woken.wake(Turn::kDone);
    if (me.error) std::rethrow_exception(me.error);
  }

  static constexpr bool kPiecedSnapshots = requires(A& a, std::string& out, SnapshotPieceSink& sink) {
    A::encode_snapshot_pieces(a, out, sink);
  };

  static std::string snapshot_record_of(uint64_t version, std::string_view event_hash, const A& state) {
    return cairn::encode_snapshot_record(version, event_hash, [&](std::string& out) {
      if constexpr (requires { A::encode_snapshot_to(state, out); })
        A::encode_snapshot_to(state, out);
      else
        out += A::encode_snapshot(state);
    });
  }

  // In the command's turn: the snapshot record of the stored state and, for
  // a state in pieces, the pieces that changed since the last snapshot,
  // written here (unlogged; named by no record yet, so harmless if the
  // record never comes); `named` gets the keys of all the pieces the record
  // names. Throws if the snapshot cannot be taken.
  std::string take_snapshot(Slot& slot, const std::string& id, uint64_t version, std::set<std::string>& named) {
    if constexpr (kPiecedSnapshots) {
      A& state = *slot.state;
      if (slot.snapshot_pieces_lost.exchange(false)) A::forget_snapshot_pieces(state);
      try {
        SnapshotPieceWriter pieces(log_.prefix(id), version);
        std::string record = cairn::encode_snapshot_record(
            version, slot.head.event_hash, [&](std::string& out) { A::encode_snapshot_pieces(state, out, pieces); });
        if (!pieces.new_pieces().empty()) log_.kv().write(pieces.new_pieces(), Durability::Unlogged);
        named = pieces.named();
        return record;
      } catch (...) {
        A::forget_snapshot_pieces(state);  // it remembers pieces that were not stored
        throw;
      }
    } else {
      return snapshot_record_of(version, slot.head.event_hash, *slot.state);
    }
  }

  // A snapshot only saves replaying at start-up: failing to write one fails
  // nothing (loading replays from an earlier one; the next is taken one
  // interval later). Each command writes its own after its turn, so an
  // older one may come late: it is dropped, never written over a newer one.
  // A record in pieces is written only if all the pieces it names are
  // stored, and erases the pieces of this or earlier snapshots it does not
  // name (under snapshot_mutex: no other record is written meanwhile, and
  // loading takes the mutex too).
  void write_snapshot(Slot& slot, const std::string& id, uint64_t version, WriteBatch snapshot,
                      const std::set<std::string>& named) noexcept {
    if (snapshot.empty()) return;
    std::lock_guard lock(slot.snapshot_mutex);
    if (version <= slot.snapshot_written) return;
    try {
      if constexpr (kPiecedSnapshots) {
        const size_t stored = erase_unnamed_pieces(log_.kv(), log_.prefix(id), version, named, snapshot);
        if (stored != named.size()) {
          slot.snapshot_pieces_lost = true;
          spdlog::warn("{}/{}: snapshot of version {} not written: {} of its {} pieces are missing", A::kType,
                       id, version, named.size() - stored, named.size());
          return;
        }
      }
      log_.kv().write(snapshot, Durability::Unlogged);
      slot.snapshot_written = version;
    } catch (const std::exception& e) {
      spdlog::warn("{}/{}: snapshot not written: {}", A::kType, id, e.what());
    } catch (...) {
      spdlog::warn("{}/{}: snapshot not written", A::kType, id);
    }
  }

  std::shared_ptr<Slot> slot_for(const std::string& id) {
    std::lock_guard lock(slots_mutex_);
    auto& slot = slots_[id];
    if (!slot) slot = std::make_shared<Slot>();
    return slot;
  }

  void ensure_loaded(Slot& slot, const std::string& id) {
    if (slot.state) return;
    auto state = std::make_unique<A>();
    AggregateHead head = log_.head(id);
    uint64_t expected = 1;
    uint64_t snapshot_version = 0;
    std::unique_lock pieces_lock(slot.snapshot_mutex, std::defer_lock);  // no record erases pieces meanwhile
    if constexpr (kPiecedSnapshots) pieces_lock.lock();
    log_.read_snapshot(id, [&](std::string_view raw) {
      SnapshotRecordView snap = decode_snapshot_record_view(raw);
      if (snap.version > head.version) return;
      try {
        if constexpr (kPiecedSnapshots)
          *state = A::decode_snapshot(snap.state, KvSnapshotPieceSource(log_.kv(), log_.prefix(id)));
        else
          *state = A::decode_snapshot(snap.state);
        expected = snap.version + 1;
        snapshot_version = snap.version;
      } catch (const Error& e) {
        // An earlier encoding (after an upgrade): replay all events; the
        // next command writes a snapshot in the current one. A piece gone
        // astray, or a snapshot that does not decode, costs the same
        // replay: the events are the truth (audit verify names the fault).
        if (e.code() == "snapshot_outdated") {
          spdlog::info("{}/{}: snapshot of an earlier format ignored, replaying {} events", A::kType, id,
                       head.version);
        } else if (e.code() == "snapshot_incomplete" || e.code() == "corrupt_record") {
          spdlog::error("{}/{}: snapshot of version {} not loaded ({}), replaying {} events", A::kType, id,
                        snap.version, e.what(), head.version);
        } else {
          throw;
        }
        *state = A{};
      }
    });
    if (pieces_lock.owns_lock()) pieces_lock.unlock();
    EventApplier<A> apply(*state, head.version >= expected ? head.version - expected + 1 : 0);
    log_.for_each_event_view(id, expected, [&](const EventRecordView& r) {
      if (r.version != expected)
        throw Error(ErrorKind::Internal, "corrupt_history",
                    std::string(A::kType) + "/" + id + ": event version " +
                        std::to_string(r.version) + " where " + std::to_string(expected) +
                        " was expected");
      apply(r.payload);
      ++expected;
      return true;
    });
    apply.finish();
    if (expected - 1 != head.version)
      throw Error(ErrorKind::Internal, "corrupt_history",
                  std::string(A::kType) + "/" + id + ": head says version " +
                      std::to_string(head.version) + " but " + std::to_string(expected - 1) +
                      " events are stored");
    slot.head = head;
    slot.exists = head.version > 0;
    slot.snapshot_version = snapshot_version;
    slot.state = std::move(state);
  }

  void record_rejection(Slot& slot, const std::string& id, CommandRecord record, const Error& e) {
    record.ok = false;
    record.error_code = e.code();
    record.error_message = e.what();
    try {
      WriteBatch batch;
      AggregateHead next = log_.append(id, slot.head, std::move(record), {}, batch);
      log_.kv().write(batch, Durability::Sync);  // rare: no group commit needed
      slot.head = next;
    } catch (const std::exception& write_error) {
      spdlog::error("could not record rejected command on {}/{}: {}", A::kType, id,
                    write_error.what());
    }
  }

  AggregateLog log_;
  const Clock& clock_;
  GroupCommit commit_;
  uint64_t snapshot_interval_ = 0;
  std::vector<PreSave> pre_save_;
  std::vector<PostSave> post_save_;
  mutable std::mutex slots_mutex_;
  std::unordered_map<std::string, std::shared_ptr<Slot>> slots_;
};

}  // namespace cairn
