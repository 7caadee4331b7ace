#include "api/server_tls_certificate.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

namespace cairn::api {

SubjectAltNames tls_names(const std::vector<std::string>& hosts) {
  SubjectAltNames names;
  for (const auto& h : hosts) {
    unsigned char buf[16];
    bool ip = inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
    (ip ? names.ip : names.dns).push_back(h);
  }
  return names;
}

ServerTlsCertificate::ServerTlsCertificate(CaManager& manager, TlsCredentials& credentials, std::string ca,
                                           std::vector<std::string> hosts, int validity_days)
    : manager_(manager), credentials_(credentials), ca_(std::move(ca)), hosts_(std::move(hosts)),
      validity_days_(validity_days) {
  if (hosts_.empty())
    throw Error(ErrorKind::InvalidInput, "invalid_tls_names", "the TLS certificate needs at least one name");
}

void ServerTlsCertificate::issue() {
  IssueRequest r;
  r.key_type = "ec-p256";
  r.subject = "CN=" + hosts_.front();
  r.sans = tls_names(hosts_);
  r.profile = "server";
  r.validity_days = validity_days_;
  IssueResult result = manager_.issue(kActor, ca_, r);
  if (result.pending)
    throw Error(ErrorKind::Conflict, "tls_needs_approval",
                "the server profile of CA '" + ca_ + "' needs approval; the TLS certificate cannot wait for it");
  credentials_.set(result.chain_pem, result.private_key_pem);
  OPENSSL_cleanse(result.private_key_pem.data(), result.private_key_pem.size());
  serial_ = result.certificate.serial;
  not_before_ms_ = result.certificate.not_before_ms;
  not_after_ms_ = result.certificate.not_after_ms;
  spdlog::info("HTTPS certificate {} from CA '{}' valid until {} ms", serial_, ca_, not_after_ms_);
}

void ServerTlsCertificate::revoke_all_but_current() {
  CertificateFilter valid;
  valid.status = "valid";
  valid.profile = "server";
  for (const auto& c : manager_.list_certificates(ca_, valid)) {
    if (c.requested_by != kActor || c.serial == serial_) continue;
    try {
      manager_.revoke(kActor, ca_, c.serial, "superseded");
    } catch (const Error& e) {
      spdlog::warn("could not revoke the earlier HTTPS certificate {}: {}", c.serial, e.what());
    }
  }
}

void ServerTlsCertificate::start() {
  issue();
  revoke_all_but_current();
}

bool ServerTlsCertificate::renew_if_due() {
  int64_t now = manager_.clock().now_ms();
  if (now < not_after_ms_ - (not_after_ms_ - not_before_ms_) / 3) return false;
  issue();
  revoke_all_but_current();
  return true;
}

}  // namespace cairn::api
