#include "core/name_pattern.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "eventstore/error.h"

namespace cairn {
namespace {

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw Error(ErrorKind::InvalidInput, "invalid_name_pattern", "name pattern '" + text + "': " + why);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The address bytes of an IPv4 or IPv6 text, or "" if it is neither.
std::string address_bytes(const std::string& text) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 4);
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 16);
  return "";
}

bool prefix_equal(const std::string& a, const std::string& b, int bits) {
  if (a.size() != b.size()) return false;
  int full = bits / 8;
  if (a.compare(0, full, b, 0, full) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  unsigned mask = (0xFFu << (8 - rest)) & 0xFFu;
  return (static_cast<unsigned char>(a[full]) & mask) == (static_cast<unsigned char>(b[full]) & mask);
}

}  // namespace

NamePattern NamePattern::parse(const std::string& text) {
  if (text.empty() || text.size() > 255) bad(text, "must be 1 to 255 characters");
  for (unsigned char c : text)
    if (c <= 0x20 || c >= 0x7F) bad(text, "must be printable ASCII without spaces");
  NamePattern p;
  p.text_ = text;
  if (text.find("://") != std::string::npos) {
    p.type_ = Type::Uri;
    p.wildcard_ = text.back() == '*';
    p.value_ = p.wildcard_ ? text.substr(0, text.size() - 1) : text;
    if (p.value_.find('*') != std::string::npos) bad(text, "'*' is only allowed at the end of a URI");
    return p;
  }
  if (auto at = text.find('@'); at != std::string::npos) {
    p.type_ = Type::Email;
    std::string domain = lower(text.substr(at + 1));
    if (!is_valid_dns_name(domain, false)) bad(text, "the email domain is not valid");
    p.wildcard_ = at == 0;
    p.value_ = text.substr(0, at + 1) + domain;
    return p;
  }
  std::string address = text;
  int bits = -1;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    address = text.substr(0, slash);
    std::string len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3 || !std::all_of(len.begin(), len.end(), ::isdigit))
      bad(text, "the prefix length must be a number");
    bits = std::stoi(len);
  }
  if (std::string bytes = address_bytes(address); !bytes.empty()) {
    int max_bits = static_cast<int>(bytes.size()) * 8;
    if (bits > max_bits) bad(text, "the prefix length is too long");
    p.type_ = Type::Ip;
    p.ip_bytes_ = bytes;
    p.prefix_bits_ = bits < 0 ? max_bits : bits;
    return p;
  }
  if (bits >= 0) bad(text, "is neither an IP range nor a DNS name");
  std::string name = lower(text);
  if (!is_valid_dns_name(name, true)) bad(text, "is not a DNS name, IP range, email or URI pattern");
  p.type_ = Type::Dns;
  p.wildcard_ = name.starts_with("*.");
  p.value_ = p.wildcard_ ? name.substr(1) : name;  // ".example.com" for wildcards
  return p;
}

bool NamePattern::matches_dns(const std::string& name) const {
  if (type_ != Type::Dns) return false;
  if (!wildcard_) return name == value_;
  return name.size() > value_.size() && name.ends_with(value_);
}

bool NamePattern::matches_ip(const std::string& address) const {
  if (type_ != Type::Ip) return false;
  std::string bytes = address_bytes(address);
  return !bytes.empty() && prefix_equal(bytes, ip_bytes_, prefix_bits_);
}

bool NamePattern::matches_email(const std::string& address) const {
  if (type_ != Type::Email) return false;
  if (!wildcard_) return address == value_;
  return address.size() > value_.size() && address.ends_with(value_);
}

bool NamePattern::matches_uri(const std::string& uri) const {
  if (type_ != Type::Uri) return false;
  return wildcard_ ? uri.starts_with(value_) : uri == value_;
}

std::string first_name_not_allowed(const std::vector<NamePattern>& patterns,
                                   const SubjectAltNames& sans, const std::string& common_name) {
  auto any = [&](auto&& match) { return std::any_of(patterns.begin(), patterns.end(), match); };
  for (const auto& d : sans.dns)
    if (!any([&](const NamePattern& p) { return p.matches_dns(d); })) return d;
  for (const auto& a : sans.ip)
    if (!any([&](const NamePattern& p) { return p.matches_ip(a); })) return a;
  for (const auto& e : sans.email)
    if (!any([&](const NamePattern& p) { return p.matches_email(e); })) return e;
  for (const auto& u : sans.uri)
    if (!any([&](const NamePattern& p) { return p.matches_uri(u); })) return u;
  if (common_name.empty()) return "";
  auto in = [&](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), common_name) != v.end();
  };
  std::string cn = lower(common_name);
  if (in(sans.dns) || std::find(sans.dns.begin(), sans.dns.end(), cn) != sans.dns.end() ||
      in(sans.ip) || in(sans.email) || in(sans.uri))
    return "";
  bool ok = any([&](const NamePattern& p) {
    return p.matches_dns(cn) || p.matches_ip(common_name) || p.matches_email(common_name) ||
           p.matches_uri(common_name);
  });
  return ok ? "" : common_name;
}

}  // namespace cairn
