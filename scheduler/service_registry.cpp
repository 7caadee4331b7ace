#include "scheduler/service_registry.h"

#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "core/distinguished_name.h"
#include "core/name_pattern.h"
#include "eventstore/aggregate_log.h"
#include "eventstore/records.h"

namespace cairn {
namespace {

constexpr const char* kPrefix = "svc/";
constexpr size_t kMaxList = 100;

std::string secret_name(const std::string& id) { return "webhook/" + id; }

nlohmann::json encode(const ServiceRecord& r) {
  nlohmann::json certs = nlohmann::json::array();
  for (const auto& c : r.certificates) certs.push_back({{"ca", c.ca}, {"serial", c.serial}});
  return {{"v", 1},           {"id", r.id},
          {"name", r.name},   {"type", r.type},
          {"endpoints", r.endpoints}, {"webhook_url", r.webhook_url},
          {"auto_renew", r.auto_renew}, {"allowed_names", r.allowed_names},
          {"certificates", certs}, {"created_by", r.created_by},
          {"created_ms", r.created_ms}, {"updated_by", r.updated_by},
          {"updated_ms", r.updated_ms}};
}

ServiceRecord decode(std::string_view bytes) {
  auto j = nlohmann::json::parse(bytes, nullptr, false);
  if (!j.is_object()) throw Error(ErrorKind::Internal, "corrupt_record", "unreadable service record");
  ServiceRecord r;
  r.id = j.value("id", "");
  r.name = j.value("name", "");
  r.type = j.value("type", "");
  r.endpoints = j.value("endpoints", std::vector<std::string>{});
  r.webhook_url = j.value("webhook_url", "");
  r.allowed_names = j.value("allowed_names", std::vector<std::string>{});
  r.auto_renew = j.value("auto_renew", false);
  for (const auto& c : j.value("certificates", nlohmann::json::array()))
    r.certificates.push_back({c.value("ca", ""), c.value("serial", "")});
  r.created_by = j.value("created_by", "");
  r.created_ms = j.value("created_ms", int64_t{0});
  r.updated_by = j.value("updated_by", "");
  r.updated_ms = j.value("updated_ms", int64_t{0});
  return r;
}

void bad(const std::string& why) { throw Error(ErrorKind::InvalidInput, "invalid_service", why); }

void check_text(const std::string& what, const std::string& v, size_t max) {
  if (v.size() > max) bad(what + " is longer than " + std::to_string(max) + " characters");
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f) bad(what + " has control characters");
}

}  // namespace

ServiceRegistry::ServiceRegistry(KeyValueStore& kv, CaManager& manager) : kv_(kv), manager_(manager) {}

void ServiceRegistry::check(const ServiceRecord& r) {
  validate_aggregate_id(r.id);
  check_text("name", r.name, 256);
  check_text("type", r.type, 64);
  if (r.endpoints.size() > kMaxList || r.allowed_names.size() > kMaxList) bad("at most 100 endpoints and names");
  for (const auto& e : r.endpoints) check_text("an endpoint", e, 512);
  for (const auto& n : r.allowed_names) NamePattern::parse(n);
  if (!r.webhook_url.empty()) {
    check_text("webhook_url", r.webhook_url, 512);
    bool ok = r.webhook_url.starts_with("http://") || r.webhook_url.starts_with("https://");
    if (!ok || r.webhook_url.find(' ') != std::string::npos) bad("webhook_url must be an http(s) URL");
  }
}

void ServiceRegistry::save(const ServiceRecord& r) {
  WriteBatch b;
  b.put(kPrefix + r.id, encode(r).dump());
  kv_.write(b, Durability::Sync);
}

std::pair<ServiceRecord, std::string> ServiceRegistry::add(const std::string& actor, ServiceRecord r) {
  check(r);
  std::lock_guard lock(mutex_);
  if (kv_.get(kPrefix + r.id))
    throw Error(ErrorKind::Conflict, "service_exists", "a service with id '" + r.id + "' exists");
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error(ErrorKind::Internal, "rng_failed", "random generator failed");
  std::string secret = "whsec_" + to_hex(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
  manager_.store_secret(secret_name(r.id), secret);
  r.certificates.clear();
  r.created_by = r.updated_by = actor;
  r.created_ms = r.updated_ms = manager_.clock().now_ms();
  save(r);
  return {r, secret};
}

ServiceRecord ServiceRegistry::update(const std::string& actor, const std::string& id, const ServiceUpdate& u) {
  std::lock_guard lock(mutex_);
  ServiceRecord r = get(id);
  if (u.name) r.name = *u.name;
  if (u.type) r.type = *u.type;
  if (u.webhook_url) r.webhook_url = *u.webhook_url;
  if (u.endpoints) r.endpoints = *u.endpoints;
  if (u.allowed_names) r.allowed_names = *u.allowed_names;
  if (u.auto_renew) r.auto_renew = *u.auto_renew;
  check(r);
  r.updated_by = actor;
  r.updated_ms = manager_.clock().now_ms();
  save(r);
  return r;
}

ServiceRecord ServiceRegistry::link(const std::string& actor, const std::string& id, const std::string& ca,
                                    const std::string& serial) {
  std::lock_guard lock(mutex_);
  ServiceRecord r = get(id);
  CertificateView cert = manager_.get_certificate(ca, serial);  // 404s for unknown CAs and serials
  if (!r.allowed_names.empty()) {
    std::vector<NamePattern> patterns;
    for (const auto& n : r.allowed_names) patterns.push_back(NamePattern::parse(n));
    std::string denied = first_name_not_allowed(patterns, cert.sans, common_name(parse_subject(cert.subject).get()));
    if (!denied.empty())
      throw Error(ErrorKind::Forbidden, "name_not_allowed",
                  "certificate " + cert.serial + " names '" + denied + "', which service '" + id + "' may not hold");
  }
  for (const auto& c : r.certificates)
    if (c.ca == ca && c.serial == cert.serial) return r;  // already linked
  if (r.certificates.size() >= 1000) bad("at most 1000 certificates per service");
  r.certificates.push_back({ca, cert.serial});
  r.updated_by = actor;
  r.updated_ms = manager_.clock().now_ms();
  save(r);
  return r;
}

std::vector<ServiceRecord> ServiceRegistry::list() const {
  std::vector<ServiceRecord> out;
  kv_.scan(kPrefix, [&](std::string_view, std::string_view value) {
    out.push_back(decode(value));
    return true;
  });
  return out;
}

ServiceRecord ServiceRegistry::get(const std::string& id) const {
  validate_aggregate_id(id);
  auto bytes = kv_.get(kPrefix + id);
  if (!bytes) throw Error(ErrorKind::NotFound, "service_not_found", "no service with id '" + id + "'");
  return decode(*bytes);
}

std::optional<std::string> ServiceRegistry::webhook_secret(const std::string& id) {
  return manager_.secret(secret_name(id));
}

}  // namespace cairn
