// Rotation notices: webhooks to registered services before their
// certificates expire.
//
// check() (task "service-check", every service_check_ms) follows each
// linked certificate to its newest renewal and, when it has at most N days
// left for one of the configured notice days (default 30, 7, 1; the smallest
// that applies, so a certificate linked late gets only the nearest notice),
// requests a "notify" task unless that notice was already delivered.
// deliver() POSTs the notice as JSON to the service's webhook_url with
//   X-Cairn-Event: certificate_expiring
//   X-Cairn-Delivery: <task id>
//   X-Cairn-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with the
//                      service's webhook secret>
// For a service with auto_renew whose certificate's key the server keeps
// (issued with keep_key), the due notice becomes an "auto-renew" task
// instead: it renews the certificate with a new kept key of the same type
// (actor system:rotation; the owner stays the service's token) and POSTs
// event certificate_renewed with the new serial and where to fetch its key.
// A 2xx answer records the notice under `notice/...`, so it is sent once,
// across restarts; anything else fails the task, which the scheduler
// retries with backoff, up to notice_max_retries, then the notice is
// recorded as given up (and logged).
// Thread-safety: safe for concurrent use.
#pragma once

#include <optional>
#include <string>

#include "core/ca_manager.h"
#include "scheduler/scheduler.h"
#include "scheduler/service_registry.h"
#include "scheduler/task_queue.h"

namespace cairn {

class RotationNotices {
 public:
  static constexpr const char* kCheck = "service-check";
  static constexpr const char* kNotify = "notify";
  static constexpr const char* kAutoRenew = "auto-renew";
  static constexpr const char* kActor = "system:rotation";

  RotationNotices(KeyValueStore& kv, CaManager& manager, ServiceRegistry& services, TaskQueue& queue,
                  const SchedulerConfig& config);

  std::optional<int64_t> check(const Task& t);
  std::optional<int64_t> deliver(const Task& t);
  std::optional<int64_t> auto_renew(const Task& t);
  // The notice record of one delivery: "" if none, else its JSON.
  std::string notice(const std::string& service, const std::string& ca, const std::string& serial, int days) const;

 private:
  void record(const std::string& key, const std::string& json);
  // Gives up (and records it) once a task has failed notice_max_retries times.
  bool give_up(const Task& t, const std::string& key);
  // POSTs `body` to the service's webhook, signed; throws unless 2xx.
  void post(const ServiceRecord& service, const std::string& event, const std::string& delivery,
            const std::string& body);

  KeyValueStore& kv_;
  CaManager& manager_;
  ServiceRegistry& services_;
  TaskQueue& queue_;
  const SchedulerConfig& config_;
};

}  // namespace cairn
