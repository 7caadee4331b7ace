#include "core/certificate_builder.h"

#include <openssl/sha.h>

#include <map>
#include <memory>
#include <mutex>

#include "core/encoding.h"
#include "core/public_key_info.h"
#include "core/serial_number.h"
#include "core/x509_time.h"

namespace cairn {
namespace {

// An extension that depends only on its configuration text (basic
// constraints, key usage, extended key usage, CRL distribution point, AIA,
// OCSP nocheck), parsed from that text once: these come from profiles and
// CA URLs, so a server sees few of them. Null if OpenSSL needs a context.
std::shared_ptr<const X509_EXTENSION> conf_extension(int nid, const std::string& value) {
  static std::mutex mutex;
  static std::map<std::pair<int, std::string>, std::shared_ptr<const X509_EXTENSION>> parsed;
  std::lock_guard lock(mutex);
  auto key = std::make_pair(nid, value);
  auto it = parsed.find(key);
  if (it != parsed.end()) return it->second;
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, nid, value.c_str());
  if (!ext) {
    ERR_clear_error();
    return nullptr;
  }
  if (parsed.size() >= 1024) parsed.clear();  // a bound, should texts ever vary per certificate
  return parsed.emplace(std::move(key), std::shared_ptr<const X509_EXTENSION>(ext, X509_EXTENSION_free)).first->second;
}

void add_conf_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  if (value.empty()) return;
  if (auto cached = conf_extension(nid, value)) {
    if (X509_add_ext(cert, const_cast<X509_EXTENSION*>(cached.get()), -1) == 1) return;  // adds a copy
  } else {
    X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
    if (ext && X509_add_ext(cert, ext.get(), -1) == 1) return;
  }
  throw_openssl(ErrorKind::Internal, "certificate_build_failed", std::string("cannot add extension ") + OBJ_nid2sn(nid));
}

// subjectKeyIdentifier: the SHA-1 of the subject public key's bits (RFC
// 5280 4.2.1.2, method 1, as OpenSSL's "hash"), and authorityKeyIdentifier
// with the issuer's key identifier ("keyid:always"; a self-signed
// certificate names its own).
void add_key_identifiers(X509* cert, const X509* issuer, std::string_view subject_key_bits) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  unsigned int length = 0;
  Asn1OctetStringPtr ski(ASN1_OCTET_STRING_new());
  if (!ski || EVP_Digest(subject_key_bits.data(), subject_key_bits.size(), digest, &length, EVP_sha1(), nullptr) != 1 ||
      ASN1_OCTET_STRING_set(ski.get(), digest, static_cast<int>(length)) != 1 ||
      X509_add1_ext_i2d(cert, NID_subject_key_identifier, ski.get(), 0, X509V3_ADD_DEFAULT) != 1)
    throw_openssl(ErrorKind::Internal, "certificate_build_failed", "cannot add subjectKeyIdentifier");
  const ASN1_OCTET_STRING* issuer_ski = issuer ? X509_get0_subject_key_id(const_cast<X509*>(issuer)) : ski.get();
  std::unique_ptr<AUTHORITY_KEYID, OpenSslDeleter<AUTHORITY_KEYID_free>> aki(AUTHORITY_KEYID_new());
  if (!issuer_ski || !aki || !(aki->keyid = ASN1_OCTET_STRING_dup(issuer_ski)) ||
      X509_add1_ext_i2d(cert, NID_authority_key_identifier, aki.get(), 0, X509V3_ADD_DEFAULT) != 1)
    throw_openssl(ErrorKind::Internal, "certificate_build_failed", "cannot add authorityKeyIdentifier");
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
  auto info = read_public_key_info(t.subject_public_key_der);
  if (info) {
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
  if (info) {
    add_key_identifiers(cert.get(), t.issuer, info->key_bytes);
  } else {
    add_conf_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    add_conf_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  }
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
