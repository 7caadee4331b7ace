#include "api/client_certificate_identity.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "core/distinguished_name.h"
#include "core/encoding.h"
#include "core/serial_number.h"

namespace cairn::api {
namespace {

[[noreturn]] void refuse(const std::string& why) {
  throw Error(ErrorKind::Unauthorized, "invalid_client_certificate", "the client certificate " + why);
}

bool subset(std::vector<std::string> names, const std::vector<std::string>& allowed) {
  return std::all_of(names.begin(), names.end(),
                     [&](const std::string& n) { return std::find(allowed.begin(), allowed.end(), n) != allowed.end(); });
}

}  // namespace

std::optional<Identity> identify_client_certificate(CaManager& manager, const SSL* ssl) {
  if (!ssl) return std::nullopt;
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (!peer) return std::nullopt;
  // Without the extension every use is allowed (UINT32_MAX): CA certificates
  // and the like have none, and none of them identifies a client.
  if (X509_get_ext_by_NID(peer, NID_ext_key_usage, -1) < 0 || !(X509_get_extended_key_usage(peer) & XKU_SSL_CLIENT))
    refuse("is not for client authentication");
  const std::string der = to_der(peer);
  const std::string serial = serial_of(peer);
  const int64_t now = manager.clock().now_ms();
  for (const auto& ca : manager.store().ids()) {
    struct Found {
      bool found = false, revoked = false, current = false;
      std::string profile;
      uint64_t event_version = 0;
    };
    Found f = manager.store().read(ca, [&](const CertAuth& state, uint64_t) {
      Found out;
      std::optional<IssuedCertificate> c = state.find(serial);
      if (!c) return out;
      out.found = true;  // by serial; the DER is compared below
      out.event_version = c->event_version;
      out.revoked = c->revoked;
      out.current = c->not_before_ms <= now && now < c->not_after_ms;
      out.profile = c->profile;
      return out;
    });
    if (!f.found || manager.issued_der(ca, f.event_version) != der) continue;
    if (f.revoked) refuse("is revoked");
    if (!f.current) refuse("is not within its validity period");
    Identity who;
    who.actor = "cert:" + ca + ":" + serial;
    who.role = Role::Service;
    who.cas = {ca};
    who.profiles = {f.profile};
    who.certificate_ca = ca;
    who.certificate_serial = serial;
    return who;
  }
  refuse("was not issued by this server");
}

IssueCheck certificate_renewal_check(const CertificateView& old) {
  SubjectAltNames old_names = old.sans;
  old_names.normalize();
  return [old, old_names](const std::string& ca, const IssueCertificate& cmd) {
    auto deny = [](const std::string& code, const std::string& what) {
      throw Error(ErrorKind::Forbidden, code, "a renewal with a client certificate " + what);
    };
    if (ca != old.ca || cmd.replaces != old.serial) deny("certificate_identity_scope", "renews only itself");
    if (cmd.profile != old.profile) deny("profile_not_allowed", "keeps its profile '" + old.profile + "'");
    if (format_name(parse_subject(cmd.subject).get()) != old.subject)
      deny("name_not_allowed", "keeps its subject '" + old.subject + "'");
    if (!subset(cmd.sans.dns, old_names.dns) || !subset(cmd.sans.ip, old_names.ip) ||
        !subset(cmd.sans.email, old_names.email) || !subset(cmd.sans.uri, old_names.uri))
      deny("name_not_allowed", "may not add names the certificate does not hold");
  };
}

}  // namespace cairn::api
