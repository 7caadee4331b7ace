// ServerTlsCertificate — keeps the HTTPS listener's own certificate, issued
// by one of this server's CAs (profile "server", actor "system:tls") for a
// P-256 key that lives only in memory. start() issues one and revokes, as
// superseded, every certificate an earlier run used; renew_if_due()
// replaces it when less than a third of its validity is left. Both are
// ordinary commands in the CA's history.
// Thread-safety: start() once; renew_if_due() from one thread at a time.
// Ownership: borrows the CaManager and TlsCredentials.
#pragma once

#include <string>

#include "api/tls_credentials.h"
#include "core/ca_manager.h"

namespace cairn::api {

// "127.0.0.1", "::1" become IP names, anything else a DNS name.
SubjectAltNames tls_names(const std::vector<std::string>& hosts);

class ServerTlsCertificate {
 public:
  static constexpr const char* kActor = "system:tls";

  ServerTlsCertificate(CaManager& manager, TlsCredentials& credentials, std::string ca,
                       std::vector<std::string> hosts, int validity_days);
  void start();
  bool renew_if_due();
  const std::string& serial() const { return serial_; }

 private:
  void issue();
  void revoke_all_but_current();

  CaManager& manager_;
  TlsCredentials& credentials_;
  std::string ca_;
  std::vector<std::string> hosts_;
  int validity_days_;
  std::string serial_;
  int64_t not_before_ms_ = 0, not_after_ms_ = 0;
};

}  // namespace cairn::api
