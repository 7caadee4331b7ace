#include "core/crl_builder.h"

#include "core/encoding.h"
#include "core/serial_number.h"
#include "core/x509_time.h"

namespace cairn {

std::string build_crl(const CrlTemplate& t, Signer& signer, const std::string& signing_key_id) {
  X509CrlPtr crl(X509_CRL_new());
  if (!crl) throw_openssl(ErrorKind::Internal, "openssl_error", "X509_CRL_new failed");
  auto this_update = to_asn1_time(t.this_update_ms);
  auto next_update = to_asn1_time(t.next_update_ms);
  if (X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(t.issuer)) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) != 1)
    throw_openssl(ErrorKind::Internal, "crl_build_failed", "cannot fill CRL");

  for (const auto& e : t.entries) {
    X509RevokedPtr revoked(X509_REVOKED_new());
    auto serial = serial_to_asn1(e.serial);
    auto when = to_asn1_time(e.revoked_at_ms);
    if (!revoked || X509_REVOKED_set_serialNumber(revoked.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(revoked.get(), when.get()) != 1)
      throw_openssl(ErrorKind::Internal, "crl_build_failed", "cannot fill CRL entry");
    if (e.reason != 0) {
      Asn1EnumeratedPtr reason(ASN1_ENUMERATED_new());
      if (!reason || ASN1_ENUMERATED_set(reason.get(), e.reason) != 1 ||
          X509_REVOKED_add1_ext_i2d(revoked.get(), NID_crl_reason, reason.get(), 0, 0) != 1)
        throw_openssl(ErrorKind::Internal, "crl_build_failed", "cannot add reason code");
    }
    if (X509_CRL_add0_revoked(crl.get(), revoked.get()) != 1)
      throw_openssl(ErrorKind::Internal, "crl_build_failed", "cannot add CRL entry");
    revoked.release();  // owned by the CRL now
  }
  X509_CRL_sort(crl.get());

  Asn1IntegerPtr number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set_uint64(number.get(), t.number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1)
    throw_openssl(ErrorKind::Internal, "crl_build_failed", "cannot add CRL number");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, const_cast<X509*>(t.issuer), nullptr, nullptr, crl.get(), 0);
  X509ExtensionPtr aki(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1)
    throw_openssl(ErrorKind::Internal, "crl_build_failed", "cannot add authorityKeyIdentifier");

  signer.sign(signing_key_id, crl.get());
  return to_der(crl.get());
}

}  // namespace cairn
