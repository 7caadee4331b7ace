#include "core/certificate_builder.h"

#include "core/encoding.h"
#include "core/public_key_info.h"
#include "core/serial_number.h"
#include "core/x509_time.h"

namespace cairn {
namespace {

void add_conf_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  if (value.empty()) return;
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    throw_openssl(ErrorKind::Internal, "certificate_build_failed",
                  std::string("cannot add extension ") + OBJ_nid2sn(nid));
}

}  // namespace

std::string build_certificate(const CertificateTemplate& t, Signer& signer,
                              const std::string& signing_key_id) {
  X509Ptr cert(X509_new());
  if (!cert) throw_openssl(ErrorKind::Internal, "openssl_error", "X509_new failed");
  auto serial = serial_to_asn1(t.serial);
  auto nb = to_asn1_time(t.not_before_ms);
  auto na = to_asn1_time(t.not_after_ms);
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(cert.get(), serial.get()) != 1 ||
      X509_set_subject_name(cert.get(), t.subject) != 1 ||
      X509_set_issuer_name(cert.get(), t.issuer ? X509_get_subject_name(t.issuer) : t.subject) != 1 ||
      X509_set1_notBefore(cert.get(), nb.get()) != 1 ||
      X509_set1_notAfter(cert.get(), na.get()) != 1)
    throw_openssl(ErrorKind::Internal, "certificate_build_failed", "cannot fill certificate");
  if (auto info = read_public_key_info(t.subject_public_key_der)) {
    set_certificate_public_key(cert.get(), *info);
  } else if (X509_set_pubkey(cert.get(), parse_public_key_der(t.subject_public_key_der).get()) != 1) {
    throw_openssl(ErrorKind::Internal, "certificate_build_failed", "cannot set the certificate's public key");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, t.issuer ? const_cast<X509*>(t.issuer) : cert.get(), cert.get(), nullptr,
                 nullptr, 0);
  add_conf_extension(cert.get(), &ctx, NID_basic_constraints, t.basic_constraints);
  add_conf_extension(cert.get(), &ctx, NID_key_usage, t.key_usage);
  add_conf_extension(cert.get(), &ctx, NID_ext_key_usage, t.extended_key_usage);
  add_conf_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  add_conf_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  if (t.sans && !t.sans->empty()) {
    auto names = t.sans->to_general_names();
    // RFC 5280 4.2.1.6: critical when the subject is empty.
    int critical = X509_NAME_entry_count(t.subject) == 0 ? 1 : 0;
    if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names.get(), critical,
                          X509V3_ADD_DEFAULT) != 1)
      throw_openssl(ErrorKind::Internal, "certificate_build_failed", "cannot add subjectAltName");
  }
  if (!t.crl_url.empty())
    add_conf_extension(cert.get(), &ctx, NID_crl_distribution_points, "URI:" + t.crl_url);
  std::string aia;
  if (!t.ocsp_url.empty()) aia = "OCSP;URI:" + t.ocsp_url;
  if (!t.ca_issuers_url.empty())
    aia += (aia.empty() ? "" : ",") + std::string("caIssuers;URI:") + t.ca_issuers_url;
  add_conf_extension(cert.get(), &ctx, NID_info_access, aia);
  if (t.ocsp_no_check) add_conf_extension(cert.get(), &ctx, NID_id_pkix_OCSP_noCheck, "ignored");

  signer.sign(signing_key_id, cert.get());
  return to_der(cert.get());
}

}  // namespace cairn
