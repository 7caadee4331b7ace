#include "scheduler/rotation_notices.h"

#include <openssl/hmac.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/key_algorithm.h"
#include "core/x509_time.h"
#include "eventstore/records.h"
#include "scheduler/outbound_http.h"

namespace cairn {
namespace {

constexpr int64_t kDayMs = 24 * 3600 * 1000LL;
constexpr int kRenewed = 0;  // the "notice day" of an automatic renewal (notice days are >= 1)

std::string notice_key(const std::string& service, const std::string& ca, const std::string& serial, int days) {
  return "notice/" + service + "/" + ca + "/" + serial + "/" + std::to_string(days);
}

std::string hmac_sha256_hex(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &len))
    throw Error(ErrorKind::Internal, "hmac_failed", "cannot sign the webhook body");
  return to_hex(std::string_view(reinterpret_cast<char*>(out), len));
}

struct Target {
  std::string service, serial;
  int days = 0;
};

Target parse_target(const std::string& target) {
  auto a = target.find('/'), b = target.rfind('/');
  if (a == std::string::npos || a == b) throw Error(ErrorKind::Internal, "invalid_task", "bad notify target " + target);
  return {target.substr(0, a), target.substr(a + 1, b - a - 1), std::stoi(target.substr(b + 1))};
}

}  // namespace

RotationNotices::RotationNotices(KeyValueStore& kv, CaManager& manager, ServiceRegistry& services, TaskQueue& queue,
                                 const SchedulerConfig& config)
    : kv_(kv), manager_(manager), services_(services), queue_(queue), config_(config) {}

std::string RotationNotices::notice(const std::string& service, const std::string& ca, const std::string& serial,
                                    int days) const {
  return kv_.get(notice_key(service, ca, serial, days)).value_or("");
}

void RotationNotices::record(const std::string& key, const std::string& json) {
  WriteBatch b;
  b.put(key, json);
  kv_.write(b, Durability::Sync);
}

std::optional<int64_t> RotationNotices::check(const Task&) {
  const int64_t now = manager_.clock().now_ms();
  std::vector<int> days = config_.notice_days;
  std::sort(days.begin(), days.end());
  for (const auto& service : services_.list()) {
    if (service.webhook_url.empty() && !service.auto_renew) continue;
    for (const auto& link : service.certificates) {
      try {
        CertificateView cert = manager_.get_certificate(link.ca, link.serial);
        for (int hop = 0; hop < 100 && !cert.replaced_by.empty(); ++hop)
          cert = manager_.get_certificate(link.ca, cert.replaced_by);
        if (cert.status != "valid") continue;
        int64_t left = cert.not_after_ms - now;
        auto due = std::find_if(days.begin(), days.end(), [&](int d) { return left <= d * kDayMs; });
        if (due == days.end()) continue;
        if (!notice(service.id, cert.ca, cert.serial, *due).empty()) continue;
        // An automatic renewal first; if it gave up or waits for approval,
        // the ordinary notices go on so the service is never left unwarned.
        std::string renewal = notice(service.id, cert.ca, cert.serial, kRenewed);
        if (service.auto_renew && renewal.empty() && manager_.managed_key_pem(cert.ca, cert.serial)) {
          queue_.request(kAutoRenew, cert.ca, service.id + "/" + cert.serial + "/" + std::to_string(kRenewed));
          continue;
        }
        if (service.webhook_url.empty()) continue;
        queue_.request(kNotify, cert.ca, service.id + "/" + cert.serial + "/" + std::to_string(*due));
      } catch (const Error& e) {
        spdlog::warn("service '{}': cannot check certificate {} of '{}': {}", service.id, link.serial, link.ca,
                     e.what());
      }
    }
  }
  return now + config_.service_check_ms;
}

bool RotationNotices::give_up(const Task& t, const std::string& key) {
  if (t.attempts < config_.notice_max_retries) return false;
  spdlog::error("gave up on task {} after {} attempts: {}", t.id(), t.attempts, t.last_error);
  record(key, nlohmann::json{{"given_up_at", iso8601(manager_.clock().now_ms())},
                             {"attempts", t.attempts},
                             {"error", t.last_error}}
                  .dump());
  return true;
}

void RotationNotices::post(const ServiceRecord& service, const std::string& event, const std::string& delivery,
                           const std::string& body) {
  auto secret = services_.webhook_secret(service.id);
  if (!secret) throw Error(ErrorKind::Unavailable, "webhook_secret_missing", "the webhook secret is not in the key store");
  OutboundHttp http(service.webhook_url, 5, 10);
  std::string path = http.prefix.empty() ? "/" : http.prefix;
  httplib::Headers headers{{"X-Cairn-Event", event},
                           {"X-Cairn-Delivery", delivery},
                           {"X-Cairn-Signature", "sha256=" + hmac_sha256_hex(*secret, body)}};
  auto res = http.client.Post(path, headers, body, "application/json");
  if (!res)
    throw Error(ErrorKind::Unavailable, "webhook_unavailable",
                "webhook of service '" + service.id + "' did not answer: " + httplib::to_string(res.error()));
  if (res->status < 200 || res->status > 299)
    throw Error(ErrorKind::Unavailable, "webhook_refused",
                "webhook of service '" + service.id + "' answered " + std::to_string(res->status));
}

std::optional<int64_t> RotationNotices::deliver(const Task& t) {
  Target target = parse_target(t.target);
  const std::string key = notice_key(target.service, t.ca, target.serial, target.days);
  if (kv_.get(key) || give_up(t, key)) return std::nullopt;  // delivered or given up
  const int64_t now = manager_.clock().now_ms();
  ServiceRecord service = services_.get(target.service);
  CertificateView cert = manager_.get_certificate(t.ca, target.serial);
  if (service.webhook_url.empty()) return std::nullopt;
  std::string body = nlohmann::json{{"event", "certificate_expiring"},
                                    {"service", service.id},
                                    {"ca", cert.ca},
                                    {"serial", cert.serial},
                                    {"subject", cert.subject},
                                    {"not_after", iso8601(cert.not_after_ms)},
                                    {"days_left", (cert.not_after_ms - now) / kDayMs},
                                    {"notice_days", target.days},
                                    {"sent_at", iso8601(now)},
                                    {"delivery", t.id()}}
                         .dump();
  post(service, "certificate_expiring", t.id(), body);
  record(key, nlohmann::json{{"sent_at", iso8601(now)}, {"attempts", t.attempts + 1}}.dump());
  spdlog::info("sent the {}-day notice for certificate {} to service '{}'", target.days, cert.serial, service.id);
  return std::nullopt;
}

std::optional<int64_t> RotationNotices::auto_renew(const Task& t) {
  Target target = parse_target(t.target);
  const std::string key = notice_key(target.service, t.ca, target.serial, kRenewed);
  if (kv_.get(key) || give_up(t, key)) return std::nullopt;
  const int64_t now = manager_.clock().now_ms();
  ServiceRecord service = services_.get(target.service);
  CertificateView old = manager_.get_certificate(t.ca, target.serial);
  // A retry after a failed webhook finds the renewal done: never twice.
  std::string serial = old.replaced_by;
  if (serial.empty()) {
    IssueRequest r;
    r.key_type = describe_public_key(X509_get0_pubkey(parse_certificate(old.der).get()));
    r.keep_key = true;
    IssueResult renewed = manager_.renew_for_owner(kActor, t.ca, old.serial, r);
    OPENSSL_cleanse(renewed.private_key_pem.data(), renewed.private_key_pem.size());
    if (renewed.pending) {
      record(key, nlohmann::json{{"pending_request", renewed.pending->id}, {"at", iso8601(now)}}.dump());
      spdlog::warn("automatic renewal of {} for service '{}' waits for approval (request {})", old.serial,
                   service.id, renewed.pending->id);
      return std::nullopt;
    }
    serial = renewed.certificate.serial;
    spdlog::info("renewed certificate {} of service '{}' as {}", old.serial, service.id, serial);
  }
  CertificateView cert = manager_.get_certificate(t.ca, serial);
  if (!service.webhook_url.empty()) {
    std::string body = nlohmann::json{{"event", "certificate_renewed"},
                                      {"service", service.id},
                                      {"ca", cert.ca},
                                      {"replaces", old.serial},
                                      {"serial", cert.serial},
                                      {"subject", cert.subject},
                                      {"not_after", iso8601(cert.not_after_ms)},
                                      {"certificate_url", "/api/v1/cas/" + cert.ca + "/certificates/" + cert.serial +
                                                              "/download?format=chain"},
                                      {"key_url", "/api/v1/cas/" + cert.ca + "/certificates/" + cert.serial + "/key"},
                                      {"sent_at", iso8601(now)},
                                      {"delivery", t.id()}}
                           .dump();
    post(service, "certificate_renewed", t.id(), body);
  }
  record(key, nlohmann::json{{"renewed_as", cert.serial}, {"sent_at", iso8601(now)}}.dump());
  return std::nullopt;
}

}  // namespace cairn
