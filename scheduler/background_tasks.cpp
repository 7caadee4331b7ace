#include "scheduler/background_tasks.h"

#include <spdlog/spdlog.h>

#include "core/encoding.h"
#include "core/serial_number.h"
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
    repositories_.push_back(make_repository(r, &kv));
  }
  scheduler_.on(kSyncRepo, [this](const Task& t) { return sync_repository(t); });
  scheduler_.on(kCrlRefresh, [this](const Task& t) { return refresh_crl(t); });
  scheduler_.on(kSyncParent, [this](const Task& t) { return sync_parent(t); });
  scheduler_.on(kKeyRetire, [this](const Task& t) { return retire_keys(t); });
  scheduler_.on(RotationNotices::kCheck, [this](const Task& t) { return notices_.check(t); });
  scheduler_.on(RotationNotices::kNotify, [this](const Task& t) { return notices_.deliver(t); });
  scheduler_.on(RotationNotices::kAutoRenew, [this](const Task& t) { return notices_.auto_renew(t); });
}

BackgroundTasks::~BackgroundTasks() { stop(); }

void BackgroundTasks::attach() {
  manager_.store().add_post_save(
      [this](const std::string& ca, const std::vector<CaEvent>& events, const std::vector<uint64_t>&) {
        bool changed = false, issued = false, installed = false, remote_child = false, rolling = false,
             activated = false;
        for (const auto& e : events) {
          if (const auto* created = std::get_if<CaCreated>(&e)) remote_child = !created->parent_url.empty();
          rolling = rolling || std::holds_alternative<KeyRollStarted>(e);
          if (std::holds_alternative<KeyRollActivated>(e)) changed = activated = true;
          if (std::holds_alternative<StagedCertificateInstalled>(e) || std::holds_alternative<KeyRetired>(e))
            changed = true;
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
        bool requested = (changed || issued) && request_sync(ca, !changed);
        if (installed) queue_.request(kCrlRefresh, ca, "");
        // A local child is certified by create_ca itself; asking for
        // sync-parent before that would certify it twice.
        if (installed || remote_child || rolling) queue_.request(kSyncParent, ca, "");
        if (activated) queue_.request(kKeyRetire, ca, "");
        // An issuance that no repository publishes asks for no work: the
        // scheduler is not woken for it (it was, once per certificate).
        if (requested || changed || installed || remote_child || rolling) scheduler_.notify();
      });
}

bool BackgroundTasks::request_sync(const std::string& ca, bool issued_only) {
  bool requested = false;
  for (const auto& r : repositories_)
    if (r->serves(ca) && (!issued_only || r->config().publish_issued)) {
      queue_.request(kSyncRepo, ca, r->config().name);
      requested = true;
    }
  return requested;
}

void BackgroundTasks::request_all() {
  for (const auto& ca : manager_.store().ids()) {
    request_sync(ca, false);
    queue_.request(kCrlRefresh, ca, "");
    auto [has_parent, retiring] = manager_.store().read(ca, [](const CertAuth& s, uint64_t) {
      return std::make_pair(!s.parent().empty(), !s.retiring_keys().empty());
    });
    if (has_parent) queue_.request(kSyncParent, ca, "");
    if (retiring) queue_.request(kKeyRetire, ca, "");
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
  out.push_back({"chain/" + ca + ".pem", manager_.ca_chain_pem(ca)});
  // Each key in service at the paths of its URLs: generation 0 at the
  // CA's plain paths (or the current key once generation 0 is retired).
  manager_.store().read(ca, [&](const CertAuth& state, uint64_t) {
    std::vector<int> generations{state.key_generation()};
    for (const auto& [g, key] : state.retiring_keys()) generations.push_back(g);
    bool zero_in_service = std::find(generations.begin(), generations.end(), 0) != generations.end();
    for (int g : generations) {
      std::string der = g == state.key_generation() ? state.ca_cert_der() : state.retiring_keys().at(g).ca_cert_der;
      auto crl = objects_.crl_of_generation(state, ca, g);
      bool plain = g == 0 || (!zero_in_service && g == state.key_generation());
      if (plain) {
        out.push_back({"ca/" + ca + ".cer", der});
        if (crl) out.push_back({"crl/" + ca + ".crl", crl->der});
      }
      if (g != 0) {
        out.push_back({"ca/" + ca + "/" + std::to_string(g) + ".cer", der});
        if (crl) out.push_back({"crl/" + ca + "/" + std::to_string(g) + ".crl", crl->der});
      }
    }
    return 0;
  });
  // A staged key's certificate, for relying parties to see ahead of use.
  if (!view.staged_certificate_der.empty()) out.push_back({"ca/" + ca + "/next.cer", view.staged_certificate_der});
  if (include_issued) {
    CertificateFilter valid;
    valid.status = "valid";
    valid.with_der = true;
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
  // A key rollover waiting for the parent's certificate of the new key.
  auto pending_csr = manager_.store().read(t.ca, [](const CertAuth& s, uint64_t) {
    const PendingKey* p = s.pending_key();
    return p && p->staged_der.empty() ? p->csr_der : std::string();
  });
  if (!pending_csr.empty()) {
    ChildCertificate staged = certify_at_parent(t.ca, c.parent, c.url, pending_csr);
    manager_.install_parent_certificate(kParentActor, t.ca, staged.certificate_der, staged.chain_pem);
    spdlog::info("CA '{}' staged the certificate of its new key from '{}'", t.ca, c.parent);
    return now;  // then the usual renewal check
  }
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
  ChildCertificate got = certify_at_parent(t.ca, c.parent, c.url, c.csr);
  manager_.install_parent_certificate(kParentActor, t.ca, got.certificate_der, got.chain_pem);
  spdlog::info("CA '{}' installed a certificate from its parent '{}'{}", t.ca, c.parent,
               c.url.empty() ? "" : " at " + c.url);
  Child now_child = read_child();
  int64_t renew_at = now_child.not_after - (now_child.not_after - now_child.not_before) / 3;
  return renew_at > now ? renew_at : now + kDay;
}

ChildCertificate BackgroundTasks::certify_at_parent(const std::string& ca, const std::string& parent,
                                                    const std::string& url, const std::string& csr_der) {
  if (url.empty()) {
    ChildCertificate got = manager_.certify_remote_child(kParentActor, parent, ca, csr_der, 1825);
    got.chain_pem.clear();  // a local parent's chain is read from its state
    return got;
  }
  auto token = manager_.parent_token(ca);
  if (!token)
    throw Error(ErrorKind::Unavailable, "parent_token_missing",
                "the token for parent '" + parent + "' is not in the key store; create the CA again");
  return request_child_certificate(ParentRequest{url, parent, ca, *token, csr_der, 10});
}

std::optional<int64_t> BackgroundTasks::retire_keys(const Task& t) {
  if (!manager_.store().exists(t.ca)) return std::nullopt;
  struct Old {
    int generation;
    std::string ca_cert_der;
    int64_t last_expiry;
  };
  std::string parent, url;
  std::vector<Old> old;
  manager_.store().read(t.ca, [&](const CertAuth& s, uint64_t) {
    parent = s.parent();
    url = s.parent_url();
    for (const auto& [g, key] : s.retiring_keys()) old.push_back({g, key.ca_cert_der, s.last_expiry_of_key(key.key_id)});
    return 0;
  });
  const int64_t now = manager_.clock().now_ms();
  std::optional<int64_t> next;
  for (const auto& k : old) {
    if (now < k.last_expiry) {
      next = next ? std::min(*next, k.last_expiry) : k.last_expiry;
      continue;
    }
    // Its certificates are all expired: the parent revokes its CA
    // certificate first (retried if the parent is down), then it retires.
    std::string serial = serial_of(parse_certificate(k.ca_cert_der).get());
    if (url.empty()) {
      auto cert = manager_.get_certificate(parent, serial);
      if (cert.status != "revoked") manager_.revoke(kParentActor, parent, serial, "superseded");
    } else {
      auto token = manager_.parent_token(t.ca);
      if (!token) throw Error(ErrorKind::Unavailable, "parent_token_missing", "the parent token is not in the key store");
      revoke_child_certificate(ParentRequest{url, parent, t.ca, *token, "", 10}, serial);
    }
    manager_.retire_key(kParentActor, t.ca, k.generation);
    spdlog::info("CA '{}' retired its key of generation {}", t.ca, k.generation);
  }
  return next;
}

}  // namespace cairn
