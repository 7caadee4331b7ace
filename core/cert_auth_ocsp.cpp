// CertAuth: delegated OCSP responder certificates (RFC 6960 4.2.2.2).
#include "core/cert_auth.h"
#include "core/certificate_builder.h"
#include "core/distinguished_name.h"
#include "core/encoding.h"
#include "core/key_algorithm.h"

namespace cairn {
namespace {

constexpr int kMaxResponderValidityHours = 24 * 366;

}  // namespace

bool CertAuth::ocsp_responder_due(int64_t now_ms, int validity_hours) const {
  std::optional<IssuedCertificate> current = ocsp_responder();
  if (!current || current->revoked || current->issuer_key_id != key_id_ || now_ms >= current->not_after_ms)
    return true;
  bool fresh = current->not_after_ms - now_ms >= validity_hours * 3600LL * 1000 / 2;
  bool lasts_as_long_as_ca = current->not_after_ms >= ca_not_after_ms_;
  return !fresh && !lasts_as_long_as_ca;
}

std::vector<CaEvent> CertAuth::issue_ocsp_responder(const IssueOcspResponder& c, const CommandMeta& m,
                                                    CaContext& ctx) const {
  require_active(m.time_ms);
  if (c.validity_hours < 1 || c.validity_hours > kMaxResponderValidityHours)
    throw Error(ErrorKind::InvalidInput, "invalid_validity",
                "an OCSP responder certificate lasts between 1 hour and 366 days");
  if (!ocsp_responder_due(m.time_ms, c.validity_hours)) return {};
  // A key of the CA's own algorithm, kept by the server like the CA's key.
  std::string key_id = ctx.signer.create_key(parse_key_algorithm(algorithm_));
  X509NamePtr subject = parse_subject("CN=OCSP responder,OU=" + handle_);
  CertificateTemplate t;
  t.subject = subject.get();
  t.subject_public_key_der = ctx.signer.public_key_der(key_id);
  t.basic_constraints = "critical,CA:FALSE";
  t.key_usage = "critical,digitalSignature";
  t.extended_key_usage = "OCSPSigning";
  t.ocsp_no_check = true;
  return {sign_certificate(t, c.validity_hours * 3600LL * 1000, kOcspResponderProfile, m, ctx)};
}

}  // namespace cairn
