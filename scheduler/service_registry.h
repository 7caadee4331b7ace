// ServiceRegistry — the services that use cairn's certificates (as in a PKI
// server for microservices): id, name, type, endpoints, a webhook for
// rotation notices, whether to renew automatically, the names it may hold,
// and the certificates linked to it. Stored as JSON under `svc/<id>`; each
// record keeps who created and last changed it. The webhook secret (for the
// X-Cairn-Signature HMAC) is made at registration, shown once, and sealed
// in the key store, never in the record.
// Thread-safety: all methods may be called concurrently.
// Ownership: borrows the KeyValueStore, CaManager and Clock.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/ca_manager.h"

namespace cairn {

struct LinkedCertificate {
  std::string ca;
  std::string serial;
};

struct ServiceRecord {
  std::string id;  // 1-64 of a-z 0-9 . _ -
  std::string name;
  std::string type;
  std::vector<std::string> endpoints;
  std::string webhook_url;  // http(s); empty: no notices
  // Renew linked certificates whose key the server keeps (issued with
  // keep_key) when their first notice is due, instead of only warning.
  bool auto_renew = false;
  std::vector<std::string> allowed_names;  // NamePattern texts, checked on link
  std::vector<LinkedCertificate> certificates;
  std::string created_by, updated_by;
  int64_t created_ms = 0, updated_ms = 0;
};

// Fields of an update; unset ones stay as they are.
struct ServiceUpdate {
  std::optional<std::string> name, type, webhook_url;
  std::optional<std::vector<std::string>> endpoints, allowed_names;
  std::optional<bool> auto_renew;
};

class ServiceRegistry {
 public:
  ServiceRegistry(KeyValueStore& kv, CaManager& manager);

  // Returns the record and the webhook secret (shown once).
  // InvalidInput for bad fields, Conflict "service_exists".
  std::pair<ServiceRecord, std::string> add(const std::string& actor, ServiceRecord record);
  ServiceRecord update(const std::string& actor, const std::string& id, const ServiceUpdate& update);
  // Links a certificate of `ca`; its names must match allowed_names (if any).
  ServiceRecord link(const std::string& actor, const std::string& id, const std::string& ca, const std::string& serial);
  std::vector<ServiceRecord> list() const;
  ServiceRecord get(const std::string& id) const;  // NotFound "service_not_found"
  std::optional<std::string> webhook_secret(const std::string& id);

 private:
  void save(const ServiceRecord& r);
  static void check(const ServiceRecord& r);

  KeyValueStore& kv_;
  CaManager& manager_;
  std::mutex mutex_;  // serialises read-modify-write of records
};

}  // namespace cairn
