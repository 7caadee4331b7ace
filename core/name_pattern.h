// NamePattern — a rule for which names a requester may put in a certificate,
// used by service tokens and by configured profiles.
//
// Syntax (the type is told by the text):
//   "api.example.com"    exactly that DNS name
//   "*.example.com"      any DNS name below example.com, at any depth
//                        (including the wildcard name "*.example.com")
//   "10.0.0.0/8", "2001:db8::/32", "192.0.2.7"   IP addresses in that range
//   "@example.com"       any email address at example.com
//   "ops@example.com"    exactly that address
//   "spiffe://prod/*"    URIs starting with "spiffe://prod/"; without a
//                        trailing '*' the URI must match exactly
// parse() throws InvalidInput "invalid_name_pattern" on anything else.
// names_allowed() checks every SAN, and the subject's commonName (which must
// be one of the SANs or match a pattern itself).
// Thread-safety: immutable value type.
#pragma once

#include <string>
#include <vector>

#include "core/subject_alt_names.h"

namespace cairn {

class NamePattern {
 public:
  enum class Type { Dns, Ip, Email, Uri };

  static NamePattern parse(const std::string& text);
  const std::string& text() const { return text_; }
  Type type() const { return type_; }

  // Names must already be normalised (SubjectAltNames::normalize()).
  bool matches_dns(const std::string& name) const;
  bool matches_ip(const std::string& address) const;
  bool matches_email(const std::string& address) const;
  bool matches_uri(const std::string& uri) const;

 private:
  std::string text_;
  Type type_ = Type::Dns;
  std::string value_;       // DNS name/suffix, email, URI or its prefix
  bool wildcard_ = false;   // DNS "*." suffix, email "@domain", URI "*"
  std::string ip_bytes_;    // network address (4 or 16 bytes)
  int prefix_bits_ = 0;
};

// Returns "" if every name is allowed, else the first name that is not.
std::string first_name_not_allowed(const std::vector<NamePattern>& patterns,
                                   const SubjectAltNames& sans, const std::string& common_name);

}  // namespace cairn
