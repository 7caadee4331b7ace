#include "scheduler/background_tasks.h"

#include <spdlog/spdlog.h>

#include "core/encoding.h"
#include "core/x509_time.h"
#include "scheduler/parent_client.h"

namespace cairn {

BackgroundTasks::BackgroundTasks(KeyValueStore& kv, CaManager& manager, CaObjectsStore& objects, Metrics& metrics,
                                 std::vector<RepositoryConfig> repositories, SchedulerConfig config)
    : kv_(kv),
      manager_(manager),
      objects_(objects),
      metrics_(metrics),
      config_(std::move(config)),
      queue_(kv, manager.clock()),
      status_(kv),
      scheduler_(queue_, status_, metrics, manager.clock(), config_),
      services_(kv, manager),
      notices_(kv, manager, services_, queue_, config_) {
  for (const auto& r : repositories) {
    for (const auto& existing : repositories_)
      if (existing->config().name == r.name)
        throw Error(ErrorKind::InvalidInput, "invalid_repository", "repository '" + r.name + "' is defined twice");
    repositories_.push_back(make_repository(r));
  }
  scheduler_.on(kSyncRepo, [this](const Task& t) { return sync_repository(t); });
  scheduler_.on(kCrlRefresh, [this](const Task& t) { return refresh_crl(t); });
  scheduler_.on(kSyncParent, [this](const Task& t) { return sync_parent(t); });
  scheduler_.on(RotationNotices::kCheck, [this](const Task& t) { return notices_.check(t); });
  scheduler_.on(RotationNotices::kNotify, [this](const Task& t) { return notices_.deliver(t); });
}

BackgroundTasks::~BackgroundTasks() { stop(); }

void BackgroundTasks::attach() {
  manager_.store().add_post_save(
      [this](const std::string& ca, const std::vector<CaEvent>& events, const std::vector<uint64_t>&) {
        bool changed = false, issued = false, installed = false, remote_child = false;
        for (const auto& e : events) {
          if (const auto* created = std::get_if<CaCreated>(&e)) remote_child = !created->parent_url.empty();
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
        // A local child is certified by create_ca itself; asking for
        // sync-parent before that would certify it twice.
        if (installed || remote_child) queue_.request(kSyncParent, ca, "");
        if (changed || issued || installed || remote_child) scheduler_.notify();
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
    bool has_parent = manager_.store().read(ca, [](const CertAuth& s, uint64_t) { return !s.parent().empty(); });
    if (has_parent) queue_.request(kSyncParent, ca, "");
  }
  queue_.request(RotationNotices::kCheck, "", "");
  scheduler_.notify();
}

void BackgroundTasks::request_service_check() {
  queue_.request(RotationNotices::kCheck, "", "");
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

namespace cairn {

std::optional<int64_t> BackgroundTasks::sync_parent(const Task& t) {
  if (!manager_.store().exists(t.ca)) return std::nullopt;
  struct Child {
    std::string parent, url, csr;
    bool active = false;
    int64_t not_before = 0, not_after = 0;
  };
  auto read_child = [&] {
    return manager_.store().read(t.ca, [](const CertAuth& s, uint64_t) {
      return Child{s.parent(), s.parent_url(), s.csr_der(), s.active(), s.ca_not_before_ms(), s.ca_not_after_ms()};
    });
  };
  Child c = read_child();
  if (c.parent.empty()) return std::nullopt;  // a root has no parent
  const int64_t now = manager_.clock().now_ms();
  constexpr int64_t kDay = 24 * 3600 * 1000LL;
  if (c.active) {
    int64_t renew_at = c.not_after - (c.not_after - c.not_before) / 3;
    if (now < renew_at) return renew_at;
    // A certificate already as long as its parent's cannot be improved
    // until the parent itself is renewed: look again daily.
    int64_t parent_not_after = 0;
    if (c.url.empty()) {
      parent_not_after = manager_.get_ca(c.parent).not_after_ms;
    } else {
      auto chain = parse_certificate_chain(manager_.ca_chain_pem(t.ca));  // this CA, then its parent's chain
      if (chain.size() > 1) parent_not_after = from_asn1_time(X509_get0_notAfter(chain[1].get()));
    }
    if (parent_not_after && c.not_after >= parent_not_after) return now + kDay;
  }
  ChildCertificate got;
  if (c.url.empty()) {
    got = manager_.certify_remote_child(kParentActor, c.parent, t.ca, c.csr, 1825);
    got.chain_pem.clear();  // a local parent's chain is read from its state
  } else {
    auto token = manager_.parent_token(t.ca);
    if (!token)
      throw Error(ErrorKind::Unavailable, "parent_token_missing",
                  "the token for parent '" + c.parent + "' is not in the key store; create the CA again");
    got = request_child_certificate(ParentRequest{c.url, c.parent, t.ca, *token, c.csr, 10});
  }
  manager_.install_parent_certificate(kParentActor, t.ca, got.certificate_der, got.chain_pem);
  spdlog::info("CA '{}' installed a certificate from its parent '{}'{}", t.ca, c.parent,
               c.url.empty() ? "" : " at " + c.url);
  Child now_child = read_child();
  int64_t renew_at = now_child.not_after - (now_child.not_after - now_child.not_before) / 3;
  return renew_at > now ? renew_at : now + kDay;
}

}  // namespace cairn
