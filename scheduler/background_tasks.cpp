#include "scheduler/background_tasks.h"

#include <spdlog/spdlog.h>

#include "core/encoding.h"

namespace cairn {

BackgroundTasks::BackgroundTasks(KeyValueStore& kv, CaManager& manager, CaObjectsStore& objects, Metrics& metrics,
                                 std::vector<RepositoryConfig> repositories, SchedulerConfig config)
    : kv_(kv),
      manager_(manager),
      objects_(objects),
      metrics_(metrics),
      queue_(kv, manager.clock()),
      status_(kv),
      scheduler_(queue_, status_, metrics, manager.clock(), config) {
  for (const auto& r : repositories) {
    for (const auto& existing : repositories_)
      if (existing->config().name == r.name)
        throw Error(ErrorKind::InvalidInput, "invalid_repository", "repository '" + r.name + "' is defined twice");
    repositories_.push_back(make_repository(r));
  }
  scheduler_.on(kSyncRepo, [this](const Task& t) { return sync_repository(t); });
  scheduler_.on(kCrlRefresh, [this](const Task& t) { return refresh_crl(t); });
}

BackgroundTasks::~BackgroundTasks() { stop(); }

void BackgroundTasks::attach() {
  manager_.store().add_post_save(
      [this](const std::string& ca, const std::vector<CaEvent>& events, const std::vector<uint64_t>&) {
        bool changed = false, issued = false, installed = false;
        for (const auto& e : events) {
          if (std::holds_alternative<CertificateIssued>(e)) {
            issued = true;
            metrics_.add("cairn_certificates_issued_total");
          } else if (std::holds_alternative<CertificateRevoked>(e)) {
            changed = true;
            metrics_.add("cairn_certificates_revoked_total");
          } else if (std::holds_alternative<CaCertificateInstalled>(e)) {
            changed = installed = true;
          }
        }
        if (changed || issued) request_sync(ca, !changed);
        if (installed) queue_.request(kCrlRefresh, ca, "");
        if (changed || issued || installed) scheduler_.notify();
      });
}

void BackgroundTasks::request_sync(const std::string& ca, bool issued_only) {
  for (const auto& r : repositories_)
    if (r->serves(ca) && (!issued_only || r->config().publish_issued)) queue_.request(kSyncRepo, ca, r->config().name);
}

void BackgroundTasks::request_all() {
  for (const auto& ca : manager_.store().ids()) {
    request_sync(ca, false);
    queue_.request(kCrlRefresh, ca, "");
  }
  scheduler_.notify();
}

void BackgroundTasks::start() {
  request_all();
  scheduler_.start();
}

void BackgroundTasks::stop() { scheduler_.stop(); }

std::vector<PublishedObject> BackgroundTasks::publication(const std::string& ca, bool include_issued) {
  CaView view = manager_.get_ca(ca);
  if (view.certificate_der.empty()) return {};
  std::vector<PublishedObject> out;
  out.push_back({"ca/" + ca + ".cer", view.certificate_der});
  out.push_back({"chain/" + ca + ".pem", manager_.ca_chain_pem(ca)});
  if (auto crl = objects_.crl(ca)) out.push_back({"crl/" + ca + ".crl", crl->der});
  if (include_issued) {
    CertificateFilter valid;
    valid.status = "valid";
    for (const auto& c : manager_.list_certificates(ca, valid))
      out.push_back({"certs/" + ca + "/" + c.serial + ".cer", c.der});
  }
  return out;
}

std::optional<int64_t> BackgroundTasks::sync_repository(const Task& t) {
  Repository* repo = nullptr;
  for (const auto& r : repositories_)
    if (r->config().name == t.target) repo = r.get();
  if (!repo || !repo->serves(t.ca)) {
    spdlog::info("task {}: repository no longer configured for this CA; dropped", t.id());
    return std::nullopt;
  }
  if (!manager_.store().exists(t.ca)) return std::nullopt;
  // Read everything first (under the CA's lock, briefly), then write
  // without holding it.
  auto objects = publication(t.ca, repo->config().publish_issued);
  if (!objects.empty()) repo->publish(t.ca, objects);
  return std::nullopt;
}

std::optional<int64_t> BackgroundTasks::refresh_crl(const Task& t) {
  if (!manager_.store().exists(t.ca)) return std::nullopt;
  if (objects_.reissue_if_due(manager_.store(), t.ca)) {
    spdlog::info("re-signed the CRL of '{}' ahead of its nextUpdate", t.ca);
    request_sync(t.ca, false);
    scheduler_.notify();
  }
  auto crl = objects_.crl(t.ca);
  if (!crl) return std::nullopt;  // no certificate yet: installing one asks again
  return objects_.reissue_due_ms(*crl);
}

}  // namespace cairn
