#include "core/certificate_builder.h"

#include <openssl/sha.h>

#include <map>
#include <memory>
#include <mutex>

#include "core/der_reader.h"
#include "core/der_writer.h"
#include "core/encoding.h"
#include "core/key_algorithm.h"
#include "core/public_key_info.h"

namespace cairn {
namespace {

// The certificate is written as DER directly (RFC 5280 4.1): building it
// through OpenSSL's X509 object model (set each field, add each extension,
// encode, sign, encode again) cost more CPU than the signature itself.
// OpenSSL still parses every extension text (once, see conf_extension), the
// names and the SANs, and makes the signature.

[[noreturn]] void build_failed(const std::string& what) {
  throw_openssl(ErrorKind::Internal, "certificate_build_failed", what);
}

std::string i2d_string(const X509_NAME* name) {
  unsigned char* der = nullptr;
  int len = i2d_X509_NAME(name, &der);
  std::string out = adopt_der(der, len);
  if (out.empty()) build_failed("cannot encode a name");
  return out;
}

// The DER Extension for a configuration text (basic constraints, key
// usage, extended key usage, CRL distribution point, AIA, OCSP nocheck),
// parsed by OpenSSL from that text once: these come from profiles and CA
// URLs, so a server sees few of them. Texts that need the certificate as
// context (OpenSSL's "hash", "keyid", "issuer:copy") are not accepted.
std::shared_ptr<const std::string> conf_extension(int nid, const std::string& value) {
  static std::mutex mutex;
  static std::map<std::pair<int, std::string>, std::shared_ptr<const std::string>> parsed;
  std::lock_guard lock(mutex);
  auto key = std::make_pair(nid, value);
  auto it = parsed.find(key);
  if (it != parsed.end()) return it->second;
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, nullptr, nid, value.c_str()));
  unsigned char* der = nullptr;
  int len = ext ? i2d_X509_EXTENSION(ext.get(), &der) : -1;
  auto encoded = std::make_shared<const std::string>(adopt_der(der, len));
  if (encoded->empty()) build_failed(std::string("cannot add extension ") + OBJ_nid2sn(nid) + " (" + value + ")");
  if (parsed.size() >= 1024) parsed.clear();  // a bound, should texts ever vary per certificate
  return parsed.emplace(std::move(key), std::move(encoded)).first->second;
}

void append_conf_extension(std::string& out, int nid, const std::string& value) {
  if (!value.empty()) out += *conf_extension(nid, value);
}

// Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
void append_extension(std::string& out, std::string_view oid_der, bool critical, std::string_view value) {
  std::string ext(oid_der);
  if (critical) ext += std::string_view("\x01\x01\xff", 3);
  der_append(ext, 0x04, value);
  der_append(out, der_tag::kSequence, ext);
}

constexpr std::string_view kOidSubjectKeyIdentifier("\x06\x03\x55\x1d\x0e", 5);
constexpr std::string_view kOidSubjectAltName("\x06\x03\x55\x1d\x11", 5);
constexpr std::string_view kOidAuthorityKeyIdentifier("\x06\x03\x55\x1d\x23", 5);

// subjectKeyIdentifier: the SHA-1 of the subject public key's bits (RFC
// 5280 4.2.1.2, method 1, as OpenSSL's "hash"), and authorityKeyIdentifier
// with the issuer's key identifier only ("keyid:always"; a self-signed
// certificate names its own).
void append_key_identifiers(std::string& out, const X509* issuer, std::string_view subject_key_bits) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  unsigned int length = 0;
  if (EVP_Digest(subject_key_bits.data(), subject_key_bits.size(), digest, &length, fetched_digest(NID_sha1), nullptr) != 1)
    build_failed("cannot hash the subject key");
  std::string_view ski(reinterpret_cast<const char*>(digest), length);
  append_extension(out, kOidSubjectKeyIdentifier, false, der_wrap(0x04, ski));
  std::string_view authority = ski;
  if (issuer) {
    const ASN1_OCTET_STRING* issuer_ski = X509_get0_subject_key_id(const_cast<X509*>(issuer));
    if (!issuer_ski) build_failed("cannot add authorityKeyIdentifier: the issuer has no key identifier");
    authority = std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(issuer_ski)),
                                 static_cast<size_t>(ASN1_STRING_length(issuer_ski)));
  }
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
  append_extension(out, kOidAuthorityKeyIdentifier, false,
                   der_wrap(der_tag::kSequence, der_wrap(0x80, authority)));
}

void append_subject_alt_names(std::string& out, const SubjectAltNames& sans, bool subject_empty) {
  auto names = sans.to_general_names();
  unsigned char* der = nullptr;
  int len = i2d_GENERAL_NAMES(names.get(), &der);
  std::string value = adopt_der(der, len);
  if (value.empty()) build_failed("cannot add subjectAltName");
  // RFC 5280 4.2.1.6: critical when the subject is empty.
  append_extension(out, kOidSubjectAltName, subject_empty, value);
}

// The SubjectPublicKeyInfo as DER and its key bits; a key that is valid but
// not minimally encoded is re-encoded by OpenSSL first.
PublicKeyInfo subject_key(const std::string& der) {
  if (auto info = read_public_key_info(der)) return std::move(*info);
  if (auto info = read_public_key_info(public_key_der(parse_public_key_der(der).get()))) return std::move(*info);
  build_failed("cannot read the certificate's public key");
}

}  // namespace

UnsignedCertificate prepare_certificate(const CertificateTemplate& t, Signer& signer,
                                        const std::string& signing_key_id) {
  if (!t.subject) build_failed("a certificate needs a subject name (it may be empty)");
  const PublicKeyInfo key = subject_key(t.subject_public_key_der);
  const bool subject_empty = X509_NAME_entry_count(t.subject) == 0;

  std::string extensions;
  append_conf_extension(extensions, NID_basic_constraints, t.basic_constraints);
  append_conf_extension(extensions, NID_key_usage, t.key_usage);
  append_conf_extension(extensions, NID_ext_key_usage, t.extended_key_usage);
  append_key_identifiers(extensions, t.issuer, key.key_bytes);
  if (t.sans && !t.sans->empty()) append_subject_alt_names(extensions, *t.sans, subject_empty);
  if (!t.crl_url.empty()) append_conf_extension(extensions, NID_crl_distribution_points, std::string("URI:").append(t.crl_url));
  std::string aia;  // appended piece by piece: GCC 12 at -O3 warns (-Wrestrict) on "literal" + std::string&&
  if (!t.ocsp_url.empty()) aia.append("OCSP;URI:").append(t.ocsp_url);
  if (!t.ca_issuers_url.empty()) aia.append(aia.empty() ? "" : ",").append("caIssuers;URI:").append(t.ca_issuers_url);
  append_conf_extension(extensions, NID_info_access, aia);
  if (t.ocsp_no_check) append_conf_extension(extensions, NID_id_pkix_OCSP_noCheck, "ignored");

  UnsignedCertificate out;
  out.algorithm = signer.signature_algorithm(signing_key_id);
  char not_before[kMaxDerTime], not_after[kMaxDerTime];
  std::string validity(not_before, der_time(t.not_before_ms, not_before));
  validity.append(not_after, der_time(t.not_after_ms, not_after));
  uint8_t serial[kMaxDerSerialContent];
  size_t serial_length = der_unsigned_integer_from_hex(t.serial, serial);

  // TBSCertificate ::= SEQUENCE { [0] version v3, serialNumber, signature,
  //   issuer, validity, subject, subjectPublicKeyInfo, [3] extensions }
  std::string tbs;
  tbs.reserve(512 + extensions.size());
  tbs += std::string_view("\xa0\x03\x02\x01\x02", 5);
  der_append(tbs, der_tag::kInteger, std::string_view(reinterpret_cast<const char*>(serial), serial_length));
  tbs += out.algorithm;
  tbs += i2d_string(t.issuer ? X509_get_subject_name(t.issuer) : t.subject);
  der_append(tbs, der_tag::kSequence, validity);
  tbs += i2d_string(t.subject);
  tbs += key.der;
  der_append(tbs, der_tag::kContext3, der_wrap(der_tag::kSequence, extensions));
  out.tbs = der_wrap(der_tag::kSequence, tbs);
  return out;
}

std::string certificate_from(const UnsignedCertificate& u, std::string_view signature) {
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
  std::string bits(1, '\0');  // no unused bits
  bits += signature;
  std::string body;
  body.reserve(u.tbs.size() + u.algorithm.size() + bits.size() + 8);
  body += u.tbs;
  body += u.algorithm;
  der_append(body, der_tag::kBitString, bits);
  return der_wrap(der_tag::kSequence, body);
}

std::string signed_certificate(const UnsignedCertificate& u, Signer& signer, const std::string& signing_key_id) {
  return certificate_from(u, signer.sign_bytes(signing_key_id, u.tbs));
}

std::string build_certificate(const CertificateTemplate& t, Signer& signer,
                              const std::string& signing_key_id) {
  return signed_certificate(prepare_certificate(t, signer, signing_key_id), signer, signing_key_id);
}

}  // namespace cairn
