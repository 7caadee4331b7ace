// SubjectAltNames — the DNS, IP, email and URI names of a certificate, with
// strict syntax checks and conversion to/from the X.509 extension.
// normalize() lower-cases DNS names and email domains, canonicalises IP
// addresses and removes duplicates; it throws InvalidInput "invalid_san" on
// bad syntax and TooLarge "too_many_sans" above kMaxSans names.
// Thread-safety: plain value type.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/openssl_types.h"

namespace cairn {

inline constexpr size_t kMaxSans = 100;

struct SubjectAltNames {
  std::vector<std::string> dns;
  std::vector<std::string> ip;
  std::vector<std::string> email;
  std::vector<std::string> uri;

  bool empty() const { return dns.empty() && ip.empty() && email.empty() && uri.empty(); }
  size_t size() const { return dns.size() + ip.size() + email.size() + uri.size(); }
  bool contains_dns(const std::string& name) const;
  void normalize();

  // Reads the subjectAltName extension from a stack of extensions (CSR) or a
  // certificate. Other name types are rejected with "unsupported_san".
  static SubjectAltNames from_extensions(const STACK_OF(X509_EXTENSION) * exts);
  static SubjectAltNames from_certificate(const X509* cert);
  // The same from a DER certificate, without decoding its public key.
  static SubjectAltNames from_certificate_der(std::string_view der);
  GeneralNamesPtr to_general_names() const;

  template <class Ar>
  void serialize(Ar& ar, std::uint32_t const /*version*/) {
    ar(dns, ip, email, uri);
  }
};

bool is_valid_dns_name(std::string_view name, bool allow_wildcard);

}  // namespace cairn
