#include "core/crl_builder.h"

#include "core/der_reader.h"
#include "core/der_writer.h"
#include "core/encoding.h"
#include "core/x509_time.h"

namespace cairn {
namespace {

// The CRL without entries, built and signed by OpenSSL (this also fills the
// inner signature algorithm).
X509CrlPtr signed_header(const CrlTemplate& t, Signer& signer, const std::string& signing_key_id) {
  X509CrlPtr crl(X509_CRL_new());
  if (!crl) throw_openssl(ErrorKind::Internal, "openssl_error", "X509_CRL_new failed");
  auto this_update = to_asn1_time(t.this_update_ms);
  auto next_update = to_asn1_time(t.next_update_ms);
  if (X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(t.issuer)) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) != 1)
    throw_openssl(ErrorKind::Internal, "crl_build_failed", "cannot fill CRL");

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
  return crl;
}

[[noreturn]] void splice_failed() {
  throw Error(ErrorKind::Internal, "crl_build_failed", "unexpected CRL structure from OpenSSL");
}

}  // namespace

std::string encode_revoked_entry(const RevokedEntry& e) {
  std::string out;
  append_revoked_entry(out, e);
  return out;
}

void append_revoked_entry(std::string& out, const RevokedEntry& e) {
  append_revoked_entry(out, e.serial, e.revoked_at_ms, e.reason);
}

void append_revoked_entry(std::string& out, std::string_view serial_hex, int64_t revoked_at_ms, int reason_code) {
  // Written in place (a CRL may list a million): SEQUENCE { INTEGER serial,
  // Time, [Extensions { Extension { id-ce-cRLReasons, OCTET STRING {
  // ENUMERATED reason } } }] }. Every length is below 128.
  uint8_t serial[kMaxDerSerialContent];
  const size_t serial_length = der_unsigned_integer_from_hex(serial_hex, serial);
  char time[kMaxDerTime];
  const size_t time_length = der_time(revoked_at_ms, time);
  static constexpr char kReasonPrefix[] = {0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d,
                                           0x15, 0x04, 0x03, 0x0a, 0x01};
  const size_t reason_length = reason_code != 0 ? sizeof kReasonPrefix + 1 : 0;
  const size_t body = 2 + serial_length + time_length + reason_length;
  out.push_back(static_cast<char>(der_tag::kSequence));
  out.push_back(static_cast<char>(body));
  out.push_back(static_cast<char>(der_tag::kInteger));
  out.push_back(static_cast<char>(serial_length));
  out.append(reinterpret_cast<const char*>(serial), serial_length);
  out.append(time, time_length);
  if (reason_code != 0) {
    out.append(kReasonPrefix, sizeof kReasonPrefix);
    out.push_back(static_cast<char>(reason_code));
  }
}

std::string build_crl_with_entries(const CrlTemplate& t, std::string_view encoded_entries, Signer& signer,
                                   const std::string& signing_key_id) {
  X509CrlPtr header = signed_header(t, signer, signing_key_id);
  std::string der = to_der(header.get());
  if (encoded_entries.empty()) return der;

  // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }
  auto list = der_single(der, der_tag::kSequence);
  if (!list) splice_failed();
  DerReader outer(list->content);
  auto tbs = outer.next_if(der_tag::kSequence);
  auto algorithm = outer.next_if(der_tag::kSequence);
  if (!tbs || !algorithm) splice_failed();
  // TBSCertList: version, signature, issuer, thisUpdate, nextUpdate,
  // [revokedCertificates], [0] crlExtensions. The entries go before [0].
  // Each big part is copied once (53 MB at a million entries): the entries
  // into the TBS, and the TBS into the CRL, each written at its final size.
  const size_t entries_size = der_header_size(encoded_entries.size()) + encoded_entries.size();
  const size_t tbs_content_size = tbs->content.size() + entries_size;
  std::string new_tbs;
  new_tbs.reserve(der_header_size(tbs_content_size) + tbs_content_size);
  der_append_header(new_tbs, der_tag::kSequence, tbs_content_size);
  DerReader fields(tbs->content);
  bool inserted = false;
  while (auto field = fields.next()) {
    if (field->tag == der_tag::kContext0 && !inserted) {
      der_append(new_tbs, der_tag::kSequence, encoded_entries);
      inserted = true;
    }
    new_tbs.append(field->whole);
  }
  if (fields.failed() || !inserted) splice_failed();
  std::string signature(1, '\0');  // no unused bits
  signature += signer.sign_bytes(signing_key_id, new_tbs);
  const size_t body_size =
      new_tbs.size() + algorithm->whole.size() + der_header_size(signature.size()) + signature.size();
  std::string out;
  out.reserve(der_header_size(body_size) + body_size);
  der_append_header(out, der_tag::kSequence, body_size);
  out.append(new_tbs);
  out.append(algorithm->whole);
  der_append(out, der_tag::kBitString, signature);
  return out;
}

std::string build_crl(const CrlTemplate& t, Signer& signer, const std::string& signing_key_id) {
  std::string entries;
  for (const auto& e : t.entries) append_revoked_entry(entries, e);
  return build_crl_with_entries(t, entries, signer, signing_key_id);
}

}  // namespace cairn
