// BackgroundTasks — cairn's asynchronous half, wired together: the durable
// TaskQueue, the Scheduler, the StatusStore, the repositories, and the
// MessageQueue listener that turns stored events into tasks.
//
// Task kinds:
//   sync-repo/<ca>/<repo>  publish the CA's current objects (certificate,
//                          chain, CRL, and with publish_issued its valid
//                          certificates) to one repository; retried with
//                          backoff while the repository is down.
//   sync-parent/<ca>/      an intermediate gets its certificate from its
//                          parent: over HTTP from another cairn server
//                          (ParentClient), or locally by the same path;
//                          due again when a third of the certificate's
//                          validity is left (renewal); retried with backoff.
//   key-retire/<ca>/       after a key rollover: once the last certificate
//                          of a rolled-out key has expired, revoke that key's
//                          CA certificate at the parent and retire it;
//   service-check//        look for certificates of registered services
//                          that are due for a rotation notice (periodic);
//   notify/<ca>/<svc>/<serial>/<days>   deliver one notice to a webhook
//                          (rotation_notices.h);
//   crl-refresh/<ca>/      re-sign the CA's CRL when less than the
//                          configured part of its validity is left (not a
//                          command: history does not grow), then sync the
//                          CA's repositories; due again at the next such time.
// Events that change what a CA publishes (its certificate installed, a
// revocation; an issuance for publish_issued repositories) request a
// sync-repo task for each repository serving the CA from a post-save
// listener; an installed certificate also requests crl-refresh. start()
// requests both for every CA (the server-started full sync), which also
// covers a crash between a stored change and its request.
// Thread-safety: all methods may be called concurrently after attach().
// Ownership: owns the queue, scheduler, status store and repositories;
// borrows the KeyValueStore, CaManager, CaObjectsStore, Metrics and Clock.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/ca_manager.h"
#include "objects/ca_objects_store.h"
#include "scheduler/metrics.h"
#include "scheduler/repository.h"
#include "scheduler/rotation_notices.h"
#include "scheduler/service_registry.h"
#include "scheduler/scheduler.h"

namespace cairn {

class BackgroundTasks {
 public:
  static constexpr const char* kSyncRepo = "sync-repo";
  static constexpr const char* kCrlRefresh = "crl-refresh";
  static constexpr const char* kSyncParent = "sync-parent";
  static constexpr const char* kParentActor = "system:parent";
  static constexpr const char* kKeyRetire = "key-retire";

  BackgroundTasks(KeyValueStore& kv, CaManager& manager, CaObjectsStore& objects, Metrics& metrics,
                  std::vector<RepositoryConfig> repositories, SchedulerConfig config);
  ~BackgroundTasks();

  void attach();           // registers the MessageQueue listener on the CA store
  void request_all();      // the server-started sync: every CA, every repository
  void start();            // request_all(), then the scheduler thread
  void stop();
  size_t run_due() { return scheduler_.run_due(); }  // tests: run what is due now

  TaskQueue& queue() { return queue_; }
  ServiceRegistry& services() { return services_; }
  RotationNotices& notices() { return notices_; }
  void request_service_check();  // after a service or its links changed
  StatusStore& status() { return status_; }
  const std::vector<std::unique_ptr<Repository>>& repositories() const { return repositories_; }

  // The objects `ca` publishes now (empty while it has no certificate).
  std::vector<PublishedObject> publication(const std::string& ca, bool include_issued);

 private:
  std::optional<int64_t> sync_repository(const Task& t);
  std::optional<int64_t> refresh_crl(const Task& t);
  std::optional<int64_t> sync_parent(const Task& t);
  std::optional<int64_t> retire_keys(const Task& t);
  ChildCertificate certify_at_parent(const std::string& ca, const std::string& parent, const std::string& url,
                                     const std::string& csr_der);
  // Whether any repository's sync was requested.
  bool request_sync(const std::string& ca, bool issued_only);

  KeyValueStore& kv_;
  CaManager& manager_;
  CaObjectsStore& objects_;
  Metrics& metrics_;
  std::vector<std::unique_ptr<Repository>> repositories_;
  SchedulerConfig config_;
  TaskQueue queue_;
  StatusStore status_;
  Scheduler scheduler_;
  ServiceRegistry services_;
  RotationNotices notices_;
};

}  // namespace cairn
