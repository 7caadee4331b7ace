#include "core/subject_alt_names.h"

#include "core/der_reader.h"
#include "core/encoding.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace cairn {
namespace {

[[noreturn]] void bad(const std::string& msg) { throw Error(ErrorKind::InvalidInput, "invalid_san", msg); }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void dedupe(std::vector<std::string>& v) {
  std::vector<std::string> out;
  for (auto& s : v)
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  v = std::move(out);
}

std::string canonical_ip(const std::string& text) {
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    inet_ntop(AF_INET, buf, out, sizeof out);
    return out;
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    inet_ntop(AF_INET6, buf, out, sizeof out);
    return out;
  }
  bad("'" + text + "' is not an IPv4 or IPv6 address");
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string asn1_text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

SubjectAltNames from_general_names(const GENERAL_NAMES* names) {
  SubjectAltNames out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    int type = 0;
    void* value = GENERAL_NAME_get0_value(gn, &type);
    const auto* str = static_cast<const ASN1_STRING*>(value);
    switch (type) {
      case GEN_DNS: out.dns.push_back(asn1_text(str)); break;
      case GEN_EMAIL: out.email.push_back(asn1_text(str)); break;
      case GEN_URI: out.uri.push_back(asn1_text(str)); break;
      case GEN_IPADD: {
        char buf[INET6_ADDRSTRLEN];
        int len = ASN1_STRING_length(str);
        const unsigned char* data = ASN1_STRING_get0_data(str);
        if (len == 4) inet_ntop(AF_INET, data, buf, sizeof buf);
        else if (len == 16) inet_ntop(AF_INET6, data, buf, sizeof buf);
        else bad("malformed IP address in subjectAltName");
        out.ip.emplace_back(buf);
        break;
      }
      default:
        throw Error(ErrorKind::InvalidInput, "unsupported_san",
                    "only DNS, IP, email and URI subject alternative names are supported");
    }
    if (out.size() > kMaxSans)
      throw Error(ErrorKind::TooLarge, "too_many_sans", "more than 100 subject alternative names");
  }
  return out;
}

}  // namespace

bool is_valid_dns_name(std::string_view name, bool allow_wildcard) {
  if (name.empty() || name.size() > 253) return false;
  if (allow_wildcard && name.starts_with("*.")) name.remove_prefix(2);
  size_t start = 0;
  int labels = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 1;
}

bool SubjectAltNames::contains_dns(const std::string& name) const {
  return std::find(dns.begin(), dns.end(), lower(name)) != dns.end();
}

void SubjectAltNames::normalize() {
  if (size() > kMaxSans)
    throw Error(ErrorKind::TooLarge, "too_many_sans", "more than 100 subject alternative names");
  for (auto& d : dns) {
    d = lower(d);
    if (!is_valid_dns_name(d, true)) bad("'" + d + "' is not a valid DNS name");
  }
  for (auto& a : ip) a = canonical_ip(a);
  for (auto& e : email) {
    auto at = e.rfind('@');
    if (at == std::string::npos || at == 0 || e.size() > 254 || !printable_ascii(e) ||
        e.find_first_of(",;<>\"()[]\\") != std::string::npos)
      bad("'" + e + "' is not a valid email address");
    std::string domain = lower(e.substr(at + 1));
    if (!is_valid_dns_name(domain, false)) bad("'" + e + "' has an invalid domain");
    e = e.substr(0, at + 1) + domain;
  }
  for (auto& u : uri) {
    auto colon = u.find(':');
    bool ok = colon != std::string::npos && colon > 0 && u.size() <= 2048 && printable_ascii(u) &&
              std::isalpha(static_cast<unsigned char>(u[0]));
    for (size_t i = 0; ok && i < colon; ++i) {
      char c = u[i];
      ok = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    }
    if (!ok || colon + 1 == u.size()) bad("'" + u + "' is not a valid URI");
  }
  dedupe(dns);
  dedupe(ip);
  dedupe(email);
  dedupe(uri);
}

SubjectAltNames SubjectAltNames::from_extensions(const STACK_OF(X509_EXTENSION) * exts) {
  if (!exts) return {};
  int idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
  if (idx < 0) return {};
  X509_EXTENSION* ext = X509v3_get_ext(exts, idx);
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
  if (!names) {
    ERR_clear_error();
    bad("malformed subjectAltName extension");
  }
  return from_general_names(names.get());
}

namespace {

// The Extensions of a DER certificate (RFC 5280 4.1): "" if it has none,
// nullopt if the walk fails (the caller then lets OpenSSL parse it).
std::optional<std::string_view> certificate_extensions(std::string_view der) {
  auto certificate = der_single(der, der_tag::kSequence);
  if (!certificate) return std::nullopt;
  DerReader c(certificate->content);
  auto tbs = c.next_if(der_tag::kSequence);
  if (!tbs) return std::nullopt;
  DerReader t(tbs->content);
  t.next_if(der_tag::kContext0);  // version
  for (uint8_t tag : {der_tag::kInteger, der_tag::kSequence, der_tag::kSequence, der_tag::kSequence,
                      der_tag::kSequence, der_tag::kSequence})  // serial .. subjectPublicKeyInfo
    if (!t.next_if(tag)) return std::nullopt;
  t.next_if(der_tag::kContext1Primitive);  // issuerUniqueID
  t.next_if(der_tag::kContext2Primitive);  // subjectUniqueID
  auto extensions = t.next_if(der_tag::kContext3);
  if (!t.at_end()) return std::nullopt;
  if (!extensions) return std::string_view{};
  auto list = der_single(extensions->content, der_tag::kSequence);
  if (!list) return std::nullopt;
  return list->whole;
}

}  // namespace

SubjectAltNames SubjectAltNames::from_certificate_der(std::string_view der) {
  auto extensions = certificate_extensions(der);
  if (!extensions) return from_certificate(parse_certificate(der).get());
  if (extensions->empty()) return {};
  // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
  constexpr std::string_view kSubjectAltName("\x55\x1d\x11", 3);
  auto list = der_single(*extensions, der_tag::kSequence);
  if (!list) return from_certificate(parse_certificate(der).get());
  DerReader r(list->content);
  std::optional<std::string_view> value;
  int found = 0;
  while (!r.at_end()) {
    auto extension = r.next_if(der_tag::kSequence);
    if (!extension) return from_certificate(parse_certificate(der).get());
    DerReader e(extension->content);
    auto oid = e.next_if(der_tag::kOid);
    e.next_if(0x01);  // critical
    auto octets = e.next_if(0x04);
    if (!oid || !octets || !e.at_end()) return from_certificate(parse_certificate(der).get());
    if (oid->content == kSubjectAltName) {
      ++found;
      value = octets->content;
    }
  }
  // As X509_get_ext_d2i(): none, or more than one, is no names.
  if (found != 1) return {};
  const unsigned char* p = der_bytes(*value);
  GeneralNamesPtr names(d2i_GENERAL_NAMES(nullptr, &p, static_cast<long>(value->size())));
  ERR_clear_error();
  if (!names) return {};
  return from_general_names(names.get());
}

SubjectAltNames SubjectAltNames::from_certificate(const X509* cert) {
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return {};
  return from_general_names(names.get());
}

GeneralNamesPtr SubjectAltNames::to_general_names() const {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  auto add_string = [&](int type, const std::string& value) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    if (!gn || !s || ASN1_STRING_set(s, value.data(), static_cast<int>(value.size())) != 1) {
      GENERAL_NAME_free(gn);
      ASN1_IA5STRING_free(s);
      throw_openssl(ErrorKind::Internal, "openssl_error", "cannot build subjectAltName");
    }
    GENERAL_NAME_set0_value(gn, type, s);
    sk_GENERAL_NAME_push(names.get(), gn);
  };
  for (const auto& d : dns) add_string(GEN_DNS, d);
  for (const auto& a : ip) {
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(a.c_str());
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (!octets || !gn) {
      ASN1_OCTET_STRING_free(octets);
      GENERAL_NAME_free(gn);
      throw_openssl(ErrorKind::Internal, "openssl_error", "cannot encode IP address");
    }
    GENERAL_NAME_set0_value(gn, GEN_IPADD, octets);
    sk_GENERAL_NAME_push(names.get(), gn);
  }
  for (const auto& e : email) add_string(GEN_EMAIL, e);
  for (const auto& u : uri) add_string(GEN_URI, u);
  return names;
}

}  // namespace cairn
